"""An insert-mode dry run counts exactly what the real run does on a file mixing every outcome:
keys already stored, keys repeated in the file (in the same batch, across batches, a repeat of a
repeat), rows the model rejects, rows the model accepts but MongoDB cannot store, and keys of
refused rows used again (the refused row took no key) — with the file's keys spilling to disk."""

from __future__ import annotations

import datetime as dt

import pytest

from bulkadmin.core.documents import MongoModel
from bulkadmin.operations.imports import check_import_options, key_set, run_import
from tests.imports.conftest import write_csv

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed")
ROWS, STORED = 5_000, 300


class Reading(MongoModel):
    """A meter reading keyed on its serial; each value type has values MongoDB refuses."""

    collection = "dry_run_readings"
    key_fields = ("serial",)

    serial: str
    count: int
    level: float
    taken: dt.datetime


def reading_rows() -> list[list[str]]:
    start = dt.datetime(2020, 1, 1)
    rows = [[f"S{n:05d}", str(n), str(n / 10), (start + dt.timedelta(minutes=n)).isoformat()] for n in range(ROWS)]
    for n in range(50):
        rows[4_000 + n][0] = rows[1_000 + n][0]  # earlier in the file, batches before
    for n in range(10):
        rows[2_150 + n][0] = rows[2_140 + n][0]  # earlier in the same batch
    rows[4_100][0] = rows[4_000][0]  # a repeat of a repeat
    for n in range(5):
        rows[500 + n][1] = "x"  # the model rejects these
    rows[600][1] = str(2**63)  # the model accepts these; MongoDB cannot store them
    rows[601][2] = "inf"
    rows[602][2] = "nan"
    rows[603][3] = "9999-12-31T23:59:59-14:00"
    rows[604][1] = str(-(2**63) - 1)
    rows[3_000][0] = rows[600][0]  # refused rows took no key: these are inserted
    rows[3_001][0] = rows[500][0]
    return rows


def run(path, db, *, dry_run, stop_on_error=False):
    options = check_import_options(Reading, source=path, dry_run=dry_run, batch_size=700, stop_on_error=stop_on_error)
    return run_import(model=Reading, options=options, db=db)


def counts(result) -> dict[str, int]:
    return {name: result.counts[name] for name in COUNTED}


def outcomes(result) -> list[tuple[int, str, str | None]]:
    """Each refused row kept: its number, kind and field (a dry run words a duplicate more exactly)."""
    return [(error.row, error.outcome, error.field) for error in result.errors]


@pytest.fixture
def readings_file(tmp_path, monkeypatch):
    monkeypatch.setattr(key_set, "_CHUNK", 100)  # a batch's keys go to the key file in several statements
    rows = reading_rows()
    return write_csv(tmp_path / "readings.csv", "serial,count,level,taken", [",".join(row) for row in rows])


def store_first_readings(db) -> None:
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    db[Reading.collection].insert_many(
        [{"serial": f"S{n:05d}", "count": 0, "level": 0.0, "taken": start} for n in range(STORED)]
    )


@pytest.mark.parametrize("stored", [0, STORED], ids=["empty collection", "keys stored"])
def test_a_dry_run_counts_every_outcome_exactly_as_the_real_run(db, readings_file, stored):
    if stored:
        store_first_readings(db)

    dry = run(readings_file, db, dry_run=True)
    assert db[Reading.collection].count_documents({}) == stored
    real = run(readings_file, db, dry_run=False)

    failed = stored + 50 + 10 + 1
    expected = {"rows": ROWS, "inserted": ROWS - 10 - failed, "rejected": 10, "failed": failed}
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), **expected}
    assert outcomes(dry) == outcomes(real)  # the first 100 refused rows are kept
    rejected = [(row, field) for row, kind, field in outcomes(dry) if kind == "rejected"]
    if not stored:
        assert rejected == [
            *((row, "count") for row in range(501, 506)),
            (601, "count"),
            (602, "level"),
            (603, "level"),
            (604, "taken"),
            (605, "count"),
        ]
    assert db[Reading.collection].count_documents({}) == stored + ROWS - 10 - failed
    assert db[Reading.collection].count_documents({"serial": {"$in": ["S00500", "S00600"]}}) == 2


def test_an_ordered_dry_run_stops_on_the_row_the_real_run_stops_on(db, readings_file):
    store_first_readings(db)
    db[Reading.collection].delete_many({"serial": {"$ne": "S00299"}})

    dry = run(readings_file, db, dry_run=True, stop_on_error=True)
    real = run(readings_file, db, dry_run=False, stop_on_error=True)

    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), "rows": 300, "inserted": 299, "failed": 1}
    assert outcomes(dry) == outcomes(real)
