"""Write-concern errors through the bulk service over a real connection: the server's replies to
`w: "majority"` writes carry the `writeConcernError` of a majority that timed out
(`tests/bulk/concern_proxy.py`); the rows are written and every error comes back as sent."""

from __future__ import annotations

import asyncio

import pytest
from pymongo import AsyncMongoClient

from bulkadmin.bulk import BulkWriteError, WriteConcernError, aio, bulk_insert, bulk_update, bulk_upsert
from bulkadmin.bulk.results import Outcome
from bulkadmin.core.mongo import CLIENT_OPTIONS
from bulkadmin.jobs.summaries import summary
from bulkadmin.operations.imports.options import check_import_options
from bulkadmin.operations.imports.pipeline import run_import
from bulkadmin.operations.updates import run_update
from project.collections import User
from tests.bulk.concern_proxy import MAJORITY, majority_timeout
from tests.factories import user, users

ASKED = {"w": "majority", "wtimeout": 100}
TIMED_OUT = WriteConcernError(
    code=64,
    message="waiting for replication timed out",
    code_name="WriteConcernFailed",
    err_info={"wtimeout": True, "writeConcern": {"w": "majority", "wtimeout": 100, "provenance": "clientSupplied"}},
)


def test_every_batch_written_with_a_majority_that_timed_out_brings_back_its_error(db, majority, proxy):
    result = bulk_insert(User, users(5), batch_size=2, raise_on_error=False, db=majority)
    assert (result.rows, result.inserted, result.failed) == (5, 5, 0)
    assert result.write_concern_errors == (TIMED_OUT, TIMED_OUT, TIMED_OUT)
    assert proxy.writes == 3
    assert result.ok is False
    assert db.users.count_documents({}) == 5


def test_bulk_insert_raises_bulk_write_error_whose_details_carry_them(db, majority):
    with pytest.raises(BulkWriteError) as raised:
        bulk_insert(User, users(3), batch_size=2, db=majority)
    details = raised.value.details
    assert details["writeConcernErrors"] == [majority_timeout(ASKED), majority_timeout(ASKED)]
    assert (details["nInserted"], details["writeErrors"]) == (3, [])
    assert sorted(doc["email"] for doc in db.users.find()) == [f"user{n}@example.com" for n in range(3)]


def test_an_ordered_run_stopped_by_a_duplicate_keeps_the_write_concern_errors_of_the_writes_it_made(db, majority):
    rows = [user(0), user(1), user(0, name="Copy"), user(3)]
    result = bulk_insert(User, rows, batch_size=2, raise_on_error=False, db=majority)
    assert (result.inserted, result.failed, result.skipped) == (2, 1, 1)
    assert [(error.index, error.code) for error in result.errors] == [(2, 11000)]
    assert result.write_concern_errors == (TIMED_OUT, TIMED_OUT)
    assert result.details()["writeConcernErrors"] == [majority_timeout(ASKED)] * 2
    assert db.users.count_documents({}) == 2


def test_upserts_and_updates_keep_one_error_per_write_command(db, majority, proxy):
    bulk_insert(User, users(2), db=db)
    rows = [user(0, age=70), user(1), user(2), user(3)]
    result = bulk_upsert(User, rows, batch_size=4, raise_on_error=False, db=majority)
    assert (result.created, result.updated, result.unchanged) == (2, 1, 1)
    assert result.write_concern_errors == (TIMED_OUT, TIMED_OUT)  # pymongo sends the update, then the inserts
    assert proxy.writes == 2
    assert db.users.count_documents({}) == 4

    before = proxy.writes
    update = bulk_update(
        User,
        [{"filter": {"age": {"$gte": 0}}, "update": {"$set": {"status": "inactive"}}}],
        db=majority,
        raise_on_error=False,
    )
    assert (update.matched, update.modified, update.write_concern_errors) == (4, 4, (TIMED_OUT,))
    assert proxy.writes == before + 1


def test_the_async_driver_keeps_them_too(db, proxy):
    async def run():
        client = AsyncMongoClient(proxy.uri(MAJORITY), **CLIENT_OPTIONS)
        try:
            return await aio.bulk_insert(User, users(3), batch_size=2, raise_on_error=False, db=client[db.name])
        finally:
            await client.close()

    result = asyncio.run(run())
    assert (result.inserted, result.write_concern_errors) == (3, (TIMED_OUT, TIMED_OUT))
    assert db.users.count_documents({}) == 3


def test_a_composed_update_is_partial_and_its_summary_names_them(db, majority):
    bulk_insert(User, users(5), db=db)
    result = run_update(
        model=User, filter={"age": {"$lt": 100}}, update={"$set": {"status": "inactive"}}, batch_size=2, db=majority
    )
    assert (result.counts.modified, result.status, result.ok) == (5, Outcome.PARTIAL, False)
    assert result.write_concern_errors == (TIMED_OUT, TIMED_OUT, TIMED_OUT)
    assert summary(result).splitlines()[-1] == (
        "Write concern not met for 3 write(s): code 64 WriteConcernFailed: waiting for replication timed out."
    )
    assert db.users.count_documents({"status": "inactive"}) == 5


def test_an_import_is_partial_and_keeps_the_write_concern_error_of_each_batch(db, majority, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("name,email\n" + "".join(f"User {n},user{n}@example.com\n" for n in range(5)), encoding="utf-8")
    options = check_import_options(User, source=path, mode="insert", batch_size=2)
    result = run_import(model=User, options=options, db=majority)
    assert (result.counts["inserted"], result.status) == (5, Outcome.PARTIAL)
    assert result.write_concern_errors == (TIMED_OUT, TIMED_OUT, TIMED_OUT)
    assert db.users.count_documents({}) == 5
