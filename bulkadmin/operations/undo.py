"""Undo data for bulk updates and deletes, and the undo operation.

Before a job writes a batch, the documents it touches are saved, as stored, in the
`bulkadmin_undo` collection (expired by a TTL index), with one insert per batch: one record per
document (imports) or one per batch (composed updates and deletes, `undo_batches`). Each record
also keeps a fingerprint of the document as the job left it.
Undo restores the saved documents whose current state still matches that fingerprint; the
others changed since and are reported as conflicts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

from bson import ObjectId, json_util
from pydantic import Field
from pymongo import UpdateOne
from pymongo.database import Database

from bulkadmin.bulk import (
    BatchStat,
    BulkResult,
    RowError,
    WriteConcernError,
    bulk_delete,
    bulk_restore,
    raise_failed_rows,
)
from bulkadmin.core import conf
from bulkadmin.core.batch_sizes import UNDO_BATCH_SIZE
from bulkadmin.core.documents import Index, MongoModel
from bulkadmin.core.mongo import get_db
from bulkadmin.core.registry import ensure_indexes
from bulkadmin.core.streams import by_id, id_key
from bulkadmin.operations import document_jobs, undo_batches
from bulkadmin.operations.progress import Progress
from bulkadmin.operations.results import BulkCounts, OperationResult, from_bulk

CONFLICT = "conflict"
MAX_CONFLICTS = 1000  # conflicting ids listed in the result


UNDO_LIMIT = int(conf.SETTINGS["BULKADMIN_UNDO_LIMIT"].default)  # callers pass the setting


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UndoRecord(MongoModel):
    """The pre-image of one document touched by a job, and its fingerprint after the write
    (`after` is None for a deleted document; `before` is None for one the job inserted, which
    undo deletes). Not registered: it is bulkadmin's own data."""

    collection = undo_batches.COLLECTION
    indexes = (
        Index((("job", 1),), name="bulkadmin_undo_job"),
        Index((("doc_ids", 1),), name="bulkadmin_undo_documents"),  # batch records (multikey)
        Index((("doc_id", 1),), name="bulkadmin_undo_document"),  # per-document records
        Index(
            (("created_at", 1),),
            name="bulkadmin_undo_expiry",
            expire_after_seconds=conf.undo_days() * 86400,
        ),
    )

    job: int
    target: str
    doc_id: Any
    doc_ids: list[Any] | None = None  # a batch record's documents (see `undo_batches`)
    before: dict[str, Any] | None = None
    after: str | None = None
    created_at: dt.datetime = Field(default_factory=_utc_now)


def fingerprint(document: dict[str, Any] | None) -> str | None:
    """A stable digest of a stored document (None for a missing one)."""
    if document is None:
        return None
    return hashlib.sha256(json_util.dumps(document, sort_keys=True).encode()).hexdigest()


def save_pre_images(
    *,
    job: int,
    target: str,
    documents: list[dict[str, Any]],
    db: Database,
) -> list[Any]:
    """Save documents as they are before a write, one record each, in one insert; return the
    undo records' ids in order."""
    if not documents:
        return []
    prepare(db)
    created = _utc_now()
    records = [
        {"_id": ObjectId(), "job": job, "target": target, "doc_id": doc["_id"], "before": doc, "created_at": created}
        for doc in documents
    ]
    db[UndoRecord.collection].insert_many(records, ordered=True)
    document_jobs.record(job=job, target=target, doc_ids=[doc["_id"] for doc in documents], db=db)
    return [record["_id"] for record in records]


def record_post_images(
    *,
    record_ids: list[Any],
    documents: dict[Any, dict[str, Any]],
    doc_ids: list[Any],
    db: Database,
) -> None:
    """Store the fingerprint of each document as the job left it (`documents`, read back after
    the write)."""
    operations = [
        UpdateOne({"_id": record_id}, {"$set": {"after": fingerprint(documents.get(doc_id))}})
        for record_id, doc_id in zip(record_ids, doc_ids, strict=True)
        if doc_id in documents
    ]
    if operations:
        db[UndoRecord.collection].bulk_write(operations, ordered=False)


