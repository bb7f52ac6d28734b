"""The composed bulk update / delete operation: preview, run (with undo data) and its result.

A filter and an update are written with model field names and checked by `bulkadmin.core.safety`.
The run reads the matching `_id`s from one cursor, a batch at a time (memory stays flat), and
writes each batch by `_id` through the bulk service. With undo data, each batch's pre-images are
read first and saved in one insert, with the fingerprint each document will have after the
write (computed from the pre-image; read back only when the update's result can't be known
exactly). Past `BULKADMIN_UNDO_LIMIT` documents the undo data is dropped and undo is off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from bulkadmin.bulk import BatchStat, BulkResult, RowError, bulk_delete, bulk_update
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.mongo import get_db
from bulkadmin.core.safety import translate_filter, translate_update
from bulkadmin.core.streams import id_batches
from bulkadmin.operations import undo, undo_batches
from bulkadmin.operations.post_images import InvalidResult, split_valid
from bulkadmin.operations.progress import Cancelled, Progress
from bulkadmin.operations.results import OperationResult, from_bulk
from bulkadmin.operations.simulate import apply_update

SAMPLE_SIZE = 5
DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class Sample:
    """One document of a preview, before and after (after is None for a delete)."""

    before: dict[str, Any]
    after: dict[str, Any] | None

    @property
    def changed_keys(self) -> list[str]:
        """Top-level stored keys whose value the update changes."""
        if self.after is None:
            return []
        keys = list(self.before) + [key for key in self.after if key not in self.before]
        return [key for key in keys if self.before.get(key) != self.after.get(key)]


@dataclass(frozen=True)
class Preview:
    """What a composed operation would do now: the count of matches and a few samples."""

    count: int
    samples: tuple[Sample, ...]
    undo_limit: int

    @property
    def undoable(self) -> bool:
        return self.count <= self.undo_limit


def check_spec(
    *, model: type[MongoModel], filter: Mapping[str, Any], update: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The filter (and update) translated to stored keys; `InvalidSpec` names what is wrong."""
    translated_filter = translate_filter(model, filter)
    translated_update = translate_update(model, update) if update is not None else None
    return translated_filter, translated_update


def preview(
    *,
    model: type[MongoModel],
    filter: Mapping[str, Any],
    update: Mapping[str, Any] | None = None,
    sample_size: int = SAMPLE_SIZE,
    db: Database | None = None,
) -> Preview:
    """Count the matching documents and show `sample_size` of them before / after. No writes."""
    stored_filter, stored_update = check_spec(model=model, filter=filter, update=update)
    collection = _db(db)[model.collection]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    samples = tuple(
        Sample(doc, apply_update(doc, stored_update, now=now) if stored_update is not None else None)
        for doc in collection.find(stored_filter).sort("_id", 1).limit(sample_size)
    )
    return Preview(collection.count_documents(stored_filter), samples, undo.undo_limit())


def run_update(
    *,
    model: type[MongoModel],
    filter: Mapping[str, Any],
    update: Mapping[str, Any],
    undo_key: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    validate_results: bool = True,
    db: Database | None = None,
) -> OperationResult:
    """Apply `update` to every document matching `filter`; keep undo data under `undo_key`.
    The result's details say how many pre-images were kept (`undo_records`, `undo_available`).

    With `validate_results` (the default) each batch's documents are read, the update applied to
    them in Python and the results validated with the model: a document the update would make
    invalid (`age` over its cap after `$inc`) is not written but rejected, by `_id` and field
    (count `rejected`). It costs one read per batch (none more when undo data is kept) and one
    model validation per document."""
    _, stored_update = check_spec(model=model, filter=filter, update=update)
    runner = _Runner(model, "update", update, undo_key, batch_size, progress, _db(db))
    runner.validate_update = stored_update if validate_results else None
    return runner.run(filter)


def run_delete(
    *,
    model: type[MongoModel],
    filter: Mapping[str, Any],
    undo_key: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    db: Database | None = None,
) -> OperationResult:
    """Delete every document matching `filter`; keep undo data under `undo_key`."""
    check_spec(model=model, filter=filter)
    return _Runner(model, "delete", None, undo_key, batch_size, progress, _db(db)).run(filter)


