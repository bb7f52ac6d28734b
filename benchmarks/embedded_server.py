"""Benchmark the embedded development server against plain sqlite3, in the same run.

    python benchmarks/embedded_server.py [--docs N] [--updates U] [--rounds R] [--var-dir DIR]

Starts a private embedded server (or uses `--var-dir`'s) and, in alternating rounds:

1. inserts N small user documents with pymongo's `insert_many` (batches of 1,000) through the
   server, and the same documents as JSON with `sqlite3`'s `executemany` into a table of the
   same shape (id, _id, data) in one transaction per batch; prints docs/s and the ratio;
2. `update_many` of U of them (`$set` of a string and `$inc` of a double), docs/s;
3. `count_documents` with a filter on an unindexed field (`age` range + `status`) over the N
   documents, and its time as a share of the time the N inserts took.

Nothing here asserts; it prints figures to compare with the targets in the README.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bson import ObjectId
from pymongo import MongoClient

from bulkadmin import devserver

BATCH = 1_000


def documents(count: int) -> list[dict]:
    """Small user documents with an ObjectId `_id` each."""
    return [
        {
            "_id": ObjectId(),
            "name": f"User {i}",
            "email": f"user{i}@example.com",
            "age": 18 + i % 70,
            "status": ("active", "inactive", "banned")[i % 3],
            "total_spent": i % 997 * 1.1,
        }
        for i in range(count)
    ]


def insert_through_server(client: MongoClient, docs: list[dict]) -> float:
    collection = client.bench.users
    collection.drop()
    started = time.perf_counter()
    for start in range(0, len(docs), BATCH):
        collection.insert_many([dict(doc) for doc in docs[start : start + BATCH]], ordered=False)
    return time.perf_counter() - started


def insert_with_sqlite(path: Path, docs: list[dict]) -> float:
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, _id TEXT UNIQUE, data TEXT)")
    started = time.perf_counter()
    for start in range(0, len(docs), BATCH):
        rows = [
            (str(doc["_id"]), json.dumps({**doc, "_id": {"$oid": str(doc["_id"])}}))
            for doc in docs[start : start + BATCH]
        ]
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO users (_id, data) VALUES (?, ?)", rows)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def update_many(client: MongoClient, docs: list[dict], count: int) -> float:
    ids = [doc["_id"] for doc in docs[:count]]
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        client.bench.users.update_many(
            {"_id": {"$in": ids[start : start + BATCH]}},
            {"$set": {"status": "gold"}, "$inc": {"total_spent": 0.1}},
        )
    return time.perf_counter() - started


def count_with_filter(client: MongoClient) -> tuple[float, int]:
    started = time.perf_counter()
    found = client.bench.users.count_documents({"age": {"$gte": 30, "$lt": 40}, "status": "active"})
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--var-dir", type=Path, default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        var_dir = options.var_dir or Path(scratch) / "server"
        client = MongoClient(devserver.ensure_running(var_dir).uri, tz_aware=True)
        docs = documents(options.docs)
        updates = min(options.updates, options.docs)
        expected = sum(1 for doc in docs[updates:] if 30 <= doc["age"] < 40 and doc["status"] == "active")
        figures: dict[str, list[float]] = {"server": [], "sqlite": [], "update": [], "count_share": []}
        try:
            for round_number in range(1, options.rounds + 1):
                server = insert_through_server(client, docs)
                plain = insert_with_sqlite(Path(scratch) / "plain.sqlite", docs)
                updated = update_many(client, docs, updates)
                counted, found = count_with_filter(client)
                if found != expected:
                    raise SystemExit(f"count_documents found {found}, expected {expected}")
                figures["server"].append(options.docs / server)
                figures["sqlite"].append(options.docs / plain)
                figures["update"].append(updates / updated)
                figures["count_share"].append(counted / server)
                print(
                    f"round {round_number}: insert_many {options.docs / server:,.0f} docs/s, sqlite3 "
                    f"{options.docs / plain:,.0f} docs/s (ratio {plain / server:.3f}); update_many "
                    f"{figures['update'][-1]:,.0f} docs/s; count_documents {counted * 1000:.0f} ms = "
                    f"{counted / server:.1%} of the inserts ({found:,} found)"
                )
        finally:
            if options.var_dir is None:
                devserver.stop(var_dir)
        median = statistics.median
        print(
            f"median: insert_many / sqlite3 = {median(figures['server']) / median(figures['sqlite']):.3f} "
            f"(target >= 0.2); update_many {median(figures['update']):,.0f} docs/s; "
            f"count_documents {median(figures['count_share']):.1%} of the inserts (target < 2%)"
        )


if __name__ == "__main__":
    main()
