"""The composed bulk update / delete operation: preview, run (with undo data) and its result.

A filter and an update are written with model field names and checked by `bulkadmin.core.safety`.
The run reads the matching documents a batch at a time by `_id` ranges (`core.streams`; memory
stays flat) and writes each batch by `_id` through the bulk service. A batch read just before
its write is its pre-images: each document's result is computed once in Python, validated with
the model and digested for undo; the pre-images and digests are saved in one insert (digests
read back after the write only when the update's result can't be known exactly). Past
`BULKADMIN_UNDO_LIMIT` documents the undo data is dropped and undo is off.

Three batches are on their way at once, so the server is never idle waiting for this process:
the next one is read (`streams.read_ahead`) and the previous one's undo data is saved and
written (a writer thread, one batch at a time, in order) while this one is validated.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database

from bulkadmin.bulk import BatchStat, BulkResult, BulkWriter, RowError, WriteConcernError
from bulkadmin.bulk.pipelining import pipelined
from bulkadmin.core.batch_sizes import UPDATE_BATCH_SIZE
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.mongo import get_db
from bulkadmin.core.safety import translate_filter, translate_update
from bulkadmin.core.streams import by_id, id_key, matching_batches, read_ahead
from bulkadmin.operations import simulate, undo, undo_batches
from bulkadmin.operations.post_images import InvalidResult, Result, results, split_valid
from bulkadmin.operations.progress import Cancelled, Progress
from bulkadmin.operations.results import OperationResult, UpdateCounts, from_bulk
from bulkadmin.operations.simulate import apply_update

SAMPLE_SIZE = 5


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
    undo_limit: int = undo.UNDO_LIMIT,
    db: Database | None = None,
) -> Preview:
    """Count the matching documents and show `sample_size` of them before / after; whether a run
    could be undone is said against `undo_limit`. No writes."""
    stored_filter, stored_update = check_spec(model=model, filter=filter, update=update)
    collection = _db(db)[model.collection]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    samples = tuple(
        Sample(doc, apply_update(doc, stored_update, now=now) if stored_update is not None else None)
        for doc in collection.find(stored_filter).sort("_id", 1).limit(sample_size)
    )
    return Preview(collection.count_documents(stored_filter), samples, undo_limit)


def run_update(
    *,
    model: type[MongoModel],
    filter: Mapping[str, Any],
    update: Mapping[str, Any],
    undo_key: int | None = None,
    batch_size: int = UPDATE_BATCH_SIZE,
    progress: Progress | None = None,
    validate_results: bool = True,
    skip: Collection[Hashable] = (),
    undo_limit: int = undo.UNDO_LIMIT,
    db: Database | None = None,
) -> OperationResult:
    """Apply `update` to every document matching `filter`; keep undo data under `undo_key`.
    The result's details say how many pre-images were kept (`undo_records`, `undo_available`).

    With `validate_results` (the default) each batch's documents are read, the update applied to
    them in Python and the results validated with the model: a document the update would make
    invalid (`age` over its cap after `$inc`) is not written but rejected, by `_id` and field
    (count `rejected`). It costs one read per batch (none more when undo data is kept) and one
    model validation per document.

    `skip` names documents (`streams.id_key` of their `_id`) not to touch: those an interrupted
    run of the same job wrote, when it continues (`undo.written_ids`). Past `undo_limit`
    documents no undo data is kept (and what was kept is dropped)."""
    _, stored_update = check_spec(model=model, filter=filter, update=update)
    runner = _Runner(model, "update", stored_update, undo_key, batch_size, progress, _db(db))
    runner.validate_update = stored_update if validate_results else None
    runner.skip, runner.undo_limit = skip, undo_limit
    return runner.run(filter)


def run_delete(
    *,
    model: type[MongoModel],
    filter: Mapping[str, Any],
    undo_key: int | None = None,
    batch_size: int = UPDATE_BATCH_SIZE,
    progress: Progress | None = None,
    skip: Collection[Hashable] = (),
    undo_limit: int = undo.UNDO_LIMIT,
    db: Database | None = None,
) -> OperationResult:
    """Delete every document matching `filter` but those in `skip` (as for `run_update`); keep
    undo data under `undo_key`, up to `undo_limit` documents."""
    check_spec(model=model, filter=filter)
    runner = _Runner(model, "delete", None, undo_key, batch_size, progress, _db(db))
    runner.skip, runner.undo_limit = skip, undo_limit
    return runner.run(filter)


class _Runner:
    """Writes one batch of `_id`s at a time: pre-images with expected fingerprints, the write,
    and (only when they can't be computed) fingerprints read back."""

    undo_limit = undo.UNDO_LIMIT  # the most documents a run keeps undo data for

    def __init__(
        self,
        model: type[MongoModel],
        operation: str,
        update: dict[str, Any] | None,
        undo_key: int | None,
        batch_size: int,
        progress: Progress | None,
        db: Database,
    ) -> None:
        self.model, self.operation = model, operation
        self.undo_key, self.batch_size, self.progress, self.db = undo_key, batch_size, progress, db
        self.collection = db[model.collection]
        self.translated_update = update  # translated once, by `check_spec`
        kind = "update_ids" if operation == "update" else "delete_ids"
        self.writer = BulkWriter(model, kind, update=self.translated_update, db=db)
        self.counts: dict[str, Any] = {"rows": 0, "matched": 0, "modified": 0, "deleted": 0, "rejected": 0}
        self.validate_update: dict[str, Any] | None = None  # set: validate each result before writing
        self.now = dt.datetime.now(dt.UTC)
        self.errors: list[RowError] = []
        self.write_concern_errors: list[WriteConcernError] = []
        self.batches: list[BatchStat] = []
        self.undo_records = 0  # pre-images saved by the batches written
        self.keep_undo = undo_key is not None  # whether the next batches keep undo data
        self.read = 0  # documents read so far: the position of the next batch's first row
        self.skip: Collection[Hashable] = ()  # documents an earlier run of the job wrote

    def run(self, filter: Mapping[str, Any]) -> OperationResult:
        started = time.perf_counter()
        if self.keep_undo:
            undo.prepare(self.db)
        query = translate_filter(self.model, filter)
        batches = matching_batches(self.collection, query, self.batch_size, fields=self._fields())
        try:
            if self.progress is not None:
                self.progress(0, None)  # a cancel here too gets its (empty) result
            # a cancel raised by `progress` after a batch settles stops before the next batch's write
            pipelined(read_ahead(batches), prepare=self._prepare, write=self._save_and_write, settle=self._finish)
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
            write_concern_errors=tuple(self.write_concern_errors),
            batches=tuple(self.batches),
            elapsed=time.perf_counter() - started,
        )
        undo_data = {"undo_records": self.undo_records, "undo_available": self.undo_records > 0}
        done = from_bulk(result, target=self.model.collection, details=undo_data)
        if self.operation != "update":
            return done
        return done.with_counts(UpdateCounts(**done.counts, rejected=self.counts["rejected"]))

    def _fields(self) -> tuple[str, ...] | None:
        """What each batch is read with: whole documents (pre-images) when they are kept for
        undo or validated, else `_id`s only."""
        return None if self.keep_undo or self.validate_update is not None else ()

    def _prepare(self, documents: list[dict[str, Any]]) -> _Batch:
        """A batch to write: the `_id`s of the valid documents (the others are rejected rows)
        and their undo data (pre-images and expected digests), to save before the write. Only
        the read position and whether undo data is kept move on here; the run's counts change
        when the batch is written (`_finish`)."""
        if self.skip:
            documents = [document for document in documents if id_key(document["_id"]) not in self.skip]
        batch = _Batch(self.read, time.perf_counter(), [doc["_id"] for doc in documents], len(documents))
        batch.discard_undo = self._crosses_undo_limit(len(documents))
        self.read += batch.size
        self.keep_undo = keep_undo = self.keep_undo and not batch.discard_undo
        if keep_undo or self.validate_update is not None:
            # Read just now, the documents are the pre-images: those to write are the valid ones.
            before, after, batch.rejected = self._valid(documents, self._after_images(documents), batch.start)
            batch.ids = [doc["_id"] for doc in before]
            if keep_undo and before:
                batch.pre_images, batch.expected = before, self._expected_digests(before, after)
        return batch

    def _save_and_write(self, batch: _Batch) -> BulkResult:
        """Save a batch's undo data, then write it (in the writer thread, batches in order)."""
        if batch.discard_undo and self.undo_key is not None:
            undo.discard(self.undo_key, db=self.db)
        if batch.pre_images:
            job, target = self.undo_key or 0, self.model.collection
            records = undo_batches.save_batch(
                job=job, target=target, documents=batch.pre_images, after=batch.expected, db=self.db
            )
            batch.undo = _PendingUndo(records, read_back=batch.expected is None)
        return self._write(batch.ids)

    def _finish(self, batch: _Batch, result: BulkResult) -> None:
        """Count a written batch: its rejected rows, its undo data (none, and the job's dropped,
        once it went over the undo limit), its write (reading its documents back first when undo
        needs their digests); then report progress."""
        if batch.discard_undo:
            self.undo_records = 0
        self.undo_records += len(batch.pre_images)
        self.counts["rows"] += len(batch.rejected)
        self.counts["rejected"] += len(batch.rejected)
        self.errors.extend(batch.rejected)
        if batch.undo is not None and batch.undo.read_back:
            after_write = by_id(self.collection.find({"_id": {"$in": batch.ids}}))
            undo_batches.record_after(records=batch.undo.records, doc_ids=batch.ids, documents=after_write, db=self.db)
        self._count(result, len(batch.ids), batch.start)
        self.batches.append(BatchStat(len(self.batches) + 1, len(batch.ids), time.perf_counter() - batch.clock))
        if self.progress is not None:
            self.progress(self.counts["rows"], None)

    def _crosses_undo_limit(self, size: int) -> bool:
        """Whether a batch of `size` takes the job over the undo limit: its undo data and the
        job's are then dropped, before its write, and no more is kept."""
        kept = self.read + size + len(self.skip)  # an earlier run's undo data counts too
        return self.keep_undo and self.undo_key is not None and kept > self.undo_limit

    def _after_images(self, before: list[dict[str, Any]]) -> list[Result] | None:
        """The batch's documents as the update will leave them (or why it cannot apply to one),
        computed once for validation and undo digests; None when neither needs them (or, for
        undo only, they can't all be computed)."""
        update = self.translated_update
        if update is None or not before:
            return None
        if self.validate_update is not None:
            return results(before, update, now=self.now, codec_options=self.db.codec_options)
        if not simulate.is_exact(update):
            return None
        try:
            after = results(before, update, now=self.now, codec_options=self.db.codec_options)
        except Exception:
            return None  # the server decides; the undo digests are read back after the write
        return None if any(isinstance(result, InvalidSpec) for result in after) else after

    def _valid(
        self, documents: list[dict[str, Any]], after: list[Result] | None, start: int
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None, list[RowError]]:
        """The documents the update leaves valid (and their after-images), and a rejected row
        for each of the others (not written)."""
        if self.validate_update is None or after is None:
            return documents, _images(after), []
        valid, invalid = split_valid(self.model, documents, after, self.validate_update)
        rejected = {problem.index for problem in invalid}
        images = _images([image for number, image in enumerate(after) if number not in rejected])
        return valid, images, [_rejected(problem, start + problem.index) for problem in invalid]

    def _expected_digests(self, before: list[dict[str, Any]], after: list[dict[str, Any]] | None) -> list[bytes] | None:
        """The digests the documents will have after the write; None when they can't be
        computed here (they are read back after it)."""
        if self.translated_update is None:
            return [undo_batches.GONE] * len(before)
        if after is not None and simulate.is_exact(self.translated_update):
            return [undo_batches.digest(document) for document in after]
        return None

    def _write(self, ids: list[Any]) -> BulkResult:
        return self.writer.write([ids]) if ids else BulkResult(operation=self.operation)

    def _count(self, result: BulkResult, rows: int, start: int) -> None:
        self.counts["rows"] += rows
        self.counts["matched"] += result.matched
        self.counts["modified"] += result.modified
        self.counts["deleted"] += result.deleted
        self.write_concern_errors.extend(result.write_concern_errors)
        for error in result.errors:
            message = f"Batch of {rows} documents from row {start} failed: {error.message}"
            self.errors.append(RowError(start, message, code=error.code, kind=error.kind, field=error.field))


