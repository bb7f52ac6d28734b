"""Cost of undo data: a composed bulk update (batches read by `_id` range, one ahead; results
validated; pre-images saved and writes by `_id` in a writer thread) against one plain
`update_many` through the bulk service, on the same documents in one process. Rounds alternate
plain and composed so both see the same load; the ratio is of the medians (composed docs/s over
plain docs/s; the target is at least 0.5).

    python benchmarks/bulk_update_undo.py [--docs 10000] [--rounds 3] [--batch-size 2000] [--no-validation]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from pymongo.database import Database  # noqa: E402

from bulkadmin.bulk import bulk_insert, bulk_update  # noqa: E402
from bulkadmin.core.batch_sizes import UPDATE_BATCH_SIZE  # noqa: E402
from bulkadmin.core.mongo import get_db  # noqa: E402
from bulkadmin.core.streams import matching_batches  # noqa: E402
from bulkadmin.operations import undo_batches, updates  # noqa: E402
from project.collections import User  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000, help="documents to update (default: %(default)s)")
    parser.add_argument("--phases", action="store_true", help="also time each server step of a composed update alone")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=UPDATE_BATCH_SIZE, help="batch size (default: %(default)s)")
    parser.add_argument(
        "--no-validation", action="store_true", help="don't validate each result with the model (undo data only)"
    )
    options = parser.parse_args()
    settings.MONGODB_DB = f"bench_{uuid.uuid4().hex[:8]}"
    db = get_db()
    try:
        rows = ({"name": f"U{i}", "email": f"u{i}@example.com", "age": i % 90} for i in range(options.docs))
        bulk_insert(User, rows, db=db, batch_size=1000)
        plain: list[float] = []
        composed: list[float] = []
        for number in range(1, options.rounds + 1):
            plain.append(_timed(lambda: bulk_update(User, [{"filter": {}, "update": {"$inc": {"age": 1}}}], db=db)))
            composed.append(_timed(partial(_composed, number, options, db)))
        print(f"documents: {options.docs}, batch size {options.batch_size}, rounds {options.rounds}")
        print("plain update_many:        " + _rates(plain, options.docs))
        print("composed, with undo data: " + _rates(composed, options.docs))
        ratio = statistics.median(plain) / statistics.median(composed)
        print(f"ratio composed / plain (docs/s, medians): {ratio:.2f}")
        if options.phases:
            _phases(options, db, statistics.median(plain))
    finally:
        db.client.drop_database(db.name)


def _composed(round_number: int, options: argparse.Namespace, db: Database) -> None:
    outcome = updates.run_update(
        model=User,
        filter={},
        update={"$inc": {"age": 1}},
        undo_key=round_number,
        batch_size=options.batch_size,
        validate_results=not options.no_validation,
        db=db,
    )
    assert outcome.details["undo_records"] == options.docs and outcome.counts["modified"] == options.docs


def _phases(options: argparse.Namespace, db: Database, plain: float) -> None:
    """The server's share: each step of a composed update alone, on the same documents."""
    collection = db[User.collection]
    batches = list(matching_batches(collection, {}, options.batch_size, fields=None))
    steps = {
        "read the batches by _id range": lambda: sum(
            1 for _ in matching_batches(collection, {}, options.batch_size, fields=None)
        ),
        "update_many by _id $in, per batch": lambda: [
            collection.update_many({"_id": {"$in": [doc["_id"] for doc in batch]}}, {"$inc": {"age": 1}})
            for batch in batches
        ],
        "save the pre-images, per batch": lambda: [
            undo_batches.save_batch(job=0, target=User.collection, documents=batch, after=None, db=db)
            for batch in batches
        ],
    }
    total = 0.0
    for name, step in steps.items():
        seconds = _timed(step)
        total += seconds
        print(f"  {name:36s} {seconds:6.2f} s  {options.docs / seconds:9,.0f} docs/s")
    print(f"  these steps one after another, with no work in this process: ratio {plain / total:.2f}")
    print("  (a run reads the next batch and writes the previous one while it validates, so it can do better)")


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _rates(seconds: list[float], docs: int) -> str:
    rates = ", ".join(f"{docs / value:,.0f}" for value in seconds)
    return f"median {docs / statistics.median(seconds):9,.0f} docs/s  (rounds: {rates})"


if __name__ == "__main__":
    main()
