"""The async twins (`bulkadmin.bulk.aio`) on pymongo's AsyncMongoClient give the sync functions' results."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from pymongo import AsyncMongoClient

from bulkadmin.bulk import BulkWriteError, aio, bulk_insert, bulk_update, bulk_upsert
from bulkadmin.core.mongo import CLIENT_OPTIONS
from project.collections import PageStats, User
from tests.factories import users


def _run_async(db, work):
    async def main():
        host, port = db.client.address
        client = AsyncMongoClient(f"mongodb://{host}:{port}/", **CLIENT_OPTIONS)
        try:
            return await work(client[db.name])
        finally:
            await client.close()

    return asyncio.run(main())


def _comparable(result):
    return replace(
        result,
        batches=(),
        elapsed=0.0,
        upserted_ids={},
        errors=tuple((e.index, e.code, e.field) for e in result.errors),
    )


async def _generate(count):
    for i in range(count):
        yield {"name": f"User {i}", "email": f"user{i}@example.com", "age": 20 + (i % 60)}


def test_async_insert_streams_an_async_generator(db):
    result = _run_async(db, lambda adb: aio.bulk_insert(User, _generate(2500), batch_size=1000, db=adb))
    assert (result.inserted_count, len(result.batches)) == (2500, 3)
    assert db.users.count_documents({}) == 2500


def test_async_twins_give_the_same_results_as_sync(db, mongo_uri, settings):
    data = users(30)
    data[12]["email"] = "user3@example.com"
    data[17]["age"] = "x"
    sync_insert = bulk_insert(User, data, batch_size=7, ordered=False, raise_on_error=False)
    db.users.delete_many({})
    async_insert = _run_async(
        db, lambda adb: aio.bulk_insert(User, data, batch_size=7, ordered=False, raise_on_error=False, db=adb)
    )
    assert _comparable(async_insert) == _comparable(sync_insert)
    assert async_insert.inserted_count == 28

    updates = [{"filter": {"age": {"$lt": 30}}, "update": {"$set": {"status": "young"}}}]
    db.users.update_many({}, {"$set": {"status": "active"}})
    sync_update = bulk_update(User, updates)
    db.users.update_many({}, {"$set": {"status": "active"}})
    async_update = _run_async(db, lambda adb: aio.bulk_update(User, updates, db=adb))
    assert _comparable(async_update) == _comparable(sync_update)

    rows = [
        {"email": "user0@example.com", "age": 77},
        {"email": "new@example.com", "name": "N"},
        {"email": "user1@example.com", "age": 21},
    ]
    expected = bulk_upsert(User, rows, dry_run=True)
    got = _run_async(db, lambda adb: aio.bulk_upsert(User, rows, dry_run=True, db=adb))
    assert _comparable(got) == _comparable(expected)
    assert (got.created, got.updated, got.unchanged) == (1, 1, 1)


def test_async_errors_raise_the_same_bulk_write_error(db):
    data = [*users(5), users(1)[0]]
    with pytest.raises(BulkWriteError) as caught:
        _run_async(db, lambda adb: aio.bulk_insert(User, data, db=adb))
    assert caught.value.details["nInserted"] == 5
    assert [e["index"] for e in caught.value.details["writeErrors"]] == [5]


def test_async_inc_upserts_page_stats(db):
    updates = [{"filter": {"page": "/"}, "update": {"$inc": {"view_count": 2}}, "upsert": True}]
    first = _run_async(db, lambda adb: aio.bulk_update(PageStats, updates, db=adb))
    second = _run_async(db, lambda adb: aio.bulk_update(PageStats, updates, db=adb))
    assert (first.upserted_count, second.modified_count) == (1, 1)
    assert db.page_stats.find_one({"page": "/"})["view_count"] == 4
