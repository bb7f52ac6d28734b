"""The composed bulk update / delete operation: preview, run (with undo data) and its result.

A filter and an update are written with model field names and checked by `bulkadmin.core.safety`.
The run collects the matching `_id`s first, then writes by `_id` in batches through the bulk
service, saving each batch's pre-images for undo (up to `BULKADMIN_UNDO_LIMIT` documents).
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
from bulkadmin.operations import undo
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
    runner.stored_update = stored_update if validate_results else None
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
    """Writes one batch of `_id`s at a time: pre-images, the write, post-image fingerprints."""

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
        self.counts: dict[str, Any] = {"rows": 0, "matched": 0, "modified": 0, "deleted": 0, "rejected": 0}
        self.stored_update: dict[str, Any] | None = None  # set: validate each result before writing
        self.now = dt.datetime.now(dt.UTC)
        self.errors: list[RowError] = []
        self.batches: list[BatchStat] = []
        self.undo_records = 0

    def run(self, filter: Mapping[str, Any]) -> OperationResult:
        started = time.perf_counter()
        ids = [doc["_id"] for doc in self.collection.find(translate_filter(self.model, filter), {"_id": 1})]
        keep_undo = self.undo_key is not None and len(ids) <= undo.undo_limit()
        if self.progress is not None:
            self.progress(0, len(ids))
        try:
            for start in range(0, len(ids), self.batch_size):
                self._batch(ids[start : start + self.batch_size], start, keep_undo)
                if self.progress is not None:
                    self.progress(self.counts["rows"], len(ids))
        except Cancelled as stop:  # what was written before the stop, for the job's counts and undo
            stop.result = self._result(started, keep_undo)
            raise
        return self._result(started, keep_undo)

    def _result(self, started: float, keep_undo: bool) -> OperationResult:
        counts = {name: value for name, value in self.counts.items() if name != "rejected"}
        result = BulkResult(
            operation=self.operation,
            **counts,
            errors=tuple(self.errors),
            batches=tuple(self.batches),
            elapsed=time.perf_counter() - started,
        )
        undo_data = {"undo_records": self.undo_records, "undo_available": keep_undo and self.undo_records > 0}
        done = from_bulk(result, target=self.model.collection, details=undo_data)
        if self.operation != "update":
            return done
        return dataclasses.replace(done, counts={**done.counts, "rejected": self.counts["rejected"]})

    def _batch(self, ids: list[Any], start: int, keep_undo: bool) -> None:
        clock = time.perf_counter()
        record_ids: list[Any] = []
        keep_undo = keep_undo and self.undo_key is not None
        if keep_undo or self.stored_update is not None:
            before = list(self.collection.find({"_id": {"$in": ids}}))
            before = self._valid(before, start)
            ids = [doc["_id"] for doc in before]
        if keep_undo and self.undo_key is not None:  # (for the type checker)
            target = self.model.collection
            record_ids = undo.save_pre_images(job=self.undo_key, target=target, documents=before, db=self.db)
            self.undo_records += len(record_ids)
        result = self._write(ids) if ids else BulkResult(operation=self.operation)
        if keep_undo and self.operation == "update":
            after = {doc["_id"]: doc for doc in self.collection.find({"_id": {"$in": ids}})}
            undo.record_post_images(record_ids=record_ids, documents=after, doc_ids=ids, db=self.db)
        self._count(result, len(ids), start)
        self.batches.append(BatchStat(len(self.batches) + 1, len(ids), time.perf_counter() - clock))

    def _valid(self, documents: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
        """The documents the update leaves valid; the others are rejected rows, not written."""
        if self.stored_update is None:
            return documents
        valid, invalid = split_valid(self.model, documents, self.stored_update, now=self.now)
        rejected = {problem.doc_id for problem in invalid}
        positions = {doc["_id"]: start + number for number, doc in enumerate(documents)}
        self.counts["rows"] += len(invalid)
        self.counts["rejected"] += len(invalid)
        self.errors.extend(_rejected(problem, positions[problem.doc_id]) for problem in invalid)
        return [doc for doc in valid if doc["_id"] not in rejected]

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


def _rejected(problem: InvalidResult, index: int) -> RowError:
    return RowError(index, f"Not updated: {problem.describe()}", field=problem.field)


def _db(db: Database | None) -> Database:
    return db if db is not None else get_db()
