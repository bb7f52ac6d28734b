"""Pipelined composed updates and deletes under attack: a cancel at every batch boundary, the
undo limit crossed in the first, a middle or the last batch, a write failing mid-run, an
exception in validation mid-run, other clients writing between a batch's read and its write,
old-format undo records, and the web job path with tiny batches. Counts are exact, MongoDB
holds exactly what was written, undo restores exactly that, and no thread is left behind."""

from __future__ import annotations

import threading
import zlib
from typing import Any

import pytest
from bson import Binary, ObjectId, decode_all, encode
from django.contrib.auth.models import User as StaffUser
from pydantic import Field, field_validator

from bulkadmin.bulk import bulk_insert
from bulkadmin.core.documents import MongoModel
from bulkadmin.models import Job
from bulkadmin.operations import undo, undo_batches, updates
from bulkadmin.operations.progress import Cancelled
from project.collections import User
from tests.factories import users
from tests.hostile.test_hostile_id_batches import Item, stored
from tests.web.helpers import compose_data, confirm_data

pytestmark = pytest.mark.django_db

COUNT, BATCH = 10, 3  # four batches: 3, 3, 3, 1
PIPELINE_THREADS = ("read-ahead", "bulkadmin-writer")


def seed(db, count: int = COUNT, **fields: Any) -> list[ObjectId]:
    ids = sorted(ObjectId() for _ in range(count))
    db.items.insert_many(
        [{"_id": oid, "n": number, "status": f"s{number}", **fields} for number, oid in enumerate(ids)]
    )
    return ids


def pipeline_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith(PIPELINE_THREADS)]


def cancel_at(call: int, calls: list[int] | None = None):
    """A progress callback that raises `Cancelled` on its `call`-th call (0: the first)."""
    seen = calls if calls is not None else []

    def progress(done: int, total: int | None = None) -> None:
        seen.append(done)
        if len(seen) == call + 1:
            raise Cancelled(f"stop after {done}")

    return progress


def cancelled_update(
    db, *, undo_key: int, at: int, update: dict[str, Any] | None = None, undo_limit: int = undo.UNDO_LIMIT
) -> Any:
    """The partial result of a composed update of the items (batches of `BATCH`) cancelled at
    its `at`-th progress report (see `cancel_at`)."""
    with pytest.raises(Cancelled) as stop:
        updates.run_update(
            model=Item, filter={}, update=update or {"$inc": {"n": 1}}, undo_key=undo_key, batch_size=BATCH,
            progress=cancel_at(at), undo_limit=undo_limit, db=db,
        )  # fmt: skip
    return stop.value.result


def undo_records(db, job: int) -> list[dict[str, Any]]:
    return list(db.bulkadmin_undo.find({"job": job}))


@pytest.mark.parametrize("call", [1, 2, 3, 4])
def test_a_cancel_at_each_batch_boundary_writes_counts_and_undoes_exactly_the_batches_before(db, call):
    seed(db)
    before = stored(db)
    written = min(call * BATCH, COUNT)
    partial = cancelled_update(db, undo_key=40, at=call)
    assert (partial.rows, partial.counts.matched, partial.counts.modified, partial.counts["rejected"]) == (
        written,
    ) * 3 + (0,)
    assert (partial.details["undo_records"], partial.details["undo_available"]) == (written, True)
    assert len(partial.batches) == call
    assert sorted(doc["n"] for doc in db.items.find()) == sorted([*range(1, written + 1), *range(written, COUNT)])
    assert undo.undo_record_count(40, db=db) == written
    restored = undo.undo_job_writes(model=Item, job=40, db=db)
    assert (restored.details["restored"], restored.counts.unchanged, restored.error_count) == (written, 0, 0)
    assert stored(db) == before
    assert pipeline_threads() == []


def test_a_cancel_before_the_first_batch_writes_nothing(db):
    seed(db)
    before = stored(db)
    partial = cancelled_update(db, undo_key=41, at=0)
    assert (
        partial.rows,
        partial.counts.modified,
        partial.details["undo_records"],
        partial.details["undo_available"],
    ) == (0, 0, 0, False)
    assert stored(db) == before
    assert undo_records(db, 41) == []


