"""Which jobs touched a document: one small row per (document, job) in `bulkadmin_doc_jobs`,
written beside the job's undo data (bulk updates and deletes, imports, single edits) and
expired with it.

A row is found by `key`, the collection and the document's `_id` as canonical Extended JSON in
one text field: an indexed equality on text, which MongoDB and the embedded server both answer
from the index (the embedded server has no multikey index, and misses an ObjectId compared
outside `_id`), so a document page never scans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from bson import ObjectId, json_util
from bson.json_util import CANONICAL_JSON_OPTIONS
from pymongo.database import Database

from bulkadmin.core import conf
from bulkadmin.core.documents import Index, MongoModel
from bulkadmin.core.registry import ensure_indexes

COLLECTION = "bulkadmin_doc_jobs"
MAX_JOBS = 200  # rows read for one document page


class DocumentJob(MongoModel):
    """One document a job touched (and kept undo data for). Not registered: bulkadmin's own data."""

    collection = COLLECTION
    indexes = (
        Index((("key", 1),), name="bulkadmin_doc_jobs_key"),
        Index((("job", 1),), name="bulkadmin_doc_jobs_job"),
        Index((("created_at", 1),), name="bulkadmin_doc_jobs_expiry", expire_after_seconds=conf.undo_days() * 86400),
    )

    key: str
    job: int
    created_at: dt.datetime


def document_key(target: str, doc_id: Any) -> str:
    """The row key of document `doc_id` of collection `target`: its `_id`'s type is part of it,
    so the ObjectId `5f…` and the text "5f…" are different documents."""
    return f"{target} {json_util.dumps(doc_id, json_options=CANONICAL_JSON_OPTIONS)}"


def prepare(db: Database) -> None:
    """Make the rows' indexes (key, job, expiry) if they are missing."""
    ensure_indexes(DocumentJob, db)


def record(*, job: int, target: str, doc_ids: Iterable[Any], db: Database) -> None:
    """Note that `job` touched each of `doc_ids` in `target`, in one insert."""
    created = dt.datetime.now(dt.UTC)
    rows = [
        {"_id": ObjectId(), "key": document_key(target, doc_id), "job": job, "created_at": created}
        for doc_id in doc_ids
    ]
    if rows:
        db[COLLECTION].insert_many(rows, ordered=False)


def jobs_of(*, target: str, doc_id: Any, db: Database) -> list[int]:
    """The numbers of the jobs that touched the document, newest first (one indexed read)."""
    rows = db[COLLECTION].find({"key": document_key(target, doc_id)}, {"_id": 0, "job": 1}).limit(MAX_JOBS)
    return sorted({row["job"] for row in rows}, reverse=True)


def discard(job: int, *, db: Database) -> None:
    """Forget the documents of `job` (its undo data was dropped)."""
    db[COLLECTION].delete_many({"job": job})
