"""Undo data of an import, kept batch by batch in `bulkadmin_undo` (see `bulkadmin.operations.undo`).

An inserted document is recorded with no pre-image (undo deletes it); a document a merge,
replace or delete changed is recorded with its pre-image (undo restores it). Each record also
keeps the fingerprint of the document as the import left it, so undo leaves alone documents
changed since. Past the undo limit (`BULKADMIN_UNDO_LIMIT`, passed in) nothing more is kept and
undo is off."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from bulkadmin.bulk import bulk_insert
from bulkadmin.bulk.results import BulkResult
from bulkadmin.core.documents import MongoModel
from bulkadmin.operations import document_jobs, undo


class ImportUndo:
    """Records one import job's undo data; used from its writer thread, one batch at a time."""

    def __init__(self, *, job: int, model: type[MongoModel], db: Database, limit: int, kept: int = 0) -> None:
        self.job, self.model, self.db = job, model, db
        self.kept = kept
        self.limit = limit
        self.overflow = False
        self._pre_images: list[dict[str, Any]] = []

    @property
    def available(self) -> bool:
        return self.kept > 0 and not self.overflow

    def on_pre_images(self, documents: list[dict[str, Any]]) -> None:
        """`bulk_upsert`'s callback: the documents as they are before a write."""
        self._pre_images.extend(documents)

    def after_insert(self, docs: list[dict[str, Any]], result: BulkResult, *, ordered: bool) -> None:
        """Record the documents a `bulk_insert` of `docs` stored."""
        failed = {error.index for error in result.errors}
        cutoff = min(failed) if ordered and failed else len(docs)
        ids = [_stored_id(doc) for index, doc in enumerate(docs[:cutoff]) if index not in failed]
        self._record_new([value for value in ids if value is not None])

    def after_upsert(self, result: BulkResult) -> None:
        """Record what a `bulk_upsert` created and the pre-images of what it changed."""
        pre_images, self._pre_images = self._pre_images, []
        self._record_new(list(result.upserted_ids.values()))
        if not pre_images or not self._room_for(len(pre_images)):
            return
        record_ids = undo.save_pre_images(job=self.job, target=self.model.collection, documents=pre_images, db=self.db)
        doc_ids = [doc["_id"] for doc in pre_images]
        after = {doc["_id"]: doc for doc in self.db[self.model.collection].find({"_id": {"$in": doc_ids}})}
        undo.record_post_images(record_ids=record_ids, documents=after, doc_ids=doc_ids, db=self.db)

    def _record_new(self, ids: list[Any]) -> None:
        if not ids or not self._room_for(len(ids)):
            return
        stored = list(self.db[self.model.collection].find({"_id": {"$in": ids}}))
        undo.prepare(self.db)
        records = [
            undo.UndoRecord(job=self.job, target=self.model.collection, doc_id=doc["_id"], after=undo.fingerprint(doc))
            for doc in stored
        ]
        if records:
            bulk_insert(undo.UndoRecord, records, db=self.db, batch_size=len(records))
            document_jobs.record(
                job=self.job, target=self.model.collection, doc_ids=[r.doc_id for r in records], db=self.db
            )

    def _room_for(self, count: int) -> bool:
        if self.overflow or self.kept + count > self.limit:
            self.overflow = True
            return False
        self.kept += count
        return True


def _stored_id(doc: dict[str, Any]) -> Any:
    return doc.get("_id", doc.get("id"))