@pytest.mark.parametrize("call", [1, 2, 3, 4])
def test_a_cancelled_delete_deletes_and_restores_exactly_the_batches_before(db, call):
    seed(db)
    before = stored(db)
    written = min(call * BATCH, COUNT)
    with pytest.raises(Cancelled) as stop:
        updates.run_delete(model=Item, filter={}, undo_key=42, batch_size=BATCH, progress=cancel_at(call), db=db)
    partial = stop.value.result
    assert (partial.rows, partial.counts.deleted, partial.details["undo_records"]) == (written, written, written)
    assert db.items.count_documents({}) == COUNT - written
    restored = undo.undo_job_writes(model=Item, job=42, db=db)
    assert (restored.details["restored"], restored.error_count) == (written, 0)
    assert stored(db) == before


@pytest.mark.parametrize("call", [1, 2, 3, 4])
def test_a_cancel_counts_the_rejected_rows_of_the_written_batches_only(db, call):
    ids = seed(db)
    over = [ids[1], ids[4], ids[7], ids[9]]  # one in each batch
    db.items.update_many({"_id": {"$in": over}}, {"$set": {"n": 95}})
    before = stored(db)
    read = min(call * BATCH, COUNT)
    partial = cancelled_update(db, undo_key=43, at=call, update={"$inc": {"n": 10}})
    assert (partial.rows, partial.counts.modified, partial.counts["rejected"]) == (read, read - call, call)
    assert [error.index for error in partial.errors] == [1, 4, 7, 9][:call]
    assert db.items.count_documents({"n": {"$gte": 10, "$lt": 95}}) == read - call
    assert db.items.count_documents({"n": 95}) == 4
    assert undo.undo_record_count(43, db=db) == read - call
    restored = undo.undo_job_writes(model=Item, job=43, db=db)
    assert (restored.details["restored"], restored.error_count) == (read - call, 0)
    assert stored(db) == before


@pytest.mark.parametrize("limit", [2, 3, 5, 9])  # crossed by the first, second, second, last batch
def test_the_undo_limit_crossed_in_any_batch_leaves_no_undo_record(db, limit):
    seed(db)
    update = {"$inc": {"n": 1}}
    outcome = updates.run_update(
        model=Item, filter={}, update=update, undo_key=44, batch_size=BATCH, undo_limit=limit, db=db
    )
    assert (outcome.rows, outcome.counts.matched, outcome.counts.modified) == (COUNT, COUNT, COUNT)
    assert (outcome.details["undo_records"], outcome.details["undo_available"]) == (0, False)
    assert undo_records(db, 44) == []
    assert sorted(doc["n"] for doc in db.items.find()) == list(range(1, COUNT + 1))
    assert pipeline_threads() == []


def test_a_delete_over_the_undo_limit_in_its_last_batch_leaves_no_undo_record(db):
    seed(db)
    outcome = updates.run_delete(model=Item, filter={}, undo_key=45, batch_size=BATCH, undo_limit=COUNT - 1, db=db)
    assert (
        outcome.rows,
        outcome.counts.deleted,
        outcome.details["undo_records"],
        outcome.details["undo_available"],
    ) == (COUNT, COUNT, 0, False)
    assert undo_records(db, 45) == [] and db.items.count_documents({}) == 0


def test_a_cancel_just_before_the_batch_over_the_undo_limit_keeps_the_undo_data(db):
    seed(db)
    before = stored(db)
    partial = cancelled_update(db, undo_key=46, at=1, undo_limit=5)
    assert (
        partial.rows,
        partial.counts.modified,
        partial.details["undo_records"],
        partial.details["undo_available"],
    ) == (3, 3, 3, True)
    assert undo.undo_job_writes(model=Item, job=46, db=db).details["restored"] == 3
    assert stored(db) == before


def test_a_cancel_just_after_the_batch_over_the_undo_limit_has_no_undo_data(db):
    seed(db)
    partial = cancelled_update(db, undo_key=47, at=2, undo_limit=5)
    assert (
        partial.rows,
        partial.counts.modified,
        partial.details["undo_records"],
        partial.details["undo_available"],
    ) == (6, 6, 0, False)
    assert undo_records(db, 47) == []
    assert sorted(doc["n"] for doc in db.items.find()) == [*range(1, 7), 6, 7, 8, 9]


