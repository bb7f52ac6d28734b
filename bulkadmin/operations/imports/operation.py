"""The import operation: a file streamed into a collection through the bulk service, recorded as
a job that can be resumed after an interruption.

Rows are read, shaped and written one batch at a time (`bulk_insert` or `bulk_upsert`), so memory
stays flat whatever the file's size; one writer thread writes a batch while the next one is read
and shaped, so parsing and validation overlap the server's work. After each batch the job's
in-memory record is brought up to date (counts, first errors, last committed row, error file size);
it is saved at most once a second and whenever the run ends, however it ends, so `--resume` carries
on after the last committed row.

Inserted rows get `_id`s derived from the job and the row number: a resumed job recognises the
rows of a batch it wrote just before a crash (kill -9, server down) and counts them instead of
inserting them twice. Upserts, merges and deletes by key are idempotent, so re-running that batch
is harmless.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import ObjectId
from django.conf import settings
from pydantic import ValidationError as PydanticValidationError
from pymongo.database import Database

from bulkadmin.bulk import bulk_insert, bulk_upsert
from bulkadmin.bulk.batching import check_batch_size
from bulkadmin.bulk.plans import DUPLICATE_KEY, resolve_key_fields
from bulkadmin.bulk.results import BulkResult, RowError
from bulkadmin.bulk.validation import field_errors
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.mongo import get_db
from bulkadmin.core.processes import pid_exists
from bulkadmin.core.registry import ensure_indexes, site
from bulkadmin.jobs.runner import JobRun, track_job
from bulkadmin.models import Job
from bulkadmin.operations.imports.errors import KEPT_ERRORS, ErrorFile, ImportRowError
from bulkadmin.operations.imports.formats import formats, open_reader
from bulkadmin.operations.imports.readers import ReadOptions, Record
from bulkadmin.operations.imports.shaping import RowProblem, Shaper, parse_mapping
from bulkadmin.operations.imports.sources import (
    ImportFileError,
    Source,
    check_encoding,
    open_source,
)
from bulkadmin.operations.imports.undo_data import ImportUndo

MODES = {"insert": "insert", "upsert": "replace", "replace": "replace", "merge": "merge", "delete": "delete"}
CHECKPOINT_SECONDS = 1.0
RESUMABLE = (Job.Status.INTERRUPTED, Job.Status.CANCELLED, Job.Status.FAILED, Job.Status.RUNNING)
_DRY_RUN_ID = ObjectId(b"dry-run-row!")
COUNTS = ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed")


@dataclass(frozen=True)
class ImportProgress:
    """Where a running import is, given to the `progress` callback after each batch."""

    job_id: int
    rows: int  # rows read so far, over the whole job
    bytes_read: int
    bytes_total: int | None
    elapsed: float  # seconds in this run
    rows_this_run: int

    @property
    def fraction(self) -> float | None:
        if not self.bytes_total:
            return None
        return min(1.0, self.bytes_read / self.bytes_total)


ProgressCallback = Callable[[ImportProgress], None]


@dataclass(frozen=True)
class ImportResult:
    """What an import did. `rows` (read) always equals
    `inserted + updated + unchanged + deleted + rejected + failed`; in a dry run the counts are
    what would have been done. `rejected` rows were invalid; `failed` ones were refused by the
    server (a duplicate key, say). Counts cover the whole job, resumed runs included."""

    job_id: int
    collection: str
    mode: str
    dry_run: bool
    status: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    failed: int = 0
    elapsed: float = 0.0
    rows_this_run: int = 0
    errors: tuple[ImportRowError, ...] = ()
    error_count: int = 0
    error_file: str = ""
    stopped_at: ImportRowError | None = None
    resumed_after: int | None = None
    format: str = ""
    encoding: str = ""
    delimiter: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.failed)

    @property
    def rows_per_second(self) -> float:
        return self.rows_this_run / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        """One line: every count (adding up to rows read), time, speed and the job id."""
        would = "would be " if self.dry_run else ""
        unchanged = "not found" if self.mode == "delete" else "unchanged"
        counts = (
            f"{self.inserted:,} {would}inserted, {self.updated:,} {would}updated, {self.unchanged:,} {unchanged}, "
            f"{self.deleted:,} {would}deleted, {self.rejected:,} rejected, {self.failed:,} failed"
        )
        resumed = f", resumed after row {self.resumed_after:,}" if self.resumed_after else ""
        dry = " (dry run: nothing written)" if self.dry_run else ""
        return (
            f"{self.collection}{dry}: {self.rows:,} rows read: {counts} "
            f"in {self.elapsed:.2f}s ({self.rows_per_second:,.0f} rows/s{resumed}), job {self.job_id}"
        )


def import_file(
    *,
    model: type[MongoModel] | str,
    source: str | os.PathLike[str] | Any,
    mode: str = "insert",
    key_fields: list[str] | tuple[str, ...] | None = None,
    batch_size: int = 1000,
    dry_run: bool = False,
    stop_on_error: bool = False,
    errors_path: str | os.PathLike[str] | None = None,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    mapping: list[str] | dict[str, str] | None = None,
    ignore_blanks: bool = False,
    limit: int | None = None,
    date_format: str | None = None,
    keep_undo: bool = False,
    origin: str = Job.Origin.CLI,
    user: Any = None,
    progress: ProgressCallback | None = None,
    db: Database | None = None,
) -> ImportResult:
    """Import a file in a registered format (see `formats.py`; a path, `-` for stdin, or a binary
    file object) into `model`'s collection, recorded as a `Job`; `sheet` names a workbook's sheet
    (default: the first).

    `mode`: insert; upsert (= replace by key); merge (`$set` the given fields by key); delete (by
    key). Options are checked before the job starts (`InvalidSpec`, `ImportFileError`); a file
    that cannot be read ends the job `failed` and raises `ImportFileError`. An interruption
    (KeyboardInterrupt, SystemExit, a lost server) leaves the job `interrupted` and is re-raised
    with `.job_id` set; `resume_import(job_id)` carries on. `keep_undo` keeps what undo needs
    (the ids of inserted documents, the pre-images of changed ones) in `bulkadmin_undo`."""
    model = site.get(model) if isinstance(model, str) else model
    parameters = _checked_parameters(
        model,
        source=source,
        mode=mode,
        key_fields=key_fields,
        batch_size=batch_size,
        dry_run=dry_run,
        stop_on_error=stop_on_error,
        errors_path=errors_path,
        format=format,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        mapping=mapping,
        ignore_blanks=ignore_blanks,
        limit=limit,
        date_format=date_format,
        keep_undo=keep_undo,
    )
    options = {"origin": origin, "user": user, "dry_run": dry_run, "parameters": parameters}
    return _run(model, options, source=source, progress=progress, db=db)


def check_import_options(model: type[MongoModel], **given: Any) -> dict[str, Any]:
    """The parameters of an import job for `import_file`'s options (raises `InvalidSpec`), to
    queue the job for `run_queued_import`."""
    defaults = {
        "mode": "insert",
        "key_fields": None,
        "batch_size": 1000,
        "dry_run": False,
        "stop_on_error": False,
        "errors_path": None,
        "format": None,
        "encoding": None,
        "delimiter": None,
        "mapping": None,
        "ignore_blanks": False,
        "limit": None,
        "date_format": None,
        "keep_undo": False,
    }
    return _checked_parameters(model, **{**defaults, **given})


def run_queued_import(
    job: Job, *, progress: ProgressCallback | None = None, db: Database | None = None
) -> ImportResult:
    """Run a queued import job (created with `check_import_options`' parameters), reading the
    file its parameters name."""
    return _run(site.get(job.collection), {"job": job}, source=job.parameters["source"], progress=progress, db=db)


def resume_import(
    job: Job | int,
    *,
    source: Any = None,
    progress: ProgressCallback | None = None,
    db: Database | None = None,
) -> ImportResult:
    """Carry on an interrupted import job after its last committed row, with the job's own
    parameters, re-opening the same file (`source` overrides it: stdin, or a moved file)."""
    job = job if isinstance(job, Job) else _get_job(job)
    if job.kind != Job.Kind.IMPORT:
        raise InvalidSpec(f"Job {job.pk} is a {job.get_kind_display().lower()} job, not an import.")
    if job.status not in RESUMABLE:
        raise InvalidSpec(
            f"Job {job.pk} has finished ({job.get_status_display().lower()}); there is nothing to resume."
        )
    if job.status == Job.Status.RUNNING and _alive(job.worker_pid):
        raise InvalidSpec(f"Job {job.pk} is still running (pid {job.worker_pid}).")
    if job.status == Job.Status.FAILED and job.last_committed_row is None:
        raise InvalidSpec(f"Job {job.pk} failed before importing anything ({job.message}); start a new import.")
    model = site.get(job.collection)
    chosen = source if source is not None else job.parameters["source"]
    return _run(model, {"job": job}, source=chosen, progress=progress, db=db)


def _get_job(pk: int) -> Job:
    try:
        return Job.objects.get(pk=pk)
    except Job.DoesNotExist:
        raise InvalidSpec(f"There is no job {pk}.") from None


def _alive(pid: int | None) -> bool:
    return bool(pid) and pid != os.getpid() and pid_exists(pid)


def _checked_parameters(model: type[MongoModel], **given: Any) -> dict[str, Any]:
    """The job's parameters, checked: everything a resumed run needs to read the file again."""
    mode = MODES.get(given["mode"])
    if mode is None:
        raise InvalidSpec(f"mode must be one of {', '.join(MODES)}, got {given['mode']!r}.", field="mode")
    if given["key_fields"] and mode == "insert":
        raise InvalidSpec("--key applies to the upsert, merge and delete modes, not insert.", field="key_fields")
    keys = resolve_key_fields(model, given["key_fields"]) if mode != "insert" else ()
    if mode != "insert" and not keys:
        raise InvalidSpec(f"{model.__name__} declares no key fields; pass --key FIELD.", field="key_fields")
    check_batch_size(given["batch_size"])
    limit = given["limit"]
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidSpec(f"limit must be a positive integer, got {limit!r}.", field="limit")
    delimiter = given["delimiter"]
    if delimiter is not None and len(delimiter) != 1:
        raise InvalidSpec(f"The delimiter must be one character, got {delimiter!r}.", field="delimiter")
    source = given["source"]
    if isinstance(source, (str, os.PathLike)):
        source = "-" if str(source) == "-" else str(Path(source).resolve())
    else:
        source = str(getattr(source, "name", "<stream>"))
    if given["format"]:
        formats.get(given["format"])
    errors_path = given["errors_path"]
    return {
        "source": source,
        "mode": mode,
        "key_fields": list(keys),
        "batch_size": given["batch_size"],
        "dry_run": bool(given["dry_run"]),
        "stop_on_error": bool(given["stop_on_error"]),
        "errors_path": str(Path(errors_path).resolve()) if errors_path else "",
        "format": given["format"] or "",
        "encoding": check_encoding(given["encoding"]) if given["encoding"] else "",
        "delimiter": delimiter or "",
        "sheet": given.get("sheet") or "",
        "mapping": parse_mapping(given["mapping"]),
        "ignore_blanks": bool(given["ignore_blanks"]),
        "limit": limit,
        "date_format": given["date_format"] or "",
        "keep_undo": bool(given.get("keep_undo")),
    }


def _run(
    model: type[MongoModel],
    job_options: dict[str, Any],
    *,
    source: Any,
    progress: ProgressCallback | None,
    db: Database | None,
) -> ImportResult:
    run_holder: list[JobRun] = []
    try:
        with track_job(kind=Job.Kind.IMPORT, collection=model.collection, **job_options) as run:
            run_holder.append(run)
            return _Import(model, run, source, progress, db if db is not None else get_db()).execute()
    except BaseException as error:
        if run_holder:  # the caller can name the job to resume or inspect
            error.job_id = run_holder[0].job.pk  # type: ignore[attr-defined]
        raise


class _Import:
    """One run of an import job (a first run or a resumed one)."""

    def __init__(
        self,
        model: type[MongoModel],
        run: JobRun,
        source: Any,
        progress: ProgressCallback | None,
        db: Database,
    ) -> None:
        self.model, self.run, self.job, self.db = model, run, run.job, db
        self.source_arg = source
        self.progress = progress
        self.params: dict[str, Any] = self.job.parameters
        self.mode: str = self.params["mode"]
        self.keys = tuple(self.params["key_fields"])
        self.dry_run: bool = self.params["dry_run"]
        self.stop_on_error: bool = self.params["stop_on_error"]
        self.batch_size: int = self.params["batch_size"]
        resumed = bool(self.job.details.get("runs"))
        self.resumed_after = (self.job.last_committed_row or 0) if resumed else None
        counts = self.job.counts if self.resumed_after is not None else {}
        self.counts = {name: int(counts.get(name, 0)) for name in COUNTS}
        self.kept = [ImportRowError(**error) for error in self.job.errors] if self.resumed_after is not None else []
        self.error_count = self.job.error_count if self.resumed_after is not None else 0
        self.batches: list[list[float]] = list(self.job.batches) if self.resumed_after is not None else []
        self.last_row = self.resumed_after or 0
        self.rows_this_run = 0
        self.stopped_at: ImportRowError | None = None
        self.started = time.perf_counter()
        self._saved_at = self._batch_done_at = self.started
        self._pending: tuple[list[Record], list[tuple[Record, ImportRowError]], Future] | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"import-{self.job.pk}")
        self.undo: ImportUndo | None = None
        if self.params.get("keep_undo") and not self.dry_run:
            kept = int(self.job.details.get("undo_records", 0))
            self.undo = ImportUndo(job=self.job.pk, model=model, db=db, kept=kept)
        self._check_replayed = self.resumed_after is not None and self.mode == "insert" and not self.dry_run
        self.job.details = {**self.job.details, "runs": self.job.details.get("runs", 0) + 1}
        if "id_seed" not in self.job.details:
            self.job.details["id_seed"] = secrets.token_hex(3)
            self.job.details["id_time"] = int(time.time())
        self._id_prefix = self.job.details["id_time"].to_bytes(4, "big") + bytes.fromhex(self.job.details["id_seed"])

    # The run ---------------------------------------------------------------------------------
    def execute(self) -> ImportResult:
        source = open_source(self.source_arg)
        errors = None
        try:
            reader = self._open_reader(source)
            if not self.dry_run:  # the key's unique index is what refuses duplicate keys
                ensure_indexes(self.model, self.db)
            errors = self.errors = self._error_file(getattr(reader, "header", None))
            self.job.save(update_fields=["details", "error_file"])
            self._read_all(reader, source)
            self._checkpoint(source, save=False)
        finally:
            self._writer.shutdown(wait=False, cancel_futures=True)
            source.close()
            if errors is not None:
                errors.close()
        return self._finish(source)

    def _open_reader(self, source: Source) -> Any:
        details, params = self.job.details, self.params
        if details.get("fingerprint") and source.path is not None and details["fingerprint"] != source.fingerprint():
            raise ImportFileError(f"{source.name} has changed since job {self.job.pk} read it; it cannot be resumed.")
        details["fingerprint"] = source.fingerprint()
        fmt = formats.detect(source.name, details.get("format") or params["format"], source.sample)
        chosen = ReadOptions(
            **{name: details.get(name) or params.get(name) or "" for name in ("encoding", "delimiter", "sheet")}
        )
        reader = open_reader(fmt, source, chosen)
        details.update(format=fmt.name, **reader.settings.given())
        self.shaper = Shaper(
            self.model,
            mode=self.mode,
            key_fields=self.keys,
            mapping=params["mapping"],
            ignore_blanks=params["ignore_blanks"],
            date_format=params["date_format"] or None,
        )
        if not fmt.tabular:
            self.shape = self.shaper.shape_object
            return reader
        if reader.header is not None:
            self.shaper.plan_columns(reader.header, reader.header_line)
        self.shape = self.shaper.shape_cells
        return reader

    def _error_file(self, header: list[str] | None) -> ErrorFile:
        named = self.params["errors_path"]
        path = Path(named) if named else Path(_jobs_dir()) / str(self.job.pk) / "errors.csv"
        resume_at = self.job.details.get("error_file_bytes", 0) if self.resumed_after is not None else None
        errors = ErrorFile(path, header, resume_at=resume_at, eager=bool(named))
        if errors.opened:
            self.job.error_file = str(path)
        return errors

    def _read_all(self, reader: Any, source: Source) -> None:
        skip, limit = self.resumed_after or 0, self.params["limit"]
        chunk: list[Record] = []
        try:
            for record in reader:
                if limit is not None and record.number > limit:
                    break
                if record.number <= skip:
                    continue
                chunk.append(record)
                if len(chunk) >= self.batch_size:
                    self._batch(chunk, source)
                    chunk = []
                    if self.stopped_at is not None:
                        break
        except ImportFileError:
            if chunk:  # write what was read before the file broke
                self._batch(chunk, source)
            self._complete(source)
            raise
        if chunk:
            self._batch(chunk, source)
        self._complete(source)

    # One batch -------------------------------------------------------------------------------
    def _batch(self, chunk: list[Record], source: Source) -> None:
        """Shape a batch, wait for the previous batch's write and record it, then start writing
        this one: the next batch is read and shaped while the server works on this one."""
        docs: list[dict[str, Any]] = []
        owners: list[Record] = []
        problems: list[tuple[Record, ImportRowError]] = []
        for record in chunk:
            error = self._shaped(record, docs)
            if error is not None:
                problems.append((record, error))
                if self.stop_on_error:
                    break
                continue
            owners.append(record)
        self._complete(source)
        if self.stopped_at is not None:
            return  # the previous batch stopped the import: this one is not read
        if self.mode == "insert" and self.dry_run:  # only validation: CPU work gains nothing from a thread
            future: Future = Future()
            future.set_result(self._write(docs, owners))
        else:
            future = self._writer.submit(self._write, docs, owners)
        self._pending = (chunk, problems, future)

    def _complete(self, source: Source) -> None:
        """Wait for the batch being written and record its outcome (a checkpoint)."""
        if self._pending is None:
            return
        chunk, problems, future = self._pending
        self._pending = None
        counts, failures = future.result()
        outcomes = sorted([*problems, *failures], key=lambda item: item[0].number)
        done = chunk
        if self.stop_on_error and outcomes:
            stop_record, stop_error = outcomes[0]
            outcomes = outcomes[:1]
            done = [record for record in chunk if record.number <= stop_record.number]
            self.stopped_at = stop_error
        for name, amount in counts.items():
            self.counts[name] += amount
        for record, error in outcomes:
            self._record_error(record, error)
        self.counts["rows"] += len(done)
        self.rows_this_run += len(done)
        self.last_row = done[-1].number
        self.last_line = done[-1].line
        now = time.perf_counter()
        self.batches.append([len(done), round(now - self._batch_done_at, 4)])
        self._batch_done_at = now
        self._checkpoint(source)
        if self.progress is not None:
            self.progress(
                ImportProgress(
                    self.job.pk,
                    self.counts["rows"],
                    source.stream.bytes_read,
                    source.size,
                    now - self.started,
                    self.rows_this_run,
                )
            )

    def _shaped(self, record: Record, docs: list[dict[str, Any]]) -> ImportRowError | None:
        if record.problem is not None:
            return ImportRowError(record.number, record.line, None, record.problem)
        try:
            document = self.shape(record.raw)
        except RowProblem as problem:
            return ImportRowError(record.number, record.line, problem.field, str(problem))
        if self.mode == "insert" and "_id" not in document and "id" not in document:
            # A dry run only validates: a fixed id spares the model generating one per row.
            document["_id"] = (
                _DRY_RUN_ID if self.dry_run else ObjectId(self._id_prefix + record.number.to_bytes(5, "big"))
            )
        docs.append(document)
        return None

    def _write(
        self, docs: list[dict[str, Any]], owners: list[Record]
    ) -> tuple[dict[str, int], list[tuple[Record, ImportRowError]]]:
        """Write (or, in a dry run, check) one batch; return its counts and its bad rows."""
        counts = dict.fromkeys(("inserted", "updated", "unchanged", "deleted", "rejected", "failed"), 0)
        if self._check_replayed and docs:
            docs, owners, counts["inserted"] = self._skip_replayed(docs, owners)
        if not docs:
            return counts, []
        if self.mode == "insert" and self.dry_run:
            return self._validate_only(docs, owners, counts)
        ordered = self.stop_on_error
        size = len(docs)
        if self.mode == "insert":
            result = bulk_insert(self.model, docs, batch_size=size, ordered=ordered, raise_on_error=False, db=self.db)
            counts["inserted"] += result.inserted
            if self.undo is not None:
                self.undo.after_insert(docs, result, ordered=ordered)
        else:
            result = bulk_upsert(
                self.model,
                docs,
                key_fields=self.keys,
                mode=self.mode,
                batch_size=size,
                ordered=ordered,
                dry_run=self.dry_run,
                raise_on_error=False,
                on_pre_images=self.undo.on_pre_images if self.undo is not None else None,
                db=self.db,
            )
            if self.undo is not None:
                self.undo.after_upsert(result)
            counts["inserted"] += result.created
            counts["updated"] += result.updated
            counts["unchanged"] += result.unchanged
            counts["deleted"] += result.deleted
        return counts, self._failures(result, owners)

    def _failures(self, result: BulkResult, owners: list[Record]) -> list[tuple[Record, ImportRowError]]:
        failures, seen = [], set()
        for error in result.errors:
            if error.index in seen:
                continue
            seen.add(error.index)
            record = owners[error.index]
            kind = "rejected" if error.kind == "validation" else "failed"
            failures.append(
                (record, ImportRowError(record.number, record.line, error.field, self._message(error), kind))
            )
        return failures

    def _message(self, error: RowError) -> str:
        if error.code == DUPLICATE_KEY:
            keys = ", ".join(self.keys or self.model.key_fields) or "_id"
            return f"duplicate key ({keys}): already in the collection or earlier in the file [{error.message}]"
        return error.message

    def _validate_only(
        self, docs: list[dict[str, Any]], owners: list[Record], counts: dict[str, int]
    ) -> tuple[dict[str, int], list[tuple[Record, ImportRowError]]]:
        """A dry-run insert: validation with the model, nothing read from or written to MongoDB."""
        failures = []
        validate = self.model.model_validate
        for document, record in zip(docs, owners, strict=True):
            try:
                validate(document)
            except PydanticValidationError as error:
                found = field_errors(error)
                message = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in found)
                failures.append((record, ImportRowError(record.number, record.line, found[0].field, message)))
                if self.stop_on_error:
                    break
            else:
                counts["inserted"] += 1
        return counts, failures

    def _skip_replayed(
        self, docs: list[dict[str, Any]], owners: list[Record]
    ) -> tuple[list[dict[str, Any]], list[Record], int]:
        """After a crash, rows this job inserted past its last checkpoint are already stored:
        they carry the `_id` derived from their row number, so count them instead of writing."""
        ours = [doc["_id"] for doc in docs if self._is_ours(doc.get("_id"))]
        stored = {doc["_id"] for doc in self.db[self.model.collection].find({"_id": {"$in": ours}}, {"_id": 1})}
        if not stored:
            self._check_replayed = False  # the crash happened before this batch: nothing later was written
            return docs, owners, 0
        kept = [(doc, owner) for doc, owner in zip(docs, owners, strict=True) if doc.get("_id") not in stored]
        return [doc for doc, _ in kept], [owner for _, owner in kept], len(docs) - len(kept)

    def _id_for(self, number: int) -> ObjectId:
        """The `_id` of row `number` of this job: the job's time and seed, then the number."""
        return ObjectId(self._id_prefix + number.to_bytes(5, "big"))

    def _is_ours(self, value: Any) -> bool:
        return isinstance(value, ObjectId) and value.binary[:7] == self._id_prefix

    def _record_error(self, record: Record, error: ImportRowError) -> None:
        self.counts[error.kind] += 1
        self.error_count += 1
        if len(self.kept) < KEPT_ERRORS:
            self.kept.append(error)
        self.errors.write(record, error)

    # The job record --------------------------------------------------------------------------
    def _checkpoint(self, source: Source, *, save: bool = True) -> None:
        """Bring the job's record up to date; save it at most once a second."""
        job = self.job
        job.counts = {**self.counts, "elapsed": round(time.perf_counter() - self.started, 3)}
        job.rows_done = self.counts["rows"]
        job.last_committed_row = self.last_row
        job.errors = [error.as_dict() for error in self.kept]
        job.error_count = self.error_count
        job.batches = self.batches
        if self.errors.opened:
            job.error_file = str(self.errors.path)
        job.details.update(
            error_file_bytes=self.errors.flush(),
            bytes_read=source.stream.bytes_read,
            bytes_total=source.size,
            last_committed_line=getattr(self, "last_line", None),
        )
        if self.undo is not None:
            job.details.update(undo_records=self.undo.kept, undo_available=self.undo.available)
        now = time.perf_counter()
        if save and now - self._saved_at >= CHECKPOINT_SECONDS:
            self._saved_at = now
            fields = ("counts", "errors", "error_count", "error_file", "batches", "details")
            self.run.progress(job.rows_done, None, last_committed_row=self.last_row, also_save=fields)

    def _finish(self, source: Source) -> ImportResult:
        elapsed = time.perf_counter() - self.started
        written = sum(self.counts[name] for name in ("inserted", "updated", "unchanged", "deleted"))
        if not (self.counts["rejected"] or self.counts["failed"]):
            status = Job.Status.SUCCEEDED
        else:
            status = Job.Status.PARTIAL if written else Job.Status.FAILED
        details = self.job.details
        if self.stopped_at is not None:
            details["stopped_at"] = self.stopped_at.as_dict()
        result = ImportResult(
            job_id=self.job.pk,
            collection=self.model.collection,
            mode=self.mode,
            dry_run=self.dry_run,
            status=status,
            **self.counts,
            elapsed=elapsed,
            rows_this_run=self.rows_this_run,
            errors=tuple(self.kept),
            error_count=self.error_count,
            error_file=str(self.errors.path) if self.errors.opened else "",
            stopped_at=self.stopped_at,
            resumed_after=self.resumed_after,
            format=details.get("format", ""),
            encoding=details.get("encoding", ""),
            delimiter=details.get("delimiter"),
        )
        self.job.counts = {
            **self.counts,
            "elapsed": round(elapsed, 3),
            "docs_per_second": round(result.rows_per_second, 1),
        }
        message = result.summary()
        if self.stopped_at is not None:
            message = f"Stopped at {self.stopped_at}. {message}"
        self.run.close(status, message)
        return result


def _jobs_dir() -> str:
    return str(getattr(settings, "BULKADMIN_JOBS_DIR", Path(settings.BASE_DIR) / "var" / "jobs"))
