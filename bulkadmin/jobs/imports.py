"""Imports as jobs: `import_file`, `resume_import` and queued imports, through the runner.

The import's resume state is checkpointed on the job row: at once when the file is open, after
the first batch, then at most once a second, and whatever ends the run. `resume_import` rebuilds
the state from the row and carries on after the last committed row, with the same run identity
(so rows written past the checkpoint before a kill -9 are recognised, not inserted twice).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Iterator
from typing import Any

from pymongo.database import Database

from bulkadmin.bulk.results import RowError
from bulkadmin.core import conf
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.registry import site
from bulkadmin.jobs import files, leases, watch
from bulkadmin.jobs.runner import JobRun, error_row, job_lease_name, track_job
from bulkadmin.models import Job
from bulkadmin.operations.imports.options import ImportOptions, check_import_options
from bulkadmin.operations.imports.pipeline import run_import
from bulkadmin.operations.imports.state import (
    COUNTS,
    Checkpoint,
    ImportProgress,
    ImportProgressCallback,
    ImportState,
    RunIdentity,
)
from bulkadmin.operations.results import OperationResult

CHECKPOINT_SECONDS = 1.0
RESUMABLE = (Job.Status.INTERRUPTED, Job.Status.CANCELLED, Job.Status.FAILED, Job.Status.RUNNING)
CHECKPOINT_FIELDS = ("counts", "rows_done", "last_committed_row", "errors", "error_count", "error_file", "batches")


def import_file(
    *,
    model: type[MongoModel] | str,
    source: str | os.PathLike[str] | Any,
    origin: str = Job.Origin.CLI,
    user: Any = None,
    progress: ImportProgressCallback | None = None,
    db: Database | None = None,
    **options: Any,
) -> OperationResult:
    """Import a file in a registered format (a path, `-` for stdin, or a binary file object)
    into `model`'s collection, recorded as a `Job`; `options` are `check_import_options`'.

    Options are checked before the job starts (`InvalidSpec`, `ImportFileError`); a file that
    cannot be read ends the job `failed`. An interruption (KeyboardInterrupt, SystemExit, a lost
    server) leaves the job `interrupted` and is re-raised with `.job_id` set; `resume_import(job_id)`
    carries on. `keep_undo` keeps what undo needs in `bulkadmin_undo`."""
    model = site.get(model) if isinstance(model, str) else model
    checked = check_import_options(model, source=source, **options)
    job = Job(kind=Job.Kind.IMPORT, collection=model.collection, parameters=checked.to_parameters())
    job.origin, job.dry_run = origin, checked.dry_run
    job.user = user if getattr(user, "pk", None) else None
    return _run(model, job, source=source, progress=progress, db=db)


def run_queued_import(
    job: Job, *, progress: ImportProgressCallback | None = None, db: Database | None = None
) -> OperationResult:
    """Run a queued import job (its parameters made by `check_import_options`), reading the file
    they name: a new one, or one queued to resume after its last committed row (a user resumed it
    with `rules.queue_resume`, or a worker queued it again after its worker died, `watch`)."""
    return _run(site.get(job.collection), job, source=job.parameters["source"], progress=progress, db=db)


def resume_import(
    job: Job | int,
    *,
    source: Any = None,
    progress: ImportProgressCallback | None = None,
    db: Database | None = None,
) -> OperationResult:
    """Carry on an interrupted import job after its last committed row, with the job's own
    options, re-opening the same file (`source` overrides it: stdin, or a moved file)."""
    job = job if isinstance(job, Job) else _get_job(job)
    reason = resume_refused(job)
    if reason:
        raise InvalidSpec(reason)
    chosen = source if source is not None else job.parameters["source"]
    return _run(site.get(job.collection), job, source=chosen, progress=progress, db=db)


def resume_refused(job: Job) -> str:
    """Why `job` cannot be resumed from the command line or Python, or ''."""
    if job.kind != Job.Kind.IMPORT:
        return f"Job {job.pk} is a {job.get_kind_display().lower()} job, not an import."
    if job.status not in RESUMABLE:
        return f"Job {job.pk} has finished ({job.get_status_display().lower()}); there is nothing to resume."
    if job.status == Job.Status.RUNNING and job.pk in watch.mark_gone_here():  # its process here has ended
        job.refresh_from_db()
    holder = leases.holder_of(job_lease_name(job.pk)) if job.status == Job.Status.RUNNING else None
    if holder is not None:
        return f"Job {job.pk} is still running on host {holder.host} (pid {holder.pid}); {_expiry(holder)}."
    if job.status == Job.Status.FAILED and job.last_committed_row is None:
        return f"Job {job.pk} failed before importing anything ({job.message}); start a new import."
    return ""


def _get_job(pk: int) -> Job:
    try:
        return Job.objects.get(pk=pk)
    except Job.DoesNotExist:
        raise InvalidSpec(f"There is no job {pk}.") from None


def _expiry(holder: Any) -> str:
    return f"if that process died, it can be resumed after its lease expires at {leases.when(holder.expires_at)}"


def _run(
    model: type[MongoModel], job: Job, *, source: Any, progress: ImportProgressCallback | None, db: Database | None
) -> OperationResult:
    with track_job(kind=Job.Kind.IMPORT, job=job) as run:
        errors = files.StoredErrorFile(run.job.pk)
        state = state_of(run.job, errors)
        if state.runs:
            errors.fetch()
        checkpoints = Checkpoints(run, progress, errors)
        try:
            with readable(source) as local_source:
                result = run_import(
                    model=model,
                    options=ImportOptions.from_parameters(run.job.parameters, dry_run=run.job.dry_run),
                    source=local_source,
                    identity=identity_of(run.job),
                    state=state,
                    error_file=errors.local,
                    progress=checkpoints,
                    undo_limit=conf.undo_limit(),
                    db=db,
                )
        except BaseException:
            checkpoints.keep_last()
            raise
        errors.push()
        write_state(run.job, state, state.mark(), errors)
        recorded = errors.names(str(result.details.get("error_file", "") or ""))
        return run.finish(dataclasses.replace(result, details={**result.details, "error_file": recorded}))


@contextlib.contextmanager
def readable(source: Any) -> Iterator[Any]:
    """What the reader opens for a job's source: a stored file as a local file, else the source."""
    name = files.stored_name(source)
    if name is None:
        yield source
        return
    with files.local_file(name) as path:
        yield str(path)