def test_a_write_failing_on_a_unique_index_mid_run_is_counted_and_undone_without_conflicts(db):
    seed(db)
    db.items.create_index("status", unique=True)
    before = stored(db)
    outcome = updates.run_update(
        model=Item, filter={}, update={"$set": {"status": "same"}}, undo_key=48, batch_size=BATCH, db=db
    )
    assert db.items.count_documents({"status": "same"}) == 1  # the first document; every other write fails
    assert outcome.rows == COUNT  # (how many a failed write modified is the server's count)
    assert len(outcome.errors) == 4  # each batch's write failed
    assert [error.index for error in outcome.errors] == [0, 3, 6, 9]
    assert all("duplicate" in error.message.lower() or "unique" in error.message.lower() for error in outcome.errors)
    assert undo.undo_record_count(48, db=db) == COUNT
    restored = undo.undo_job_writes(model=Item, job=48, db=db)
    assert (restored.details["restored"], restored.counts.unchanged, restored.error_count) == (1, COUNT - 1, 0)
    assert stored(db) == before
    assert pipeline_threads() == []


class Fragile(MongoModel):
    """Items whose validation breaks (not a validation error) for `n` 7."""

    collection = "items"

    id: Any = Field(alias="_id")
    n: int = 0
    status: str = "new"

    @field_validator("n")
    @classmethod
    def _breaks_on_seven(cls, value: int) -> int:
        if value == 7:
            raise RuntimeError("validator crashed")
        return value


def test_an_exception_in_validation_mid_run_stops_after_the_written_batches_and_leaves_no_thread(db):
    seed(db)
    before = stored(db)
    calls: list[int] = []
    with pytest.raises(RuntimeError, match="validator crashed"):
        updates.run_update(
            model=Fragile,
            filter={},
            update={"$inc": {"n": 1}},
            undo_key=49,
            batch_size=BATCH,
            progress=lambda done, total: calls.append(done),
            db=db,
        )  # fmt: skip  n 6 becomes 7 in the third batch
    assert calls == [0, 3, 6]  # the two written batches were counted
    assert sorted(doc["n"] for doc in db.items.find()) == [*range(1, 7), 6, 7, 8, 9]
    assert undo.undo_record_count(49, db=db) == 6
    assert undo.undo_job_writes(model=Item, job=49, db=db).details["restored"] == 6
    assert stored(db) == before
    assert pipeline_threads() == []


def test_documents_deleted_by_another_client_after_the_read_ahead_are_not_written(db):
    ids = seed(db)

    def meddle(done: int, total: int | None = None) -> None:
        if done == BATCH:  # the second batch is read, the third perhaps too
            db.items.delete_many({"_id": {"$gt": ids[5]}})

    outcome = updates.run_update(
        model=Item, filter={}, update={"$inc": {"n": 1}}, undo_key=50, batch_size=BATCH, progress=meddle, db=db
    )
    assert (outcome.counts.matched, outcome.counts.modified) == (6, 6)
    assert outcome.rows in (6, 9)  # the third batch's rows when it was read before the delete
    assert sorted(doc["n"] for doc in db.items.find()) == list(range(1, 7))
    restored = undo.undo_job_writes(model=Item, job=50, db=db)
    assert (restored.details["restored"], restored.error_count) == (
        6,
        outcome.rows - 6,
    )  # the deleted ones are left gone
    assert sorted(doc["n"] for doc in db.items.find()) == list(range(6))
    assert pipeline_threads() == []


def test_a_document_changed_by_another_client_after_its_read_is_written_and_undo_leaves_it(db):
    ids = seed(db)

    def meddle(done: int, total: int | None = None) -> None:
        if done == BATCH:  # the second batch (ids 3..5) is read, not yet written
            db.items.update_one({"_id": ids[4]}, {"$set": {"n": 50}})
            db.items.delete_one({"_id": ids[5]})
            db.items.insert_one({"_id": ObjectId(), "n": 70})  # above every _id: read later

    outcome = updates.run_update(
        model=Item, filter={}, update={"$inc": {"n": 1}}, undo_key=51, batch_size=BATCH, progress=meddle, db=db
    )
    assert (outcome.rows, outcome.counts.matched, outcome.counts.modified) == (COUNT + 1, COUNT, COUNT)
    assert db.items.find_one({"_id": ids[4]})["n"] == 51  # written as found at the write
    assert db.items.find_one({"_id": ids[5]}) is None
    restored = undo.undo_job_writes(model=Item, job=51, db=db)
    # the changed and the deleted document differ from what the job left: not overwritten
    assert (restored.details["restored"], restored.error_count) == (COUNT - 1, 2)
    assert sorted(restored.details["conflicts"]) == sorted([str(ids[4]), str(ids[5])])
    assert db.items.find_one({"_id": ids[4]})["n"] == 51
    assert db.items.find_one({"_id": ids[5]}) is None
    assert sorted(doc["n"] for doc in db.items.find()) == [0, 1, 2, 3, 6, 7, 8, 9, 51, 70]