def prepare(db: Database) -> None:
    """Make the undo collection's indexes (job, expiry), and those of the jobs-by-document rows
    written beside it, if they are missing."""
    ensure_indexes(UndoRecord, db)
    document_jobs.prepare(db)


def discard(job: int, *, db: Database) -> None:
    """Drop the undo data of `job` (it went over the undo limit)."""
    db[UndoRecord.collection].delete_many({"job": job})
    document_jobs.discard(job, db=db)


def undo_record_count(job: int, *, db: Database | None = None) -> int:
    """How many documents of `job` can be restored (a batch record holds `count` of them)."""
    database = db if db is not None else get_db()
    records = database[UndoRecord.collection].find({"job": job}, {"_id": 0, "count": 1})
    return sum(record.get("count", 1) for record in records)


@dataclass(frozen=True)
class Reconciled:
    """What an interrupted update or delete wrote, by its undo records checked against the
    documents: `written` documents (`changed` of them differ from their pre-image as the job
    left them), `unwritten` saved for a write that never happened, `records` kept."""

    written: int
    changed: int
    unwritten: int
    records: int


def reconcile(*, job: int, model: type[MongoModel], db: Database | None = None) -> Reconciled:
    """Make an interrupted job's batch undo records hold exactly the documents it wrote: an entry
    whose document is still its pre-image (a batch saved, then not or partly written) is
    dropped; one whose digest after the write was never recorded gets the document's digest now.
    Run again, it changes nothing."""
    database = db if db is not None else get_db()
    undo_records = database[UndoRecord.collection]
    record_ids = [record["_id"] for record in undo_records.find({"job": job, "count": {"$exists": True}}, {"_id": 1})]
    written = changed = unwritten = records = 0
    for record_id in record_ids:
        record = undo_records.find_one({"_id": record_id})
        if record is not None:
            kept, kept_changed, dropped = _reconcile_record(record, model, database)
            written, changed, unwritten = written + kept, changed + kept_changed, unwritten + dropped
            records += kept > 0
    return Reconciled(written, changed, unwritten, records)


def _reconcile_record(record: dict[str, Any], model: type[MongoModel], database: Database) -> tuple[int, int, int]:
    """Reconcile one batch record (see `reconcile`): how many entries it keeps, how many of
    those the job changed, how many it dropped."""
    entries = list(undo_batches.entries(record, database))
    current = by_id(database[model.collection].find({"_id": {"$in": [entry["doc_id"] for entry in entries]}}))
    kept, after = [], []
    for entry in entries:
        now = undo_batches.digest(current.get(id_key(entry["doc_id"])))
        before = undo_batches.digest(entry["before"])
        if now == before and entry["after"] != before:
            continue  # not written (or written back since): nothing of the job's to undo
        kept.append(entry["before"])
        after.append(entry["after"] if entry["after"] is not None else now)
    if len(kept) < len(entries) or record.get("after") is None:
        undo_batches.keep_entries(record=record, documents=kept, after=after, db=database)
    changed = sum(digest != undo_batches.digest(document) for document, digest in zip(kept, after, strict=True))
    return len(kept), changed, len(entries) - len(kept)


def written_ids(job: int, *, db: Database | None = None) -> set[Hashable]:
    """The documents (`streams.id_key` of their `_id`) a job's undo records hold: after
    `reconcile`, those it wrote."""
    database = db if db is not None else get_db()
    found: set[Hashable] = set()
    for record in database[UndoRecord.collection].find({"job": job}):
        for entry in undo_batches.entries(record, database) if undo_batches.is_batch(record) else [record]:
            found.add(id_key(entry["doc_id"]))
    return found