class Checkpoints:
    """The import's progress callback: saves its state on the job (the first two at once, then
    at most once a second), checks for a cancel request, then calls the caller's callback."""

    def __init__(self, run: JobRun, progress: ImportProgressCallback | None, errors: files.StoredErrorFile) -> None:
        self.run, self.progress, self.errors = run, progress, errors
        self.saves = 0
        self.saved_at = 0.0
        self.last: ImportProgress | None = None

    def __call__(self, state: ImportProgress) -> None:
        self.last = state
        now = time.perf_counter()
        if self.saves < 2 or now - self.saved_at >= CHECKPOINT_SECONDS:
            self.saves, self.saved_at = self.saves + 1, now
            self.errors.push()  # before the row records it: the stored copy is never shorter
            write_state(self.run.job, state.state, state.checkpoint, self.errors)
            self.run.save(*CHECKPOINT_FIELDS, "details")
            self.run.check_cancel(state.rows)
        if self.progress is not None and state.rows_this_run:
            self.progress(state)

    def keep_last(self) -> None:
        """Set the job's fields to the last checkpoint (the runner saves them with the status),
        the error file cut back to it: it never holds more rows than the job counts."""
        if self.last is None:  # no checkpoint in this run: back to the job's last one
            files.cut_back(str(self.errors.local), int(self.run.job.details.get("error_file_bytes", 0)))
            return
        mark = self.last.checkpoint
        files.cut_back(mark.error_file or str(self.errors.local), mark.error_file_bytes if mark.error_file else 0)
        self.errors.push()
        write_state(self.run.job, self.last.state, mark, self.errors)


def identity_of(job: Job) -> RunIdentity:
    """The job's run identity, made (and kept in its details) on its first run."""
    if "id_seed" not in job.details:
        identity = RunIdentity.new(job.pk)
        job.details = {**job.details, "id_seed": identity.id_seed, "id_time": identity.id_time}
    return RunIdentity(job.pk, job.details["id_time"], job.details["id_seed"])


def state_of(job: Job, errors: files.StoredErrorFile | None = None) -> ImportState:
    """The resume state kept on the job (a fresh one before its first run)."""
    details = job.details
    state = ImportState(
        fingerprint=details.get("fingerprint"),
        format=details.get("format", ""),
        encoding=details.get("encoding", ""),
        encoding_reason=details.get("encoding_reason", ""),
        delimiter=details.get("delimiter"),
        sheet=details.get("sheet", ""),
    )
    if not details.get("runs"):
        return state
    state.runs = details["runs"]
    state.counts = {name: int(job.counts.get(name, 0)) for name in COUNTS}
    state.errors = [RowError.from_row(error) for error in job.errors]
    state.error_count = job.error_count
    state.batches = list(job.batches)
    state.last_row = job.last_committed_row or 0
    state.last_line = details.get("last_committed_line")
    state.error_file = errors.local_of(job.error_file) if errors is not None else job.error_file
    state.error_file_bytes = details.get("error_file_bytes", 0)
    state.bytes_read = int(details.get("bytes_read", 0))
    state.bytes_sha256 = details.get("bytes_sha256", "")
    state.undo_records = int(details.get("undo_records", 0))
    state.undo_available = bool(details.get("undo_available"))
    return state


def write_state(job: Job, state: ImportState, mark: Checkpoint, errors: files.StoredErrorFile | None = None) -> None:
    """Set the job's fields to `state` as of checkpoint `mark` (not saved); the error file by its
    storage name."""
    job.counts = {**mark.counts}
    job.rows_done = mark.counts["rows"]
    job.last_committed_row = mark.last_row or None
    job.errors = [error_row(error) for error in state.errors[: mark.kept_errors]]
    job.error_count = mark.error_count
    job.batches = state.batches[: mark.batch_count]
    job.error_file = errors.names(mark.error_file) if errors is not None else mark.error_file
    job.details = {
        **job.details,
        "runs": state.runs,
        "fingerprint": state.fingerprint,
        "format": state.format,
        "encoding": state.encoding,
        "encoding_reason": state.encoding_reason,
        "delimiter": state.delimiter,
        "sheet": state.sheet,
        "error_file_bytes": mark.error_file_bytes,
        "bytes_read": mark.bytes_read,
        "bytes_sha256": mark.bytes_sha256,
        "bytes_total": state.bytes_total,
        "last_committed_line": mark.last_line,
        "undo_records": mark.undo_records,
        "undo_available": mark.undo_available,
    }