@dataclass
class _Batch:
    """A batch on its way: its first row's position, when it was read, the `_id`s to write, how
    many documents were read and the rejected rows among them, its undo data to save
    (pre-images, expected digests; the job's earlier undo data is dropped first when
    `discard_undo`) and, once saved, its undo records."""

    start: int
    clock: float
    ids: list[Any]
    size: int  # documents read
    rejected: list[RowError] = field(default_factory=list)
    discard_undo: bool = False
    pre_images: list[dict[str, Any]] = field(default_factory=list)
    expected: list[bytes] | None = None
    undo: _PendingUndo | None = None


@dataclass(frozen=True)
class _PendingUndo:
    """A batch's saved undo records (id, documents held); `read_back`: digests still to record."""

    records: list[tuple[Any, int]]
    read_back: bool


def _images(after: list[Result] | None) -> list[dict[str, Any]] | None:
    """After-images known for every document (none refused), else None."""
    if after is None or any(isinstance(result, InvalidSpec) for result in after):
        return None
    return [result for result in after if not isinstance(result, InvalidSpec)]


def _rejected(problem: InvalidResult, index: int) -> RowError:
    return RowError(index, f"Not updated: {problem.describe()}", field=problem.field)


def _db(db: Database | None) -> Database:
    return db if db is not None else get_db()