def undo_job_writes(
    *,
    model: type[MongoModel],
    job: int,
    batch_size: int = UNDO_BATCH_SIZE,
    progress: Progress | None = None,
    undo_job: int | None = None,
    db: Database | None = None,
) -> OperationResult[BulkCounts]:
    """Restore the documents `job` touched, batch by batch, skipping those changed since (they
    are the result's errors, and its `conflicts` detail lists their ids). With `undo_job`, each
    document written back lists that job among the jobs that touched it."""
    database = db if db is not None else get_db()
    total = undo_record_count(job, db=database)
    tally = _UndoTally()
    for records in _record_batches(database, job, batch_size):
        written = tally.add_batch(records, model, database)
        if undo_job is not None:
            document_jobs.record(job=undo_job, target=model.collection, doc_ids=written, db=database)
        if progress is not None:
            progress(tally.rows, total)
    return tally.outcome(model.collection)


def _record_batches(database: Database, job: int, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """The job's undo entries, one per document, `batch_size` at a time (batch records expanded)."""
    batch: list[dict[str, Any]] = []
    for record in database[UndoRecord.collection].find({"job": job}).sort("_id", 1):
        for entry in undo_batches.entries(record, database) if undo_batches.is_batch(record) else [record]:
            batch.append(entry)
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


class _UndoTally:
    """Counts, conflicts and the server's write-concern errors gathered across undo batches."""

    def __init__(self) -> None:
        self.rows = self.restored = self.unchanged = self.deleted = 0
        self.errors: list[RowError] = []
        self.write_concern_errors: list[WriteConcernError] = []
        self.batches: list[BatchStat] = []
        self.started = dt.datetime.now(dt.UTC)

    def add_batch(self, records: list[dict[str, Any]], model: type[MongoModel], database: Database) -> list[Any]:
        """Restore one batch; the `_id`s of the documents written back or deleted."""
        clock = dt.datetime.now(dt.UTC)
        ids = [record["doc_id"] for record in records]
        current = by_id(database[model.collection].find({"_id": {"$in": ids}}))
        to_restore, to_delete = [], []
        for offset, record in enumerate(records):
            check = record.get("check", fingerprint)
            state = check(current.get(id_key(record["doc_id"])))
            if state == check(record.get("before")):
                self.unchanged += 1
            elif state == record.get("after"):
                if record.get("before") is None:
                    to_delete.append(record["doc_id"])
                else:
                    to_restore.append(record["before"])
            else:
                self.errors.append(_conflict(self.rows + offset, record))
        if to_restore:
            result = bulk_restore(model, to_restore, db=database, batch_size=len(to_restore))
            self.restored += result.matched + result.upserted
            self.write_concern_errors.extend(result.write_concern_errors)
        if to_delete:
            spec = {"filter": {"id": {"$in": to_delete}}}
            result = raise_failed_rows(bulk_delete(model, [spec], raise_on_error=False, db=database))
            self.deleted += result.deleted
            self.write_concern_errors.extend(result.write_concern_errors)
        self.rows += len(records)
        seconds = (dt.datetime.now(dt.UTC) - clock).total_seconds()
        self.batches.append(BatchStat(len(self.batches) + 1, len(records), seconds))
        return [document["_id"] for document in to_restore] + to_delete

    def outcome(self, target: str) -> OperationResult[BulkCounts]:
        elapsed = (dt.datetime.now(dt.UTC) - self.started).total_seconds()
        result = BulkResult(
            operation="undo",
            rows=self.rows,
            updated=self.restored,
            deleted=self.deleted,
            unchanged=self.unchanged,
            errors=tuple(self.errors),
            write_concern_errors=tuple(self.write_concern_errors),
            batches=tuple(self.batches),
            elapsed=elapsed,
        )
        conflicts = tuple(error.field or "" for error in self.errors)
        details: dict[str, Any] = {
            "restored": self.restored,
            "unchanged": self.unchanged,
            "conflicts": conflicts[:MAX_CONFLICTS],
        }
        if self.deleted:
            details["deleted"] = self.deleted  # documents an import inserted, removed
        return from_bulk(result, target=target, details=details)


def _conflict(index: int, record: dict[str, Any]) -> RowError:
    doc_id = str(record["doc_id"])
    return RowError(
        index,
        f"Document {doc_id} was changed after the job; it was not overwritten.",
        code=0,
        kind=CONFLICT,
        field=doc_id,
    )
