"""The import operation: a file streamed into a collection through the bulk service.

Rows are read, shaped and written one batch at a time, so memory stays flat whatever the file's
size; one writer thread writes a batch while the next one is read and shaped, so parsing and
validation overlap the server's work. After each batch the resume state is brought up to date
(counts, first errors, last committed row, error file size) and `progress` is called: whoever
runs the import checkpoints the state there, and may stop the run by raising from it.

Upserts, merges and deletes by key are idempotent, so re-running the batch that was being
written when a run died is harmless; inserts recognise their own rows by `_id` (see `state`).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from bulkadmin.bulk.pipelining import pipelined
from bulkadmin.bulk.results import BatchStat, Outcome, RowError
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.mongo import get_db
from bulkadmin.operations.imports.batches import BatchWriter, Failures, Validated
from bulkadmin.operations.imports.errors import KEPT_ERRORS, ErrorFile, row_error
from bulkadmin.operations.imports.formats import formats, open_reader
from bulkadmin.operations.imports.hooks import RowHooks
from bulkadmin.operations.imports.options import ImportOptions
from bulkadmin.operations.imports.readers import ReadOptions, Record
from bulkadmin.operations.imports.shaping import RowProblem, Shaper
from bulkadmin.operations.imports.sources import Detected, ImportFileError, Source, detect, open_source
from bulkadmin.operations.imports.state import (
    ImportProgress,
    ImportProgressCallback,
    ImportState,
    RunIdentity,
)
from bulkadmin.operations.imports.undo_data import ImportUndo
from bulkadmin.operations.results import ImportCounts, OperationResult, concerned
from bulkadmin.operations.undo import UNDO_LIMIT

_DRY_RUN_ID = ObjectId(b"dry-run-row!")


def run_import(
    *,
    model: type[MongoModel],
    options: ImportOptions,
    source: str | os.PathLike[str] | Any = None,
    identity: RunIdentity | None = None,
    state: ImportState | None = None,
    error_file: str | os.PathLike[str] | None = None,
    progress: ImportProgressCallback | None = None,
    undo_limit: int = UNDO_LIMIT,
    db: Database | None = None,
) -> OperationResult:
    """Import `source` (default: the file `options` name) into `model`'s collection.

    `state` is the resume state: a state from an earlier run carries on after its last
    committed row (the same `identity` must be given); it is updated in place. Bad rows go to
    `options.errors_path`, else to `error_file` (created on the first bad row; by default in the
    temporary folder, named after the identity). Undo data is kept for at most `undo_limit`
    documents. Raises
    `ImportFileError` when the file cannot be read; whatever `progress` raises stops the run."""
    identity = identity or RunIdentity.new(0)
    default_errors = Path(tempfile.gettempdir()) / f"bulkadmin-import-{identity.prefix.hex()}-errors.csv"
    run = _Import(
        model,
        options,
        identity,
        state if state is not None else ImportState(),
        Path(error_file) if error_file else default_errors,
        progress,
        db if db is not None else get_db(),
        undo_limit,
    )
    return run.execute(source if source is not None else options.source)


class _Import:
    """One run of an import (a first run or a resumed one)."""

    def __init__(
        self,
        model: type[MongoModel],
        options: ImportOptions,
        identity: RunIdentity,
        state: ImportState,
        error_path: Path,
        progress: ImportProgressCallback | None,
        db: Database,
        undo_limit: int,
    ) -> None:
        self.model, self.options, self.identity, self.state, self.db = model, options, identity, state, db
        self.undo_limit = undo_limit
        self.error_path, self.progress = error_path, progress
        self.resumed_after = state.last_row if state.runs else None
        state.runs += 1
        self.rows_this_run = 0
        self.stopped_at: RowError | None = None
        self.started = self._batch_done_at = time.perf_counter()
        self.file_error: ImportFileError | None = None  # the file broke after these rows were read
        self.writer = BatchWriter(
            model,
            mode=options.mode,
            keys=options.key_fields,
            dry_run=options.dry_run,
            ordered=options.stop_on_error,
            identity=identity,
            undo=self._undo(),
            check_replayed=self.resumed_after is not None and options.mode == "insert" and not options.dry_run,
            db=db,
            placeholder_id=_DRY_RUN_ID,
        )
        self.hooks = RowHooks(model, whole_documents=options.mode != "merge")

    def _undo(self) -> ImportUndo | None:
        if not self.options.keep_undo or self.options.dry_run:
            return None
        limit, kept = self.undo_limit, self.state.undo_records
        return ImportUndo(job=self.identity.run_id, model=self.model, db=self.db, limit=limit, kept=kept)

    # The run ---------------------------------------------------------------------------------
    def execute(self, source_arg: Any) -> OperationResult:
        source = open_source(source_arg)
        self.errors: ErrorFile | None = None
        try:
            reader = self._open_reader(source)
            self.writer.start()
            self.errors = self._error_file(getattr(reader, "header", None))
            self._report(source)  # the file is open: how it is read is part of the resume state
            self._read_all(reader, source)
            self._update_state(source)
        finally:
            self.writer.close()
            source.close()
            if self.errors is not None:
                self.errors.close()
        return self._result()

    def _open_reader(self, source: Source) -> Any:
        state, options = self.state, self.options
        if self._changed(source):
            raise ImportFileError(
                f"{source.name} has changed since job {self.identity.run_id} read it; it cannot be resumed."
            )
        state.fingerprint = source.fingerprint()
        fmt = formats.detect(source.name, state.format or options.format, source.sample)
        state.format = fmt.name
        if "encoding" in fmt.options and not state.encoding:
            named = Detected(options.encoding, "chosen") if options.encoding else None
            detected = named or detect(source.sample, source.at_eof)
            state.encoding, state.encoding_reason = detected.encoding, detected.reason if detected.notable else ""
        chosen = ReadOptions(
            encoding=state.encoding or options.encoding,
            delimiter=state.delimiter or options.delimiter,
            sheet=state.sheet or options.sheet,
            extended_json=options.extended_json,
        )
        reader = open_reader(fmt, source, chosen)
        state.delimiter = reader.settings.delimiter or None
        state.sheet = reader.settings.sheet
        self.shaper = Shaper(
            self.model,
            mode=options.mode,
            key_fields=options.key_fields,
            mapping=options.mapping,
            ignore_blanks=options.ignore_blanks,
            date_format=options.date_format or None,
        )
        if not fmt.tabular:
            self.shape: Callable[[Any], dict[str, Any]] = self.shaper.shape_object
            return reader
        if reader.header is not None:
            self.shaper.plan_columns(reader.header, reader.header_line)
        self.shape = self.shaper.shape_cells
        return reader

    def _changed(self, source: Source) -> bool:
        """Whether the file's size, or any byte an earlier run read (all of them, hashed as they
        were read), has changed since."""
        state = self.state
        if self.resumed_after is None or source.path is None or not state.fingerprint:
            return False
        if state.bytes_sha256:
            resized = state.fingerprint.get("size") != source.size
            return resized or source.changed_before(state.bytes_read, state.bytes_sha256)
        return state.fingerprint != source.fingerprint()

    def _error_file(self, header: list[str] | None) -> ErrorFile:
        named = self.options.errors_path
        path = Path(named) if named else self.error_path
        resume_at = self.state.error_file_bytes if self.resumed_after is not None else None
        errors = ErrorFile(path, header, resume_at=resume_at, eager=bool(named))
        if errors.opened:
            self.state.error_file = str(path)
        return errors

    def _read_all(self, reader: Any, source: Source) -> None:
        """Shape each batch while the previous one is written, recording each written batch (a
        checkpoint) before the next is sent; stop after the batch that stopped the import."""
        pipelined(
            self._chunks(reader),
            prepare=self._prepare,
            write=lambda shaped: self.writer.write(shaped.docs, shaped.owners, shaped.validated),
            settle=lambda shaped, written: self._complete(source, shaped, *written),
            stopped=lambda: self.stopped_at is not None,
            name=f"import-{self.identity.run_id}",
        )
        if self.file_error is not None:
            raise self.file_error  # after writing what was read before the file broke

    def _chunks(self, reader: Any) -> Iterator[list[Record]]:
        """The records to import, a batch at a time: those after the resume point, up to the
        limit; when the file breaks, the records read before it (and `file_error` is set)."""
        skip, limit, size = self.resumed_after or 0, self.options.limit, self.options.batch_size
        chunk: list[Record] = []
        before: list[Record] = []  # in a resumed dry-run insert, rows before the resume point
        try:
            for record in reader:
                if limit is not None and record.number > limit:
                    break
                if record.number <= skip:
                    if self.writer.validates_first:
                        before.append(record)
                        before = self._retake_keys(before, at_least=size)
                    continue
                if before:
                    before = self._retake_keys(before)
                chunk.append(record)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
        except ImportFileError as error:
            self.file_error = error
        if chunk:
            yield chunk

    def _retake_keys(self, records: list[Record], *, at_least: int = 1) -> list[Record]:
        """Once there are `at_least` of them, take again the keys of rows a resumed dry-run insert
        went through before its resume point, as its earlier run took them (nothing counted), so
        later rows repeating them are refused as in the real run; return the rows still waiting."""
        if len(records) < at_least:
            return records
        shaped = self._shape_batch(records)
        self.writer.take_keys(self.writer.validate(shaped.docs, shaped.owners))
        return []

    # One batch -------------------------------------------------------------------------------
    def _prepare(self, chunk: list[Record]) -> _Shaped:
        """A batch shaped (and, in a dry-run insert, validated: the CPU work stays in this thread
        while the writer thread checks the previous batch's keys)."""
        shaped = self._shape_batch(chunk)
        if self.writer.validates_first:
            shaped.validated = self.writer.validate(shaped.docs, shaped.owners)
        return shaped

    def _shape_batch(self, chunk: list[Record]) -> _Shaped:
        """A batch's documents and the records they come from; its rows that cannot be shaped
        (up to the first one, when the import stops on errors)."""
        shaped = _Shaped(chunk)
        plain = self._plain_docs(chunk)
        if plain is not None:
            shaped.docs, shaped.owners = plain, list(chunk)
            return shaped
        for record in chunk:
            error = self._shaped(record, shaped.docs)
            if error is not None:
                shaped.problems.append((record, error))
                if self.options.stop_on_error:
                    break
                continue
            shaped.owners.append(record)
        return shaped

    def _plain_docs(self, chunk: list[Record]) -> list[dict[str, Any]] | None:
        """The batch's documents shaped at once when no row needs work of its own (none rejected
        by the reader, no row hooks, columns that go as they are to fields), with their ids as
        `_shaped` gives them; else None."""
        if self.hooks or any(record.problem is not None for record in chunk):
            return None
        docs = self.shaper.shape_plain_rows([record.raw for record in chunk])
        if docs is not None and self.options.mode == "insert":
            dry_run, row_id = self.options.dry_run, self.identity.row_id
            for record, document in zip(chunk, docs, strict=True):
                if "_id" not in document and "id" not in document:
                    document["_id"] = _DRY_RUN_ID if dry_run else row_id(record.number)
        return docs

    def _shaped(self, record: Record, docs: list[dict[str, Any]]) -> RowError | None:
        if record.problem is not None:
            return row_error(record, record.problem, record.field)
        try:
            document = self.shape(record.raw)
            if self.hooks:
                document = self.hooks.apply(document)
        except RowProblem as problem:
            return row_error(record, str(problem), problem.field)
        if self.options.mode == "insert" and "_id" not in document and "id" not in document:
            # A dry run only validates: a fixed id spares the model generating one per row.
            document["_id"] = _DRY_RUN_ID if self.options.dry_run else self.identity.row_id(record.number)
        docs.append(document)
        return None

    def _complete(self, source: Source, shaped: _Shaped, counts: dict[str, int], failures: Failures) -> None:
        """Record a written batch's outcome (a checkpoint)."""
        outcomes = sorted([*shaped.problems, *failures], key=lambda item: item[0].number)
        done = shaped.chunk
        if self.options.stop_on_error and outcomes:
            stop_record, self.stopped_at = outcomes[0]
            outcomes = outcomes[:1]
            done = [record for record in done if record.number <= stop_record.number]
        state = self.state
        for name, amount in counts.items():
            state.counts[name] += amount
        for record, error in outcomes:
            self._record_error(record, error)
        state.counts["rows"] += len(done)
        self.rows_this_run += len(done)
        state.last_row, state.last_line = done[-1].number, done[-1].line
        now = time.perf_counter()
        state.batches.append([len(done), round(now - self._batch_done_at, 4)])
        self._batch_done_at = now
        self._report(source)

    def _record_error(self, record: Record, error: RowError) -> None:
        self.state.counts[error.outcome] += 1
        self.state.error_count += 1
        if len(self.state.errors) < KEPT_ERRORS:
            self.state.errors.append(error)
        if self.errors is not None:
            self.errors.write(record, error)

    # The state and the result ----------------------------------------------------------------
    def _update_state(self, source: Source) -> None:
        state = self.state
        state.bytes_read, state.bytes_total = source.stream.bytes_read, source.size
        state.bytes_sha256 = source.stream.digest()
        if self.errors is not None:
            state.error_file_bytes = self.errors.flush()
            if self.errors.opened:
                state.error_file = str(self.errors.path)
        undo = self.writer.undo
        if undo is not None:
            state.undo_records, state.undo_available = undo.kept, undo.available

    def _report(self, source: Source) -> None:
        self._update_state(source)
        if self.progress is None:
            return
        state = self.state
        self.progress(
            ImportProgress(
                self.identity.run_id,
                state.counts["rows"],
                state.bytes_read,
                state.bytes_total,
                time.perf_counter() - self.started,
                self.rows_this_run,
                state.mark(),
                state,
            )
        )

    def _result(self) -> OperationResult:
        state, counts = self.state, self.state.counts
        written = sum(counts[name] for name in ("inserted", "updated", "unchanged", "deleted"))
        failed = counts["rejected"] or counts["failed"]
        status = Outcome.SUCCEEDED if not failed else Outcome.PARTIAL if written else Outcome.FAILED
        concerns = tuple(self.writer.write_concern_errors)
        details = {
            "mode": self.options.mode,
            "rows_this_run": self.rows_this_run,
            "resumed_after": self.resumed_after,
            "stopped_at": self.stopped_at,
            "error_file": state.error_file if self.errors is not None and self.errors.opened else "",
            "format": state.format,
            "encoding": state.encoding,
            "encoding_reason": state.encoding_reason,
            "delimiter": state.delimiter,
        }
        return OperationResult(
            operation="import",
            target=self.model.collection,
            counts=ImportCounts(**counts),
            errors=tuple(state.errors),
            error_count=state.error_count,
            batches=tuple(BatchStat(n, int(rows), seconds) for n, (rows, seconds) in enumerate(state.batches, 1)),
            details=details,
            elapsed=time.perf_counter() - self.started,
            dry_run=self.options.dry_run,
            status=concerned(status, concerns),
            write_concern_errors=concerns,
        )


@dataclass
class _Shaped:
    """One batch of records, shaped: the documents to write, the records they come from (their
    owners, in order) and the records that could not be shaped."""

    chunk: list[Record]
    docs: list[dict[str, Any]] = field(default_factory=list)
    owners: list[Record] = field(default_factory=list)
    problems: Failures = field(default_factory=list)
    validated: Validated | None = None  # in a dry-run insert
