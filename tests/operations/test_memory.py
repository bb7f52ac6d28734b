"""Operations stream `_id`s in batches: the Python memory a cleanup or a composed update with
undo data needs does not grow with the number of documents it touches."""

from __future__ import annotations

import datetime as dt
import functools
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from bulkadmin.operations import undo, updates
from bulkadmin.operations.cleanup import Rule, ago, run_cleanup
from project.collections import ApplicationLog, User

pytestmark = pytest.mark.slow

SMALL, LARGE = 2_000, 12_000
BOUND = 300 * 1024  # bytes; holding 10,000 more _ids takes about 1 MB


def seed_logs(db, count: int) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    for start in range(0, count, 5000):
        rows = [
            {"level": "info", "message": f"m{i}", "created_at": old} for i in range(start, min(count, start + 5000))
        ]
        db.application_logs.insert_many(rows)


def seed_users(db, count: int) -> None:
    for start in range(0, count, 5000):
        end = min(count, start + 5000)
        db.users.insert_many([{"name": f"U{i}", "email": f"u{i}@example.com", "age": 20} for i in range(start, end)])


def traced_peak(operation: Callable[[], Any]) -> tuple[int, Any]:
    """The peak of Python allocations while `operation` runs, above what was allocated before."""
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        result = operation()
        return tracemalloc.get_traced_memory()[1] - baseline, result
    finally:
        tracemalloc.stop()


def test_cleanup_memory_does_not_grow_with_the_documents_it_deletes(db):
    rule = Rule("old-logs", ApplicationLog, {"created_at": {"$lt": ago(days=30)}}, "delete")
    peaks = []
    for count in (SMALL, LARGE):
        seed_logs(db, count)
        peak, result = traced_peak(lambda: run_cleanup(rules=[rule], batch_size=500, db=db))
        assert (result.details["rules"][0].matched, result.counts.deleted) == (count, count)
        assert db.application_logs.count_documents({}) == 0
        peaks.append(peak)
    assert peaks[1] - peaks[0] < BOUND, peaks


def test_composed_update_with_undo_memory_does_not_grow_with_the_documents(db):
    # Measures the streaming and the undo data; validating each result with the model is off
    # here: pydantic's model_validate of these documents keeps about 70 bytes per document.
    peaks = []
    for job, count in ((1, SMALL), (2, LARGE)):
        db.users.delete_many({})
        seed_users(db, count)
        update = functools.partial(
            updates.run_update,
            model=User,
            filter={},
            update={"$inc": {"age": 1}},
            validate_results=False,
            batch_size=100,  # three batches are in hand at once: small against the bound
            db=db,
        )
        peak, result = traced_peak(functools.partial(update, undo_key=job))
        assert (result.counts.matched, result.counts.modified, result.details["undo_records"]) == (count, count, count)
        assert db.users.count_documents({"age": 21}) == count
        assert undo.undo_record_count(job, db=db) == count
        peaks.append(peak)
    assert peaks[1] - peaks[0] < BOUND, peaks
