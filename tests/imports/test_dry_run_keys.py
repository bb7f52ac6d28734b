"""An insert-mode dry run finds the duplicate keys a real run's unique indexes refuse (repeated in
the file, across batches; already stored; compound keys, null included) in the process, without
writing to the server, and its counts and messages equal the real run's, ordered or not."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.core.documents import MongoModel
from bulkadmin.operations.imports import check_import_options, key_set, run_import
from project.collections import User
from tests.factories import users
from tests.imports.conftest import key_files, user_rows, write_csv

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed")


class Stock(MongoModel):
    """A collection keyed on two fields, the second one optional (a missing one is a null key)."""

    collection = "dry_run_stock"
    key_fields = ("shop", "sku")

    shop: str
    sku: str | None = None
    count: int = 0


def run(model, path, db, *, dry_run, **options):
    checked = check_import_options(model, source=path, dry_run=dry_run, **options)
    return run_import(model=model, options=checked, db=db)


def dry_and_real(model, path, db, **options):
    """The dry run, then the real run, of the same file; the dry run must have stored nothing."""
    before = db[model.collection].count_documents({})
    dry = run(model, path, db, dry_run=True, **options)
    assert db[model.collection].count_documents({}) == before
    return dry, run(model, path, db, dry_run=False, **options)


def counts(result) -> dict[str, int]:
    return {name: result.counts[name] for name in COUNTED}


def messages(result) -> list[tuple[int, str]]:
    return [(error.row, error.message) for error in result.errors]


def repeats_file(tmp_path):
    """60 rows: rows 25 and 47 repeat rows 3 and 12 (in earlier batches of 10), row 48 repeats
    row 41 (the same batch); row 30 is invalid."""
    rows = user_rows(60)
    rows[24] = "Again,user2@example.com,30"
    rows[46] = "Again,user11@example.com,30"
    rows[47] = "Again,user40@example.com,30"
    rows[29] = "Bad,bad@example.com,x"
    return write_csv(tmp_path / "repeats.csv", "name,email,age", rows)


def test_keys_repeated_across_batches_fail_as_in_the_real_run(db, tmp_path):
    dry, real = dry_and_real(User, repeats_file(tmp_path), db, batch_size=10)
    expected = {"rows": 60, "inserted": 56, "rejected": 1, "failed": 3}
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), **expected}
    assert db.users.count_documents({}) == 56
    earlier = "duplicate key (email): earlier in the file"
    assert messages(dry) == [
        (25, earlier),
        (30, "age: Input should be a valid integer, unable to parse string as an integer"),
        (47, earlier),
        (48, earlier),
    ]
    assert [row for row, _ in messages(real)] == [25, 30, 47, 48]


def test_an_ordered_dry_run_stops_at_the_first_key_repeated_in_an_earlier_batch(db, tmp_path):
    rows = user_rows(60)
    rows[34] = "Again,user2@example.com,30"  # row 35, batch 4, repeats row 3
    rows[52] = "Again,user5@example.com,30"  # never reached
    path = write_csv(tmp_path / "ordered.csv", "name,email,age", rows)
    dry, real = dry_and_real(User, path, db, batch_size=10, stop_on_error=True)
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), "rows": 35, "inserted": 34, "failed": 1}
    assert messages(dry) == [(35, "duplicate key (email): earlier in the file")]
    assert dry.details["stopped_at"].row == real.details["stopped_at"].row == 35
    assert db.users.count_documents({}) == 34


def test_keys_already_stored_fail_in_every_batch_ordered_or_not(db, tmp_path):
    bulk_insert(User, users(3, start=100) + users(2, start=500), db=db)
    rows = user_rows(40)
    rows[5], rows[17], rows[33] = (f"Stored {n},user{n}@example.com,40" for n in (100, 102, 500))
    path = write_csv(tmp_path / "stored.csv", "name,email,age", rows)

    dry, real = dry_and_real(User, path, db, batch_size=8)
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), "rows": 40, "inserted": 37, "failed": 3}
    stored = "duplicate key (email): already in the collection"
    assert messages(dry) == [(6, stored), (18, stored), (34, stored)]
    db.users.delete_many({"email": {"$nin": [f"user{n}@example.com" for n in (100, 101, 102, 500, 501)]}})

    dry, real = dry_and_real(User, path, db, batch_size=8, stop_on_error=True)
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), "rows": 6, "inserted": 5, "failed": 1}
    assert messages(dry) == [(6, stored)]


def stock_file(tmp_path, rows=None):
    rows = rows or [
        "s1,a,1",  # stored
        "s1,b,1",
        "s2,a,1",
        "s2,a,2",  # earlier in the file (row 3)
        "s3,a,1",
        "s2,b,1",  # stored
        "s1,b,2",  # earlier in the file (row 2)
        "s3,b,1",
        "s3,a,2",  # earlier in the file (row 5)
        ",a,1",  # no shop: rejected
    ]
    return write_csv(tmp_path / "stock.csv", "shop,sku,count", rows)


def test_compound_keys_count_as_in_the_real_run(db, tmp_path):
    db[Stock.collection].insert_many([{"shop": "s1", "sku": "a", "count": 0}, {"shop": "s2", "sku": "b", "count": 0}])
    dry, real = dry_and_real(Stock, stock_file(tmp_path), db, batch_size=3)
    expected = {"rows": 10, "inserted": 4, "rejected": 1, "failed": 5}
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), **expected}
    stored = "duplicate key (shop, sku): already in the collection"
    earlier = "duplicate key (shop, sku): earlier in the file"
    assert messages(dry) == [
        (1, stored),
        (4, earlier),
        (6, stored),
        (7, earlier),
        (9, earlier),
        (10, "shop: Field required"),
    ]
    added = db[Stock.collection].find({"count": 1}, {"_id": 0, "shop": 1, "sku": 1})
    assert sorted((found["shop"], found["sku"]) for found in added) == [
        ("s1", "b"),
        ("s2", "a"),
        ("s3", "a"),
        ("s3", "b"),
    ]


def test_an_ordered_dry_run_of_compound_keys_stops_where_the_real_run_does(db, tmp_path):
    db[Stock.collection].insert_many([{"shop": "s2", "sku": "b", "count": 0}])
    dry, real = dry_and_real(Stock, stock_file(tmp_path), db, batch_size=3, stop_on_error=True)
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), "rows": 4, "inserted": 3, "failed": 1}
    assert messages(dry) == [(4, "duplicate key (shop, sku): earlier in the file")]


def test_a_compound_key_with_a_null_part_is_a_key_like_any_other(db, tmp_path):
    db[Stock.collection].insert_many([{"shop": "s1", "sku": None, "count": 0}])
    path = stock_file(tmp_path, ["s1,,1", "s3,,1", "s3,,2", "s3,x,1"])  # no sku: null
    dry, real = dry_and_real(Stock, path, db, batch_size=2)
    assert messages(dry) == [
        (1, "duplicate key (shop, sku): already in the collection"),
        (3, "duplicate key (shop, sku): earlier in the file"),
    ]
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), "rows": 4, "inserted": 2, "failed": 2}


def test_a_dry_run_counts_keys_across_batches_as_the_real_run_and_closes_its_key_file(db, tmp_path, monkeypatch):
    bulk_insert(User, users(2, start=55), db=db)
    path = repeats_file(tmp_path)
    before = key_files()
    with monkeypatch.context() as patch:
        patch.setattr(key_set, "_CHUNK", 7)  # a batch's keys in several statements
        dry = run_import(
            model=User,
            options=check_import_options(User, source=path, dry_run=True, batch_size=10),
            error_file=tmp_path / "errors.csv",
            db=db,
        )
        assert key_files() == before
    real = run(User, path, db, dry_run=False, batch_size=10)

    expected = {"rows": 60, "inserted": 54, "rejected": 1, "failed": 5}
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), **expected}
    earlier, stored = "duplicate key (email): earlier in the file", "duplicate key (email): already in the collection"
    duplicates = [(row, message) for row, message in messages(dry) if message.startswith("duplicate")]
    assert duplicates == [(25, earlier), (47, earlier), (48, earlier), (56, stored), (57, stored)]


def test_a_dry_run_creates_no_collection(db, tmp_path):
    bulk_insert(User, users(5), db=db)
    before = sorted(db.list_collection_names())
    during: list[list[str]] = []
    checked = check_import_options(User, source=repeats_file(tmp_path), dry_run=True, batch_size=10)
    result = run_import(
        model=User, options=checked, db=db, progress=lambda _: during.append(sorted(db.list_collection_names()))
    )
    assert result.counts["failed"] == 3 + 5
    assert len(during) == 7 and all(names == before for names in during)
    assert sorted(db.list_collection_names()) == before
