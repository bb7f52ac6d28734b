"""Keyed imports (merge, upsert, delete) dry-run against the real run, on a fresh collection each
time: keys repeated across batches (created, then updated, then unchanged; deleted, then gone),
keys MongoDB holds equal or apart (true is not 1; 1, 1.0, Int64 and Decimal128 are one key;
dates by instant; text exactly), in batches of 1, 2 and all rows. The counts are equal, the
would-be documents' temporary database is closed (and so deleted) when the run ends, even by an
exception, and a batch whose
keys pass the server's 16 MB limit is read in parts, by the dry and the real run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bson import json_util

from bulkadmin.bulk import BulkWriter, bulk_upsert
from bulkadmin.core import scratch
from bulkadmin.core.documents import MongoModel
from bulkadmin.operations.imports import ImportProgress, check_import_options, run_import
from project.collections import User
from tests.hostile.test_hostile_dry_run_insert_keys import Keyed, extended_json, run
from tests.imports.conftest import key_files, write_csv

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed")

# mode, documents stored before, rows of `Keyed` (as extended JSON), the real run's counts
CASES: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]] = {
    "created_updated_unchanged": (
        "merge",
        [],
        [{"k": "a", "v": 1}, {"k": "b", "v": 1}, {"k": "a", "v": 2}, {"k": "a", "v": 2}, {"k": "b", "v": 1}],
        {"inserted": 2, "updated": 1, "unchanged": 2},
    ),
    "true_is_not_1": (
        "merge",
        [],
        [{"k": True, "v": 1}, {"k": 1, "v": 1}, {"k": True, "v": 1}, {"k": 1, "v": 2}, {"k": False, "v": 0}],
        {"inserted": 3, "updated": 1, "unchanged": 1},
    ),
    "numbers_by_value": (
        "merge",
        [],
        [
            {"k": 1, "v": 1},
            {"k": 1.0, "v": 2},
            {"k": {"$numberLong": "1"}, "v": 2},
            {"k": {"$numberDecimal": "1"}, "v": 2},
            {"k": 1, "v": 3},
        ],
        {"inserted": 1, "updated": 3, "unchanged": 1},
    ),
    "stored_numbers_by_value": (
        "merge",
        [{"k": {"$numberDecimal": "2"}, "v": 0}, {"k": True, "v": 0}],
        [{"k": 2, "v": 0}, {"k": 2.0, "v": 1}, {"k": 1, "v": 0}, {"k": True, "v": 0}],
        {"inserted": 1, "updated": 2, "unchanged": 1},
    ),
    "dates_by_instant": (
        "merge",
        [],
        [
            {"k": {"$date": "2020-01-01T00:00:00Z"}, "v": 1},
            {"k": {"$date": "2020-01-01T01:00:00+01:00"}, "v": 2},
            {"k": {"$date": "2020-01-01T00:00:00.001Z"}, "v": 2},
        ],
        {"inserted": 2, "updated": 1},
    ),
    "text_exactly": (
        "merge",
        [],
        [{"k": "a", "v": 1}, {"k": "A", "v": 1}, {"k": "a ", "v": 1}, {"k": "a", "v": 1}, {"k": "é", "v": 1}],
        {"inserted": 4, "unchanged": 1},
    ),
    "replaced_then_unchanged": (
        "upsert",
        [{"k": 1, "v": 0, "w": 1}],
        [{"k": 1.0, "v": 1}, {"k": {"$numberLong": "1"}, "v": 1}, {"k": True, "v": 1}, {"k": True, "v": 1}],
        {"inserted": 1, "updated": 1, "unchanged": 2},
    ),
    "deleted_then_gone": (
        "delete",
        [{"k": "a"}, {"k": 1}, {"k": True}],
        [{"k": "a"}, {"k": 1.0}, {"k": "a"}, {"k": {"$numberDecimal": "1"}}, {"k": True}, {"k": 2}],
        {"deleted": 3, "unchanged": 3},
    ),
}


def counts(result) -> dict[str, int]:
    return {name: result.counts[name] for name in COUNTED}


def stored(db, model: type[MongoModel]) -> list[dict[str, Any]]:
    return list(db[model.collection].find({}, {"_id": 0}).sort("v", 1))


def seed(db, model: type[MongoModel], documents: list[dict[str, Any]]) -> None:
    db.drop_collection(model.collection)
    if documents:
        db[model.collection].insert_many([json_util.loads(json_util.dumps(d)) for d in documents])


def run_with_progress(path: Path, db, progress: Callable[[ImportProgress], None]):
    options = check_import_options(Keyed, source=path, dry_run=True, extended_json=True, mode="merge", batch_size=100)
    errors = path.with_suffix(".errors.csv")
    return run_import(model=Keyed, options=options, db=db, error_file=errors, progress=progress)


@pytest.fixture
def small_cache(monkeypatch) -> None:
    """Would-be documents past 64 KiB go to disk (where `key_files` sees them)."""
    monkeypatch.setattr(scratch, "CACHE_KIB", 64)


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
@pytest.mark.parametrize("case", list(CASES))
def test_a_keyed_dry_run_counts_as_the_real_run(db, tmp_path, case, batch_size):
    mode, before, rows, expected = CASES[case]
    path = extended_json(tmp_path, rows)
    options = {"extended_json": True, "batch_size": batch_size, "mode": mode}
    seed(db, Keyed, before)
    untouched, before = stored(db, Keyed), key_files()
    dry = run(Keyed, path, db, dry_run=True, **options)
    assert stored(db, Keyed) == untouched
    assert key_files() == before
    real = run(Keyed, path, db, dry_run=False, **options)
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), "rows": len(rows), **expected}


def test_the_keys_true_and_1_are_two_documents(db, tmp_path):
    path = extended_json(tmp_path, [{"k": True, "v": 1}, {"k": 1, "v": 2}])
    seed(db, Keyed, [])
    run(Keyed, path, db, dry_run=False, extended_json=True, mode="merge", batch_size=1)
    assert stored(db, Keyed) == [{"k": True, "v": 1}, {"k": 1, "v": 2}]


@pytest.mark.parametrize("error", [None, RuntimeError("stop"), KeyboardInterrupt()], ids=["ends", "error", "ctrl_c"])
def test_the_would_be_database_is_closed_when_the_run_ends_or_raises(db, tmp_path, small_cache, error):
    """300 rows of 1 KB in batches of 100, on 150 keys (created, then updated): past the cache."""
    path = extended_json(tmp_path, [{"k": n % 150, "v": f"{n}{'v' * 1_000}"} for n in range(300)])
    before, seen = key_files(), []

    def progress(update: ImportProgress) -> None:
        seen.append((update.rows, len(key_files()) - len(before)))
        if error is not None and len(seen) == 3:
            raise error

    seed(db, Keyed, [])
    if error is None:
        result = run_with_progress(path, db, progress)
        assert (result.counts["inserted"], result.counts["updated"]) == (150, 150)
    else:
        with pytest.raises(type(error)):
            run_with_progress(path, db, progress)
    assert seen[:3] == [(0, 0), (100, 1), (200, 1)]  # on disk from the first batch
    assert key_files() == before
    assert db[Keyed.collection].count_documents({}) == 0


def test_a_dry_run_session_s_batches_see_its_earlier_writes_until_it_closes(db):
    rows = [{"name": f"U{n}", "email": f"u{n % 2}@example.com", "age": n} for n in range(4)]
    with BulkWriter(User, "upsert", db=db, dry_run=True, key_fields=("email",)) as writer:
        documents = writer.plan_options["would_be"]
        assert not documents.opened  # nothing remembered yet: no database
        first, second = writer.write(rows[:2]), writer.write(rows[2:])
        assert documents.opened
    assert (first.created, first.updated, second.created, second.updated) == (2, 0, 0, 2)
    assert not documents.opened and db.users.count_documents({}) == 0
    result = bulk_upsert(User, rows, key_fields=("email",), dry_run=True, batch_size=1, db=db)
    assert (result.created, result.updated) == (2, 2)


LONG = "u" * 9_000


def long_keys_file(tmp_path: Path) -> Path:
    """2,001 emails of 9,000 characters in one batch (18 MB of keys, more than one read of the
    server may carry), the stored one last, a new row without a name (refused by merge) near the end."""
    rows = [f"User {n},{LONG}{n}@example.com,30" for n in range(1_990)]
    rows += [f",{LONG}nameless@example.com,30"] + [f"User {n},{LONG}{n}@example.com,31" for n in range(9)]
    rows += ["Stored,stored@example.com,41"]
    return write_csv(tmp_path / "long_keys.csv", "name,email,age", rows)


@pytest.mark.parametrize("ordered", [False, True], ids=["unordered", "ordered"])
@pytest.mark.parametrize("mode", ["merge", "upsert"])
def test_a_batch_whose_keys_pass_16_mb_is_read_in_parts(db, tmp_path, mode, ordered):
    path = long_keys_file(tmp_path)
    results = []
    for dry_run in (True, False):
        db.users.delete_many({})
        db.users.insert_one({"name": "Stored", "email": "stored@example.com", "age": 40})
        options = check_import_options(
            User, source=path, mode=mode, key_fields=["email"], batch_size=5_000, stop_on_error=ordered, dry_run=dry_run
        )
        results.append(run_import(model=User, options=options, db=db, error_file=tmp_path / f"{dry_run}.csv"))
    dry, real = results
    read = {"rows": 1_991, "updated": 0} if ordered else {"rows": 2_001, "updated": 10}  # ordered: stops at it
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), "inserted": 1_990, "rejected": 1, **read}
    assert [e.row for e in dry.errors] == [e.row for e in real.errors] == [1_991]
    assert db.users.count_documents({}) == real.counts["inserted"] + 1
