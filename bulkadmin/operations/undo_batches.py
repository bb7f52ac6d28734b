"""Undo data of a composed update or delete: one `bulkadmin_undo` record per written batch.

A batch record keeps its pre-images as stored (concatenated BSON, zlib-compressed, in one
binary field), the digest of each document as the job left it (concatenated, in the same
order) and, where the server indexes arrays (MongoDB), the batch's `_id`s (`doc_ids`, so the
jobs that touched a document can be found). A batch costs one small insert. The digests come
from the after-images (the update applied to the pre-images, `post_images.results`) when the
update's result is known exactly (see `simulate.is_exact`), else they are read back after the
write. Undo (`bulkadmin.operations.undo`) reads both these and per-document records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Hashable, Iterator
from typing import Any

from bson import Binary, Int64, ObjectId, decode_all, encode
from pymongo import UpdateOne
from pymongo.database import Database

from bulkadmin.core.mongo import capabilities
from bulkadmin.core.streams import id_key
from bulkadmin.operations import document_jobs

COLLECTION = "bulkadmin_undo"
DIGEST_SIZE = 16
GONE = bytes(DIGEST_SIZE)  # the digest of a missing (deleted) document
MAX_RECORD_BYTES = 8 * 2**20  # pre-images per record, well under MongoDB's 16 MB document limit
ZLIB = "zlib"  # `packing` of compressed pre-images; records without it hold them as they are


def digest(document: dict[str, Any] | None) -> bytes:
    """A stable digest of a document as stored: key order, int32/int64 and sub-millisecond
    time make no difference (as in MongoDB); `GONE` for a missing one."""
    if document is None:
        return GONE
    return hashlib.blake2b(encode(_canonical(document)), digest_size=DIGEST_SIZE).digest()


def _canonical(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict or (kind is not list and isinstance(value, dict)):
        return {key: _canonical(value[key]) for key in sorted(value)}
    if kind is list:
        return [_canonical(item) for item in value]
    if kind is Int64 or (isinstance(value, int) and not isinstance(value, bool)):
        return Int64(value)
    return value


_PLAIN = frozenset({str, float, bool, type(None), dt.datetime, ObjectId, bytes})


def save_batch(
    *, job: int, target: str, documents: list[dict[str, Any]], after: list[bytes] | None, db: Database
) -> list[tuple[Any, int]]:
    """Save a batch's pre-images (and their digests after the write, when known) in one insert
    (the collection's indexes are made by `undo.prepare`); return each record's id and how many
    documents it holds, in order."""
    created = dt.datetime.now(dt.UTC)
    with_ids = indexed_by_document(db)
    records = []
    for start, encoded in _chunks([encode(document) for document in documents]):
        record: dict[str, Any] = {"_id": ObjectId(), "job": job, "target": target, "count": len(encoded)}
        if with_ids:
            record["doc_ids"] = [document["_id"] for document in documents[start : start + len(encoded)]]
        record["before"], record["packing"] = Binary(zlib.compress(b"".join(encoded), 1)), ZLIB
        if after is not None:
            record["after"] = Binary(b"".join(after[start : start + len(encoded)]))
        records.append({**record, "created_at": created})
    if records:
        db[COLLECTION].insert_many(records, ordered=True)
        document_jobs.record(job=job, target=target, doc_ids=[document["_id"] for document in documents], db=db)
    return [(record["_id"], record["count"]) for record in records]


def indexed_by_document(db: Database) -> bool:
    """Whether batch records carry `doc_ids`, so undo data can be looked up by document without
    a scan: on MongoDB (a multikey index), not on the embedded server (it has none)."""
    return capabilities(db.client).multikey_indexes


def _chunks(encoded: list[bytes]) -> Iterator[tuple[int, list[bytes]]]:
    """(offset, documents) runs of at most `MAX_RECORD_BYTES` (at least one document each)."""
    start, size = 0, 0
    run: list[bytes] = []
    for offset, item in enumerate(encoded):
        if run and size + len(item) > MAX_RECORD_BYTES:
            yield start, run
            start, size, run = offset, 0, []
        run.append(item)
        size += len(item)
    if run:
        yield start, run


def record_after(
    *, records: list[tuple[Any, int]], doc_ids: list[Any], documents: dict[Hashable, dict[str, Any]], db: Database
) -> None:
    """Store the digests of a batch's documents read back after the write (`documents` by
    `streams.id_key` of their `_id`)."""
    operations, start = [], 0
    for record_id, count in records:
        digests = b"".join(digest(documents.get(id_key(doc_id))) for doc_id in doc_ids[start : start + count])
        operations.append(UpdateOne({"_id": record_id}, {"$set": {"after": Binary(digests)}}))
        start += count
    if operations:
        db[COLLECTION].bulk_write(operations, ordered=False)


def keep_entries(*, record: dict[str, Any], documents: list[dict[str, Any]], after: list[bytes], db: Database) -> None:
    """Make batch `record` hold only `documents` (its pre-images, in order) and their digests
    after the write; delete it when there are none (see `undo.reconcile`)."""
    if not documents:
        db[COLLECTION].delete_one({"_id": record["_id"]})
        return
    packed = Binary(zlib.compress(b"".join(encode(document) for document in documents), 1))
    changes: dict[str, Any] = {
        "count": len(documents),
        "before": packed,
        "packing": ZLIB,
        "after": Binary(b"".join(after)),
    }
    if "doc_ids" in record:
        changes["doc_ids"] = [document["_id"] for document in documents]
    db[COLLECTION].update_one({"_id": record["_id"]}, {"$set": changes})


def is_batch(record: dict[str, Any]) -> bool:
    return "count" in record


def entries(record: dict[str, Any], db: Database) -> Iterator[dict[str, Any]]:
    """A batch record as one entry per document: `doc_id`, `before`, `after` (its digest after
    the write, None when never recorded) and `check` (the digest function to compare with)."""
    packed = bytes(record["before"])
    before = decode_all(zlib.decompress(packed) if record.get("packing") == ZLIB else packed, db.codec_options)
    after = bytes(record["after"]) if record.get("after") is not None else None
    for index, document in enumerate(before):
        known = after[index * DIGEST_SIZE : (index + 1) * DIGEST_SIZE] if after is not None else None
        yield {"doc_id": document["_id"], "before": document, "after": known, "check": digest}
