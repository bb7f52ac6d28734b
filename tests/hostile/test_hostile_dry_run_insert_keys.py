"""An insert-mode dry run against the real run, on a fresh collection each time: keys of every
kind the dry run keeps apart or together (numbers of each type, dates with and without a time
zone, text with non-ASCII, lone surrogates, empty, 1 MB long, null and missing), a file's own
`_id` given by some rows only, rows refused by validation whose key a later row takes, a batch
whose keys pass the server's 16 MB limit, ordered or not, in batches of 1, 2 and all rows; and
random files against two unique keys (one compound) and stored documents, with a limit or not.
The same rows are refused, with the same kind of message, and the counts are equal."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from bulkadmin.core.documents import Index, MongoModel
from bulkadmin.operations.imports import check_import_options, run_import
from project.collections import User
from tests.imports.conftest import write_csv

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "rejected", "failed")
MEGABYTE = "x" * (1 << 20)


class Keyed(MongoModel):
    """A collection keyed on a field of any type (a file's extended JSON gives its values)."""

    collection = "hostile_any_keys"
    key_fields = ("k",)

    k: Any = None
    v: Any = None


def oid(number: int) -> dict[str, str]:
    return {"$oid": f"65a0000000000000000000{number:02d}"}


# rows of `Keyed` (as extended JSON), and the rows a real run refuses as duplicates
CASES: dict[str, tuple[list[dict[str, Any]], list[int]]] = {
    "int_double_long": ([{"k": 1}, {"k": 1.0}, {"k": {"$numberLong": "1"}}, {"k": 2}], [2, 3]),
    "negative_zero": ([{"k": 0}, {"k": {"$numberDouble": "-0.0"}}], [2]),
    "text_is_not_a_number": ([{"k": "1"}, {"k": 1}, {"k": "1"}, {"k": 1.5}, {"k": "1.5"}], [3]),
    "dates_by_instant": (
        [{"k": {"$date": "2020-01-01T00:00:00Z"}}, {"k": {"$date": "2020-01-01T01:00:00+01:00"}}],
        [2],
    ),
    "dates_to_the_millisecond": (
        [{"k": {"$date": "2020-01-01T00:00:00.0001Z"}}, {"k": {"$date": "2020-01-01T00:00:00.0002Z"}}],
        [2],
    ),
    "empty_text": ([{"k": ""}, {"k": " "}, {"k": ""}], [3]),
    "null_and_missing": ([{"k": None}, {"v": 1}, {"k": "None"}], [2]),
    "non_ascii": (
        [{"k": "é"}, {"k": "É"}, {"k": "e\u0301"}, {"k": "日本"}, {"k": "😀"}, {"k": "é"}, {"k": "😀"}],
        [6, 7],
    ),
    "lone_surrogates": ([{"k": "a\udc80"}, {"k": "a\udc80"}, {"k": "a\udc81"}, {"k": "a"}, {"k": "a"}], [5]),
    "one_megabyte": ([{"k": MEGABYTE}, {"k": MEGABYTE + "y"}, {"k": MEGABYTE}], [3]),
    "ids_from_some_rows": (
        [{"_id": oid(1), "k": "a"}, {"k": "b"}, {"k": "c"}, {"_id": oid(1), "k": "d"}, {"_id": oid(2), "k": "b"}],
        [4, 5],
    ),
    "refused_row_leaves_its_key": ([{"k": "a", "_id": "not an id"}, {"k": "a"}, {"k": "a"}], [3]),
    "booleans_are_not_numbers": ([{"k": True}, {"k": 1}, {"k": False}, {"k": 0}, {"k": True}], [5]),
    "decimals_by_value": (
        [
            {"k": {"$numberDecimal": "0.1"}},
            {"k": {"$numberDecimal": "0.10"}},
            {"k": {"$numberDecimal": "1"}},
            {"k": 1},
            {"k": {"$numberDecimal": "0.3"}},
            {"k": 0.3},
        ],
        [2, 4],
    ),
    "nan_and_infinities": (  # decimals only: the model refuses a double's NaN and infinities
        [
            {"k": {"$numberDecimal": "NaN"}},
            {"k": {"$numberDecimal": "-NaN"}},
            {"k": {"$numberDecimal": "Infinity"}},
            {"k": {"$numberDecimal": "Inf"}},
            {"k": {"$numberDecimal": "-Infinity"}},
        ],
        [2, 4],
    ),
    "the_dry_run_s_own_placeholder_id": (
        [
            {"_id": {"$oid": "6472792d72756e2d726f7721"}, "k": "a"},
            {"_id": {"$oid": "6472792d72756e2d726f7721"}, "k": "b"},
        ],
        [2],
    ),
}
ORDERED_STOPS_FIRST = {"refused_row_leaves_its_key", "lone_surrogates"}  # row 1 refused by validation


def extended_json(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / f"{uuid.uuid4().hex}.ndjson"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def run(model: type[MongoModel], path: Path, db, *, dry_run: bool, **options: Any):
    checked = check_import_options(model, source=path, dry_run=dry_run, **options)
    return run_import(model=model, options=checked, db=db, error_file=path.with_suffix(f".{dry_run}.errors.csv"))


def outcome(result) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Counts, and each refused row with its message ("duplicate key" for a duplicate: the real
    run cannot tell stored keys from the file's, nor always name the key)."""
    refused = [(error.row, "duplicate key" if error.code == 11000 else error.message) for error in result.errors]
    return {name: result.counts[name] for name in COUNTED}, refused


def dry_and_real(model, path, db, **options):
    db.drop_collection(model.collection)
    dry = run(model, path, db, dry_run=True, **options)
    assert db[model.collection].count_documents({}) == 0
    return outcome(dry), outcome(run(model, path, db, dry_run=False, **options))


@pytest.mark.parametrize("ordered", [False, True], ids=["unordered", "ordered"])
@pytest.mark.parametrize("batch_size", [1, 2, 1000])
@pytest.mark.parametrize("case", list(CASES))
def test_a_dry_run_refuses_the_keys_the_real_run_refuses(db, tmp_path, case, batch_size, ordered):
    rows, duplicates = CASES[case]
    options = {"extended_json": True, "batch_size": batch_size, "stop_on_error": ordered}
    dry, real = dry_and_real(Keyed, extended_json(tmp_path, rows), db, **options)
    assert dry == real
    refused = [row for row, message in real[1] if message == "duplicate key"]
    assert refused == (duplicates if not ordered else [] if case in ORDERED_STOPS_FIRST else duplicates[:1])


def test_a_dry_run_reads_stored_keys_in_parts_when_a_batch_s_keys_pass_16_mb(db, tmp_path):
    """2,001 emails of 9,000 characters in one batch: 18 MB of keys, more than one read of the
    server may carry; the last row's is stored."""
    long = "u" * 9_000
    rows = [f"User {n},{long}{n}@example.com,30" for n in range(2_000)] + ["Stored,stored@example.com,40"]
    path = write_csv(tmp_path / "long_keys.csv", "name,email,age", rows)
    for ordered in (False, True):
        db.users.delete_many({})
        db.users.insert_one({"name": "Stored", "email": "stored@example.com", "age": 40})
        dry = run(User, path, db, dry_run=True, batch_size=5_000, stop_on_error=ordered)
        assert db.users.count_documents({}) == 1
        real = run(User, path, db, dry_run=False, batch_size=5_000, stop_on_error=ordered)
        assert (
            outcome(dry)
            == outcome(real)
            == (
                {"rows": 2_001, "inserted": 2_000, "rejected": 0, "failed": 1},
                [(2_001, "duplicate key")],
            )
        )
        assert [error.message for error in dry.errors] == ["duplicate key (email): already in the collection"]


class TwoKeys(MongoModel):
    """A collection with two unique keys: `a`, and the compound `b, c`."""

    collection = "hostile_two_keys"
    key_fields = ("a",)
    indexes = (Index((("b", 1), ("c", 1)), unique=True),)

    a: Any = None
    b: Any = None
    c: int | None = None
    n: int = 0


def random_row(rng: random.Random) -> dict[str, Any]:
    """A row drawing its keys from few values (numbers of each type, text, null, missing), its
    `_id` sometimes, an invalid field now and then."""
    row: dict[str, Any] = {}
    values = ["x", "y", "é", 1, 1.0, {"$numberLong": "2"}, 2, None]
    if rng.random() < 0.9:
        row["a"] = rng.choice(values)
    if rng.random() < 0.8:
        row["b"] = rng.choice(values[:5])
    if rng.random() < 0.8:
        row["c"] = rng.choice([1, 2, None, "not a number"])
    if rng.random() < 0.2:
        row["_id"] = oid(rng.randint(0, 5))
    if rng.random() < 0.05:
        row["n"] = "not a number"
    return row


@pytest.mark.parametrize("seed", range(30))
def test_a_dry_run_of_random_rows_against_stored_ones_counts_as_the_real_run(db, tmp_path, seed):
    rng = random.Random(seed)
    stored = [random_row(rng) for _ in range(rng.randint(0, 4))]
    rows = [random_row(rng) for _ in range(rng.randint(1, 60))]
    options: dict[str, Any] = {"extended_json": True, "batch_size": rng.choice([1, 2, 3, 7, 100])}
    options["stop_on_error"] = rng.random() < 0.3
    if rng.random() < 0.3:
        options["limit"] = rng.randint(1, len(rows))
    db.drop_collection(TwoKeys.collection)
    if stored:
        run(TwoKeys, extended_json(tmp_path, stored), db, dry_run=False, extended_json=True)
    before = db[TwoKeys.collection].count_documents({})
    path = extended_json(tmp_path, rows)
    dry = outcome(run(TwoKeys, path, db, dry_run=True, **options))
    assert db[TwoKeys.collection].count_documents({}) == before
    assert dry == outcome(run(TwoKeys, path, db, dry_run=False, **options))


def test_a_repeated_id_is_named_as_the_id_in_both_runs(db, tmp_path):
    rows = [{"_id": oid(1), "k": "a"}, {"_id": oid(1), "k": "b"}]
    path = extended_json(tmp_path, rows)
    db.drop_collection(Keyed.collection)
    dry = run(Keyed, path, db, dry_run=True, extended_json=True)
    real = run(Keyed, path, db, dry_run=False, extended_json=True)
    assert [(error.row, error.message) for error in dry.errors] == [(2, "duplicate key (id): earlier in the file")]
    expected = "duplicate key (id): already in the collection or earlier in the file"
    assert [(error.row, error.message) for error in real.errors] == [(2, expected)]
