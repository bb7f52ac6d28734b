"""An insert-mode dry run and the real run refuse the same rows when keys of several BSON types
meet (Extended JSON): `true` is not the key `1`; `1`, `1.0`, `Int64(1)` and `Decimal128("1")`
are one key, stored or earlier in the file, as in MongoDB's unique indexes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bulkadmin.core.documents import MongoModel
from bulkadmin.operations.imports import check_import_options, run_import

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "rejected", "failed")
ONE_AS_EVERY_NUMBER = [1, 1.0, {"$numberLong": "1"}, {"$numberDecimal": "1.0"}, {"$numberDecimal": "1"}]


class Coupon(MongoModel):
    """A collection keyed on a field of any type."""

    collection = "dry_run_typed_keys"
    key_fields = ("k",)

    k: Any = None


def ndjson(path: Path, keys: list[Any]) -> Path:
    path.write_text("".join(json.dumps({"k": key}) + "\n" for key in keys))
    return path


def run(path: Path, db, *, dry_run: bool) -> dict[str, int]:
    options = check_import_options(Coupon, source=path, dry_run=dry_run, extended_json=True, batch_size=2)
    result = run_import(model=Coupon, options=options, db=db)
    return {name: result.counts[name] for name in COUNTED}


def dry_and_real(path: Path, db) -> tuple[dict[str, int], dict[str, int]]:
    before = db[Coupon.collection].count_documents({})
    dry = run(path, db, dry_run=True)
    assert db[Coupon.collection].count_documents({}) == before
    return dry, run(path, db, dry_run=False)


def test_true_and_one_in_one_file_are_both_inserted(db, tmp_path):
    dry, real = dry_and_real(ndjson(tmp_path / "keys.ndjson", [True, 1, False, 0]), db)
    assert dry == real == {"rows": 4, "inserted": 4, "rejected": 0, "failed": 0}


def test_one_as_every_number_type_in_one_file_is_one_key(db, tmp_path):
    dry, real = dry_and_real(ndjson(tmp_path / "keys.ndjson", [True, *ONE_AS_EVERY_NUMBER]), db)
    assert dry == real == {"rows": 6, "inserted": 2, "rejected": 0, "failed": 4}
    assert sorted(map(repr, db[Coupon.collection].distinct("k"))) == ["1", "True"]


def test_a_stored_one_refuses_a_decimal_one_but_not_true(db, tmp_path):
    run(ndjson(tmp_path / "stored.ndjson", [1]), db, dry_run=False)
    dry, real = dry_and_real(
        ndjson(tmp_path / "keys.ndjson", [True, {"$numberDecimal": "1"}, {"$numberLong": "1"}]), db
    )
    assert dry == real == {"rows": 3, "inserted": 1, "rejected": 0, "failed": 2}
    assert db[Coupon.collection].count_documents({}) == 2


def test_a_stored_true_refuses_true_but_not_a_decimal_one(db, tmp_path):
    run(ndjson(tmp_path / "stored.ndjson", [True]), db, dry_run=False)
    dry, real = dry_and_real(ndjson(tmp_path / "keys.ndjson", [{"$numberDecimal": "1"}, True]), db)
    assert dry == real == {"rows": 2, "inserted": 1, "rejected": 0, "failed": 1}
