"""One bad value rejects its row, never its batch: dates out of range, integers beyond int64,
deep nesting, lone surrogates, NaN / Infinity, and anything else the driver refuses for one
document (found by splitting the batch)."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from bulkadmin.bulk import aio, bulk_insert, bulk_update, bulk_upsert
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.mongo import CLIENT_OPTIONS
from bulkadmin.core.storable import MAX_DEPTH
from project.collections import User
from tests.factories import user, users

ROWS, BAD = 5000, 2500


class Blob(MongoModel):
    """Free-form data, to reach values a typed model would never let through."""

    collection = "blobs"

    data: dict[str, Any] = {}


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


BAD_USERS = {
    "date after 9999 in UTC": ({"created_at": "9999-12-31T23:59:59-14:00"}, "created_at"),
    "date before year 1 in UTC": ({"last_login": "0001-01-01T00:00:00+14:00"}, "last_login"),
    "integer beyond int64": ({"external_id": 2**63}, "external_id"),
    "negative integer beyond int64": ({"external_id": -(2**63) - 1}, "external_id"),
    "lone surrogate": ({"name": "J\udc80rg"}, "name"),
    "infinity": ({"total_spent": math.inf}, "total_spent"),
    "lone surrogate in a list": ({"tags": ["ok", "\ud800"]}, "tags.1"),
}


@pytest.mark.parametrize("case", BAD_USERS, ids=list(BAD_USERS))
def test_a_bad_value_rejects_its_row_and_the_batch_is_written(db, case):
    fields, field = BAD_USERS[case]
    rows = users(ROWS)
    rows[BAD].update(fields)
    result = bulk_insert(User, rows, ordered=False, raise_on_error=False)
    assert (result.inserted, result.failed, result.rows) == (ROWS - 1, 1, ROWS)
    [error] = result.errors
    assert (error.index, error.code, error.field) == (BAD, 121, field)
    assert db.users.count_documents({}) == ROWS - 1
    assert db.users.count_documents({"email": f"user{BAD}@example.com"}) == 0


def test_nesting_deeper_than_the_limit_is_the_rows_rejection(db):
    rows = [{"data": {"i": number}} for number in range(ROWS)]
    rows[BAD] = {"data": _nested(5000)}
    rows[BAD + 1] = {"data": _nested(MAX_DEPTH - 1)}  # with the document itself: exactly the limit
    result = bulk_insert(Blob, rows, ordered=False, raise_on_error=False)
    assert (result.inserted, result.failed) == (ROWS - 1, 1)
    [error] = result.errors
    assert (error.index, error.code) == (BAD, 121)
    assert error.field.startswith("data.n.n.")
    assert "nested deeper than 100 levels" in error.message
    assert db.blobs.count_documents({}) == ROWS - 1


def test_nan_in_free_form_data_is_rejected_with_its_path(db):
    rows = [{"data": {"i": number}} for number in range(10)]
    rows[4] = {"data": {"scores": [1.0, math.nan]}}
    result = bulk_insert(Blob, rows, ordered=False, raise_on_error=False)
    assert [(e.index, e.field) for e in result.errors] == [(4, "data.scores.1")]
    assert db.blobs.count_documents({}) == 9


def test_ordered_run_stops_at_the_bad_row_and_counts_the_rest_skipped(db):
    rows = users(ROWS)
    rows[BAD]["external_id"] = 2**64
    result = bulk_insert(User, rows, raise_on_error=False)
    assert (result.inserted, result.failed, result.skipped) == (BAD, 1, ROWS - BAD - 1)
    assert db.users.count_documents({}) == BAD


def test_a_row_the_driver_refuses_is_found_by_splitting_the_batch(db):
    """A NUL byte in a key passes validation (free-form data) but cannot be encoded: the batch is
    split until that row is alone; the others are written and it fails with the driver's reason."""
    rows = [{"data": {"i": number}} for number in range(ROWS)]
    rows[BAD] = {"data": {"a\x00b": 1}}
    result = bulk_insert(Blob, rows, ordered=False, raise_on_error=False)
    assert (result.inserted, result.failed, result.rows) == (ROWS - 1, 1, ROWS)
    [error] = result.errors
    assert (error.index, error.code, error.kind) == (BAD, 2, "write")
    assert "NULL byte" in error.message
    assert db.blobs.count_documents({}) == ROWS - 1
    assert result.details()["nInserted"] == ROWS - 1


def test_split_batch_keeps_ordered_semantics(db):
    rows = [{"data": {"i": number}} for number in range(ROWS)]
    rows[BAD] = {"data": {"a\x00b": 1}}
    rows[BAD + 10] = {"data": {"c\x00d": 1}}
    result = bulk_insert(Blob, rows, batch_size=1000, raise_on_error=False)
    assert (result.inserted, result.failed, result.skipped) == (BAD, 1, ROWS - BAD - 1)
    assert [e.index for e in result.errors] == [BAD]
    assert db.blobs.count_documents({}) == BAD


def test_async_split_batch_writes_the_other_rows(db):
    rows = [{"data": {"i": number}} for number in range(50)]
    rows[17] = {"data": {"a\x00b": 1}}

    async def run():
        host, port = db.client.address
        client = AsyncMongoClient(f"mongodb://{host}:{port}/", **CLIENT_OPTIONS)
        try:
            return await aio.bulk_insert(Blob, rows, ordered=False, raise_on_error=False, db=client[db.name])
        finally:
            await client.close()

    result = asyncio.run(run())
    assert (result.inserted, [e.index for e in result.errors]) == (49, [17])
    assert db.blobs.count_documents({}) == 49


def test_update_and_filter_values_beyond_int64_reject_only_their_spec(db):
    bulk_insert(User, [user(1), user(2)])
    specs = [
        {"filter": {"email": "user1@example.com"}, "update": {"$set": {"external_id": 2**64}}},
        {"filter": {"external_id": 2**70}, "update": {"$set": {"age": 1}}},
        {"filter": {"email": "user2@example.com"}, "update": {"$set": {"last_login": "9999-12-31T23:59:59-14:00"}}},
        {"filter": {"email": "user2@example.com"}, "update": {"$set": {"age": 99}}},
    ]
    result = bulk_update(User, specs, ordered=False, raise_on_error=False)
    assert [e.index for e in result.errors] == [0, 1, 2]
    assert result.errors[0].field == "external_id"
    assert result.modified == 1
    assert db.users.find_one({"email": "user2@example.com"})["age"] == 99
    assert db.users.find_one({"email": "user1@example.com"}).get("external_id") is None


def test_filter_nested_deeper_than_the_limit_is_rejected(db):
    deep: dict[str, Any] = {"email": "x@example.com"}
    for _ in range(500):
        deep = {"$and": [deep]}
    result = bulk_update(User, [{"filter": deep, "update": {"$set": {"age": 1}}}], raise_on_error=False)
    assert "nested deeper than 100 levels" in result.errors[0].message


def test_merge_upsert_with_a_date_out_of_range_rejects_its_row(db):
    bulk_insert(User, [user(1), user(2)])
    rows = [
        {"email": "user1@example.com", "last_login": "9999-12-31T23:59:59-14:00"},
        {"email": "user2@example.com", "last_login": "2026-01-01T00:00:00Z"},
    ]
    result = bulk_upsert(User, rows, ordered=False, raise_on_error=False)
    assert [(e.index, e.field) for e in result.errors] == [(0, "last_login")]
    assert result.updated == 1
    assert db.users.find_one({"email": "user2@example.com"})["last_login"] == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