def test_old_format_batch_records_uncompressed_with_doc_ids_are_undone(db):
    ids = seed(db, 4)
    before = stored(db)
    outcome = updates.run_update(model=Item, filter={}, update={"$inc": {"n": 1}}, undo_key=52, batch_size=2, db=db)
    assert outcome.details["undo_records"] == 4
    for record in undo_records(db, 52):  # as earlier versions saved them
        documents = decode_all(zlib.decompress(bytes(record["before"])))
        old = {"before": Binary(b"".join(encode(document) for document in documents))}
        db.bulkadmin_undo.update_one(
            {"_id": record["_id"]},
            {"$set": {**old, "doc_ids": [document["_id"] for document in documents]}, "$unset": {"packing": ""}},
        )
    assert all("packing" not in record for record in undo_records(db, 52))
    assert sorted(i for record in undo_records(db, 52) for i in record["doc_ids"]) == ids
    restored = undo.undo_job_writes(model=Item, job=52, db=db)
    assert (restored.details["restored"], restored.error_count) == (4, 0)
    assert stored(db) == before


def test_batch_records_carry_doc_ids_only_where_indexed(db):
    seed(db, 3)
    updates.run_update(model=Item, filter={}, update={"$inc": {"n": 1}}, undo_key=53, batch_size=2, db=db)
    records = undo_records(db, 53)
    assert [record["count"] for record in records] == [2, 1]
    assert all(record["packing"] == undo_batches.ZLIB for record in records)
    indexed = undo_batches.indexed_by_document(db)
    assert all(("doc_ids" in record) == indexed for record in records)


UPDATE_URL, DELETE_URL = "/admin/bulk/update/", "/admin/bulk/delete/"


@pytest.fixture
def admin(client):
    """A client logged in as a superuser."""
    client.force_login(StaffUser.objects.create_user("root", password="pw", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("batch_size", [1, 2, 3])
@pytest.mark.parametrize("count", [5, 7])
def test_web_update_and_delete_jobs_with_tiny_batches(admin, db, batch_size, count):
    bulk_insert(User, users(count), db=db)
    before = {doc["_id"]: doc for doc in db.users.find()}
    fields: dict[str, Any] = {
        "filter_json": "{}",
        "update_json": '{"$set": {"tier": "gold"}}',
        "batch_size": str(batch_size),
    }
    preview = admin.post(UPDATE_URL, compose_data(**fields))
    assert preview.context["state"].preview.count == count
    admin.post(UPDATE_URL, confirm_data(preview, **fields))
    job = Job.objects.get(kind="update")
    assert job.status == "succeeded", job.message
    assert (job.counts["rows"], job.counts["matched"], job.counts["modified"]) == (count, count, count)
    assert len(job.batches) == -(-count // batch_size)
    assert job.details["undo_records"] == count and job.details["undo_available"]
    assert db.users.count_documents({"tier": "gold"}) == count
    assert undo.undo_record_count(job.pk, db=db) == count
    restored = undo.undo_job_writes(model=User, job=job.pk, db=db)
    assert (restored.details["restored"], restored.error_count) == (count, 0)
    assert {doc["_id"]: doc for doc in db.users.find()} == before

    fields = {"filter_json": "{}", "batch_size": str(batch_size)}
    preview = admin.post(DELETE_URL, compose_data(**fields))
    admin.post(DELETE_URL, confirm_data(preview, **fields))
    job = Job.objects.get(kind="delete")
    assert job.status == "succeeded", job.message
    assert (job.counts["rows"], job.counts["deleted"], len(job.batches)) == (count, count, -(-count // batch_size))
    assert db.users.count_documents({}) == 0
    assert undo.undo_job_writes(model=User, job=job.pk, db=db).details["restored"] == count
    assert {doc["_id"]: doc for doc in db.users.find()} == before
    assert pipeline_threads() == []
