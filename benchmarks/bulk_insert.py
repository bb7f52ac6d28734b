"""Benchmark the bulk service against raw pymongo on the same server, in the same run.

    python benchmarks/bulk_insert.py [--rows N] [--batch-size B] [--rounds R] [--upsert-rows U] [--baseline-upserts K]

1. Inserts: N generated users streamed through `bulk_insert` (validation on) vs raw
   `insert_many` of the same dicts in batches of the same size into a collection with the same
   indexes, in alternating rounds. Prints docs/s for both, their ratio, and the RSS growth
   during `bulk_insert`.
2. Upserts: against the N-document collection, U rows (half existing, half new) through
   `bulk_upsert` (merge by email) vs `UpdateOne({"email": ...}, {"$set": ...}, upsert=True)` by key
   for K of them (the baseline is slow on servers that scan on non-`_id` filters).
Uses MONGODB_URI when set, else the embedded server; the database `bulkadmin_bench` is dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django

django.setup()

from pymongo import UpdateOne  # noqa: E402

from bulkadmin.bulk import bulk_insert, bulk_upsert  # noqa: E402
from bulkadmin.core.mongo import get_db  # noqa: E402
from bulkadmin.core.registry import ensure_indexes, index_models  # noqa: E402
from project.collections import User  # noqa: E402


def rss_mb() -> float:
    """Current resident set size in MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def users(count: int, start: int = 0) -> Iterator[dict]:
    """Whole user documents, so both sides store the same fields (the model adds none)."""
    for i in range(start, start + count):
        yield {
            "name": f"User {i}",
            "email": f"user{i}@example.com",
            "age": 20 + i % 60,
            "status": "active",
            "tier": None,
            "discount": 0.0,
            "total_spent": i % 997 * 1.5,
            "external_id": None,
            "is_active": True,
            "is_verified": i % 2 == 0,
            "profile": None,
            "tags": [],
            "created_at": CREATED,
            "last_login": CREATED + dt.timedelta(minutes=i),
            "last_sync": None,
            "external_updated_at": None,
        }


def bench_inserts(db, rows: int, batch_size: int, rounds: int) -> None:
    """Alternate rounds of raw and validated inserts so both see the same machine load."""
    baseline = db["baseline_users"]
    baseline.create_indexes(index_models(User))
    ensure_indexes(User, db)
    per_round = rows // rounds
    raw_seconds = ours_seconds = 0.0
    before, peak = rss_mb(), [rss_mb()]
    for number in range(rounds):
        start = number * per_round
        started = time.perf_counter()
        raw_insert(baseline, users(per_round, start), batch_size)
        raw_seconds += time.perf_counter() - started
        result = bulk_insert(
            User, users(per_round, start), batch_size=batch_size, db=db, progress=lambda *_: peak.append(rss_mb())
        )
        ours_seconds += result.elapsed
    total = per_round * rounds
    raw_rate, ours = total / raw_seconds, total / ours_seconds
    print(f"insert  rows={total} batch={batch_size} rounds={rounds} (alternating)")
    print(f"  raw insert_many : {raw_rate:10.0f} docs/s")
    print(f"  bulk_insert     : {ours:10.0f} docs/s  (validated; stored {db['users'].count_documents({})})")
    print(f"  ratio           : {ours / raw_rate:10.3f}")
    print(f"  RSS growth during bulk_insert: {max(peak) - before:.1f} MB (RSS {before:.0f} -> {max(peak):.0f} MB)")


def raw_insert(collection, docs: Iterator[dict], batch_size: int) -> None:
    batch = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == batch_size:
            collection.insert_many(batch)
            batch = []
    if batch:
        collection.insert_many(batch)


def bench_upserts(db, rows: int, upsert_rows: int, baseline_upserts: int) -> None:
    half = upsert_rows // 2
    changed = [{**doc, "age": 99} for doc in users(half, start=rows - half)]
    fresh = list(users(upsert_rows - half, start=rows + 1_000_000))
    started = time.perf_counter()
    result = bulk_upsert(User, changed + fresh, db=db, batch_size=1000)
    ours = upsert_rows / (time.perf_counter() - started)

    requests = [
        UpdateOne({"email": d["email"]}, {"$set": {**d, "age": 98}}, upsert=True) for d in changed[:baseline_upserts]
    ]
    started = time.perf_counter()
    db["users"].bulk_write(requests, ordered=False)
    raw_rate = len(requests) / (time.perf_counter() - started)
    print(f"upsert  against {rows} docs: {upsert_rows} rows, half existing")
    print(f"  UpdateOne(upsert) by key : {raw_rate:10.1f} ops/s  ({len(requests)} ops)")
    print(f"  bulk_upsert (merge)      : {ours:10.1f} rows/s  (created {result.created}, updated {result.updated})")
    print(f"  ratio                    : {ours / raw_rate:10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10, help="alternating raw / bulk_insert rounds")
    parser.add_argument("--upsert-rows", type=int, default=2000)
    parser.add_argument("--baseline-upserts", type=int, default=200)
    parser.add_argument("--skip-upserts", action="store_true")
    args = parser.parse_args()
    db = get_db("bulkadmin_bench")
    db.client.drop_database(db.name)
    try:
        bench_inserts(db, args.rows, args.batch_size, args.rounds)
        if not args.skip_upserts:
            bench_upserts(db, args.rows, args.upsert_rows, args.baseline_upserts)
    finally:
        db.client.drop_database(db.name)
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