class _Runner:
    """Writes one batch of `_id`s at a time: pre-images with expected fingerprints, the write,
    and (only when they can't be computed) fingerprints read back."""

    def __init__(
        self,
        model: type[MongoModel],
        operation: str,
        update: Mapping[str, Any] | None,
        undo_key: int | None,
        batch_size: int,
        progress: Progress | None,
        db: Database,
    ) -> None:
        self.model, self.operation, self.update = model, operation, update
        self.undo_key, self.batch_size, self.progress, self.db = undo_key, batch_size, progress, db
        self.collection = db[model.collection]
        self.translated_update = translate_update(model, update) if update is not None else None
        self.counts: dict[str, Any] = {"rows": 0, "matched": 0, "modified": 0, "deleted": 0, "rejected": 0}
        self.validate_update: dict[str, Any] | None = None  # set: validate each result before writing
        self.now = dt.datetime.now(dt.UTC)
        self.errors: list[RowError] = []
        self.batches: list[BatchStat] = []
        self.undo_records = 0
        self.keep_undo = undo_key is not None

    def run(self, filter: Mapping[str, Any]) -> OperationResult:
        started = time.perf_counter()
        if self.keep_undo:
            undo.prepare(self.db)
        if self.progress is not None:
            self.progress(0, None)
        try:
            for ids in id_batches(self.collection, translate_filter(self.model, filter), self.batch_size):
                self._batch(ids)
                if self.progress is not None:
                    self.progress(self.counts["rows"], None)
        except Cancelled as stop:  # what was written before the stop, for the job's counts and undo
            stop.result = self._result(started)
            raise
        return self._result(started)

    def _result(self, started: float) -> OperationResult:
        counts = {name: value for name, value in self.counts.items() if name != "rejected"}
        result = BulkResult(
            operation=self.operation,
            **counts,
            errors=tuple(self.errors),
            batches=tuple(self.batches),
            elapsed=time.perf_counter() - started,
        )
        undo_data = {"undo_records": self.undo_records, "undo_available": self.keep_undo and self.undo_records > 0}
        done = from_bulk(result, target=self.model.collection, details=undo_data)
        if self.operation != "update":
            return done
        return dataclasses.replace(done, counts={**done.counts, "rejected": self.counts["rejected"]})

    def _batch(self, ids: list[Any]) -> None:
        clock, start = time.perf_counter(), self.counts["rows"]
        self._check_undo_limit(len(ids))
        pending: _PendingUndo | None = None
        if self.keep_undo or self.validate_update is not None:
            before = list(self.collection.find({"_id": {"$in": ids}}))
            # The pre-images are in hand: the documents to write are those still there and valid.
            before = self._valid(before, start)
            ids = [doc["_id"] for doc in before]
            if self.keep_undo and before:
                pending = self._save_undo(before)
        result = self._write(ids) if ids else BulkResult(operation=self.operation)
        if pending is not None and pending.read_back:
            after = {doc["_id"]: doc for doc in self.collection.find({"_id": {"$in": ids}})}
            undo_batches.record_after(records=pending.records, doc_ids=ids, documents=after, db=self.db)
        self._count(result, len(ids), start)
        self.batches.append(BatchStat(len(self.batches) + 1, len(ids), time.perf_counter() - clock))

    def _check_undo_limit(self, coming: int) -> None:
        """Stop keeping undo data, and drop what was kept, once the job goes over the limit."""
        if self.keep_undo and self.undo_key is not None and self.counts["rows"] + coming > undo.undo_limit():
            undo.discard(self.undo_key, db=self.db)
            self.keep_undo, self.undo_records = False, 0

    def _valid(self, documents: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
        """The documents the update leaves valid; the others are rejected rows, not written."""
        if self.validate_update is None:
            return documents
        valid, invalid = split_valid(self.model, documents, self.validate_update, now=self.now)
        rejected = {problem.doc_id for problem in invalid}
        positions = {doc["_id"]: start + number for number, doc in enumerate(documents)}
        self.counts["rows"] += len(invalid)
        self.counts["rejected"] += len(invalid)
        self.errors.extend(_rejected(problem, positions[problem.doc_id]) for problem in invalid)
        return [doc for doc in valid if doc["_id"] not in rejected]

    def _save_undo(self, before: list[dict[str, Any]]) -> _PendingUndo:
        """Save the pre-images with the digests the documents will have after the write (read
        back after it when they can't be computed here)."""
        if self.translated_update is None:
            expected: list[bytes] | None = [undo_batches.GONE] * len(before)
        else:
            now = dt.datetime.now(dt.UTC)
            after = undo_batches.after_images(before, self.translated_update, now=now, db=self.db)
            expected = [undo_batches.digest(document) for document in after] if after is not None else None
        job, target = self.undo_key or 0, self.model.collection
        records = undo_batches.save_batch(job=job, target=target, documents=before, after=expected, db=self.db)
        self.undo_records += len(before)
        return _PendingUndo(records, read_back=expected is None)

    def _write(self, ids: list[Any]) -> BulkResult:
        spec: dict[str, Any] = {"filter": {"id": {"$in": ids}}}
        if self.operation == "update":
            return bulk_update(self.model, [{**spec, "update": self.update}], raise_on_error=False, db=self.db)
        return bulk_delete(self.model, [spec], raise_on_error=False, db=self.db)

    def _count(self, result: BulkResult, rows: int, start: int) -> None:
        self.counts["rows"] += rows
        self.counts["matched"] += result.matched
        self.counts["modified"] += result.modified
        self.counts["deleted"] += result.deleted
        for error in result.errors:
            message = f"Batch of {rows} documents from row {start} failed: {error.message}"
            self.errors.append(RowError(start, message, code=error.code, kind=error.kind, field=error.field))


@dataclass(frozen=True)
class _PendingUndo:
    """A batch's saved undo records (id, documents held); `read_back`: digests still to record."""

    records: list[tuple[Any, int]]
    read_back: bool


def _rejected(problem: InvalidResult, index: int) -> RowError:
    return RowError(index, f"Not updated: {problem.describe()}", field=problem.field)


def _db(db: Database | None) -> Database:
    return db if db is not None else get_db()
