"""`ordered=True` is MongoDB's ordered: nothing after the first failed row is written, validated as
failed or counted failed, and the counts do not depend on `batch_size`."""

from __future__ import annotations

import asyncio

import pytest
from pymongo import AsyncMongoClient

from bulkadmin.bulk import aio, bulk_insert, bulk_upsert, bulk_write
from bulkadmin.core.mongo import CLIENT_OPTIONS
from project.collections import User
from tests.factories import user

BATCH_SIZES = [1, 2, 3, 4, 5, 1000]


def _dup_then_invalid() -> list[dict]:
    return [user(0), user(1), user(0, name="Copy"), user(3, age="x"), user(4)]


def _counts(result) -> tuple[int, int, int, int]:
    return result.inserted, result.failed, result.skipped, result.rows


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_invalid_row_after_a_failed_write_is_skipped_not_failed(db, batch_size):
    result = bulk_insert(User, _dup_then_invalid(), batch_size=batch_size, raise_on_error=False)
    assert _counts(result) == (2, 1, 2, 5)
    assert [(e["index"], e["code"]) for e in result.details()["writeErrors"]] == [(2, 11000)]
    assert sorted(d["email"] for d in db.users.find()) == ["user0@example.com", "user1@example.com"]


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_async_ordered_counts_match_for_every_batch_size(db, batch_size):
    async def run():
        host, port = db.client.address
        client = AsyncMongoClient(f"mongodb://{host}:{port}/", **CLIENT_OPTIONS)
        try:
            data = _dup_then_invalid()
            return await aio.bulk_insert(User, data, batch_size=batch_size, raise_on_error=False, db=client[db.name])
        finally:
            await client.close()

    result = asyncio.run(run())
    assert _counts(result) == (2, 1, 2, 5)
    assert [e.index for e in result.errors] == [2]
    assert db.users.count_documents({}) == 2


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_validation_failure_before_any_write_error_is_the_first_failure(db, batch_size):
    data = [user(0), user(1, age="x"), user(0, name="Copy"), user(3)]
    result = bulk_insert(User, data, batch_size=batch_size, raise_on_error=False)
    assert _counts(result) == (1, 1, 2, 4)
    assert [(e.index, e.code, e.field) for e in result.errors] == [(1, 121, "age")]
    assert db.users.count_documents({}) == 1


def _rows_after_a_generator() -> object:
    yield from [user(0), user(0), user(2), user(3), user(4), user(5), user(6)]


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_rows_never_read_by_a_stopped_run_are_counted_skipped(db, batch_size):
    result = bulk_insert(User, _rows_after_a_generator(), batch_size=batch_size, raise_on_error=False)
    assert _counts(result) == (1, 1, 5, 7)
    assert result.rows == result.inserted + result.failed + result.skipped


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_mixed_write_stops_at_the_duplicate_not_the_bad_spec_after_it(db, batch_size):
    operations = [
        {"insert_one": {"document": user(0)}},
        {"insert_one": {"document": user(0, name="Copy")}},
        {"update_one": {"filter": {"email": "user0@example.com"}, "update": {"$set": {"age": "old"}}}},
        {"insert_one": {"document": user(3)}},
    ]
    result = bulk_write(User, operations, batch_size=batch_size, raise_on_error=False)
    assert (result.inserted, result.failed, result.skipped) == (1, 1, 2)
    assert [(e.index, e.code) for e in result.errors] == [(1, 11000)]
    assert db.users.count_documents({}) == 1
    assert db.users.find_one()["age"] == 20


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_upsert_rows_after_a_failed_write_are_skipped_even_when_unchanged(db, batch_size):
    bulk_insert(User, [user(1, external_id=1), user(2, external_id=2), user(3, external_id=3)])
    rows = [
        {"external_id": 1, "email": "user2@example.com"},  # the unique email is taken: the write fails
        {"external_id": 3, "email": "user3@example.com"},  # unchanged
        {"external_id": 4, "name": "Four", "email": "four@example.com", "age": "x"},  # invalid
        {"external_id": 5, "name": "Five", "email": "five@example.com"},  # new
    ]
    result = bulk_upsert(User, rows, key_fields=["external_id"], batch_size=batch_size, raise_on_error=False)
    assert (result.updated, result.unchanged, result.created, result.failed, result.skipped) == (0, 0, 0, 1, 3)
    assert [(e.index, e.code) for e in result.errors] == [(0, 11000)]
    assert db.users.count_documents({}) == 3
    assert db.users.find_one({"external_id": 1})["email"] == "user1@example.com"
