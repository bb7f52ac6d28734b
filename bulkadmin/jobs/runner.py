"""The one runner: every operation run from a command, a task or the web is a `Job` row that it
starts (or takes over from the queue), heartbeats, cancels, finishes and records.

Operations know nothing of jobs: they take a progress callback (`JobRun.progress`, which
raises `Cancelled` when a user asked to stop) and return an `OperationResult`, which
`JobRun.finish` writes; whatever else ends the run still leaves the job in a final status.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, is_dataclass
from typing import Any

from django.db import DatabaseError, InterfaceError, InternalError, OperationalError, close_old_connections, connection
from django.utils import timezone
from pymongo.errors import ConnectionFailure

from bulkadmin.core import conf
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import joblog, leases
from bulkadmin.jobs.error_pages import write_error_file
from bulkadmin.jobs.heartbeat import Heartbeat
from bulkadmin.jobs.summaries import summary
from bulkadmin.models import Job
from bulkadmin.operations.progress import Cancelled
from bulkadmin.operations.results import OperationResult

ERROR_LIMIT = 100  # errors kept on the job row; the full list goes to the job's error file
JOB_LEASE_PREFIX = "job-"
# Django's database is down, locked, read-only or full (not a bad statement or value: those fail the job).
UNAVAILABLE = (OperationalError, InterfaceError, InternalError)
RECORD_SECONDS = 10.0  # how long a run keeps trying to record how it ended while that database refuses
logger = logging.getLogger("bulkadmin.jobs")


def error_row(error: Any) -> dict[str, Any]:
    """A `RowError` as a JSON-ready dict for the job row."""
    return json_ready(error)


def json_ready(value: Any) -> Any:
    """`value` with dataclasses as dicts, tuples as lists, datetimes as ISO text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {key: json_ready(item) for key, item in asdict(value).items()}
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


class JobTaken(BulkAdminError):
    """Another worker started the job (or its status changed) since it was read; `.job_id` names it."""

    def __init__(self, job_id: int, expected: str) -> None:
        self.job_id = job_id
        super().__init__(f"Job {job_id} is no longer {expected}: another worker took it or it changed.")


class JobsDatabaseUnavailable(BulkAdminError):
    """Django's database, where jobs are recorded, refused job `.job_id` part way (`.cause`, its
    message); `.recorded` says whether the job's end was recorded all the same."""

    def __init__(self, job_id: int, cause: str, *, recorded: bool) -> None:
        self.job_id, self.cause, self.recorded = job_id, cause, recorded
        super().__init__(f"Django's database, where jobs are recorded, could not be written ({cause}).")


def database_cause(error: BaseException) -> str:
    """The first line of a database error's message, for a person."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


class JobRun:
    """A running job: progress (with the cancel check), checkpoints, the heartbeat, and the final
    record. It holds the job's lease (`job-<id>`) until it ends."""

    def __init__(self, job: Job, lease: leases.Holder | None = None) -> None:
        self.job = job
        self.lease = lease

    def beat(self) -> None:
        """The heartbeat (from `Heartbeat`'s thread): the job's `heartbeat_at` and its lease."""
        Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
        if self.lease is not None:
            self.lease.renew()

    def check_lease(self) -> None:
        """Raise `JobTaken` when this run lost its lease (it stopped reporting and another worker
        took the job over): it must stop without writing anything more."""
        if self.lease is None:
            return
        try:
            self.lease.confirm()
        except leases.LeaseLost:
            raise JobTaken(self.job.pk, "ours") from None

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()

    def progress(self, done: int, total: int | None = None) -> None:
        """Record progress and a heartbeat; raises `Cancelled` when a user asked to stop."""
        self.job.rows_done = done
        self.job.rows_total = total
        self.save("rows_done", "rows_total")
        self.check_cancel(done)

    def save(self, *fields: str) -> None:
        """Save `fields` the caller has set on `job`, with a heartbeat (a checkpoint)."""
        self.check_lease()
        self.job.heartbeat_at = timezone.now()
        self.job.save(update_fields=["heartbeat_at", *fields])

    def check_cancel(self, done: int) -> None:
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise Cancelled(f"Job {self.job.pk} was cancelled after {done} rows.")

    def finish(self, result: OperationResult) -> OperationResult:
        """Record a finished operation's result and its status; return it naming the job."""
        result = result.for_job(self.job.pk)
        self.record(result)
        stopped = result.details.get("stopped_at")
        told = summary(result)
        self.close(result.status, f"Stopped at {str(stopped).rstrip('.')}. {told}" if stopped else told)
        return result

    def record(self, result: OperationResult) -> None:
        """Set the job's counts, batches, errors and details from `result` (not saved); the
        server's write-concern errors, as it sent them, in `details["write_concern_errors"]`."""
        job = self.job
        job.counts = {
            **result.counts,
            "elapsed": round(result.elapsed, 3),
            "docs_per_second": round(result.rows_per_second, 1),
        }
        job.batches = [[batch.rows, round(batch.seconds, 4)] for batch in result.batches]
        job.errors = [error_row(error) for error in result.errors[:ERROR_LIMIT]]
        job.error_count = result.error_count
        job.error_file = result.details.get("error_file", "") or ""
        if not job.error_file and len(result.errors) > ERROR_LIMIT and job.pk is not None:
            job.error_file = write_error_file(job, result.errors)  # every error, not only the first kept
        job.details = {**job.details, **json_ready(dict(result.details))}
        if result.write_concern_errors:
            job.details["write_concern_errors"] = [json_ready(e.as_reply()) for e in result.write_concern_errors]
        job.rows_done = result.rows

    def close(self, status: str, message: str = "") -> Job:
        """Record a final status."""
        self.check_lease()
        self.job.status = status
        self.job.message = message or self.job.message
        self.job.finished_at = timezone.now()
        self.job.save()
        joblog.finished(self.job)
        return self.job


def start_job(
    *,
    kind: str,
    collection: str = "",
    parameters: dict[str, Any] | None = None,
    origin: str = Job.Origin.CLI,
    user: Any = None,
    dry_run: bool = False,
    job: Job | None = None,
) -> JobRun:
    """Create a job row and mark it running, or take over `job` (a new row, a queued one, or an
    unfinished one being resumed). Taking over is a conditional update from the status `job` was
    read with, under the job's lease, so two workers never run the same job (`JobTaken`)."""
    if job is None:
        job = Job(kind=kind, collection=collection, parameters=parameters or {}, origin=origin, dry_run=dry_run)
        job.user = user if getattr(user, "pk", None) else None
    lease = _job_lease(job) if job.pk is not None else None
    now = timezone.now()
    running = {"status": Job.Status.RUNNING, "started_at": now, "heartbeat_at": now, "worker_pid": os.getpid()}
    if job.pk is not None:
        if not Job.objects.filter(pk=job.pk, status=job.status).update(**running, cancel_requested=False):
            if lease is not None:
                lease.release()
            raise JobTaken(job.pk, job.status)
        job.cancel_requested = False
    for name, value in running.items():
        setattr(job, name, value)
    job.save()
    run = JobRun(job, lease or _job_lease(job))
    joblog.started(job)
    return run


def job_lease_name(job_id: int) -> str:
    return f"{JOB_LEASE_PREFIX}{job_id}"


def _job_lease(job: Job) -> leases.Holder:
    try:
        return leases.acquire(job_lease_name(job.pk))
    except leases.LeaseHeld:
        raise JobTaken(job.pk, job.status) from None


@contextlib.contextmanager
def track_job(**options: Any) -> Iterator[JobRun]:
    """Run the body as a job (`start_job`'s options); whatever ends it, the job gets a final status.

    Ctrl-C, a kill signal turned into SystemExit, a lost connection to MongoDB, or Django's
    database refusing part way leave the job `interrupted` with its last checkpoint; a cancellation
    leaves it `cancelled`; any other exception leaves it `failed` with the reason. The exception is
    re-raised with `.job_id`; Django's database refusing, as `JobsDatabaseUnavailable`."""
    if not connection.in_atomic_block:  # a long-lived worker drops stale connections; a transaction keeps its own
        close_old_connections()
    run = start_job(**options)
    try:
        with Heartbeat(run.beat, interval=min(conf.heartbeat_seconds(), conf.lease_seconds() / 3)):
            yield run
    except BaseException as error:
        raised = _raised(error, run.job.pk, _close_on(run, error))
        with contextlib.suppress(AttributeError, TypeError):
            raised.job_id = run.job.pk  # type: ignore[attr-defined]
        if raised is error:
            raise
        raise raised from error
    else:
        if not run.job.is_finished:
            run.close(Job.Status.SUCCEEDED)
    finally:
        run.release()


def _close_on(run: JobRun, error: BaseException) -> DatabaseError | None:
    """Record how the run ended; the error of Django's database when it could not (`record_end`)."""
    if run.lease is not None and run.lease.lost:
        return None  # another worker took the job over: its row is theirs
    if isinstance(error, Cancelled):  # a user asked to stop, or a lease it held was lost
        if isinstance(error.result, OperationResult):  # what it did before stopping
            run.record(error.result)
        elif not run.job.counts:
            run.job.counts = {"rows": run.job.rows_done}
        lost = isinstance(error, leases.LeaseLost)
        return record_end(run, Job.Status.INTERRUPTED if lost else Job.Status.CANCELLED, str(error))
    if isinstance(error, UNAVAILABLE):
        cause = f"Django's database could not be written ({database_cause(error)})"
        return record_end(run, Job.Status.INTERRUPTED, f"Interrupted: {cause}.")
    if isinstance(error, (KeyboardInterrupt, SystemExit, ConnectionFailure)):
        return record_end(run, Job.Status.INTERRUPTED, f"Interrupted: {error!r}" if str(error) else "Interrupted.")
    return record_end(run, Job.Status.FAILED, str(error) or repr(error))


def record_end(run: JobRun, status: str, message: str) -> DatabaseError | None:
    """Record the run's final status, trying again for `RECORD_SECONDS` (on a new connection)
    while Django's database refuses; None once recorded, else the database's last error (the job
    stays `running` until a process of this machine sees this one has ended: `watch.mark_gone_here`)."""
    deadline, first = time.monotonic() + RECORD_SECONDS, True
    while True:
        try:
            run.close(status, message)
            return None
        except DatabaseError as error:
            if connection.in_atomic_block or time.monotonic() >= deadline:
                logger.warning("job %s: its end (%s) could not be recorded: %s", run.job.pk, status, error)
                return error
            if first:
                again = f"trying again for up to {RECORD_SECONDS:g} seconds"
                logger.warning("job %s: recording its end (%s) failed; %s: %s", run.job.pk, status, again, error)
        with contextlib.suppress(DatabaseError):
            connection.close()  # a broken connection stays broken: the next try opens another
        first = False
        time.sleep(1)


def _raised(error: BaseException, job_id: int, unrecorded: DatabaseError | None) -> BaseException:
    """What a run that ended with `error` raises: `JobsDatabaseUnavailable` when Django's database
    refused the run or its end (an exception, not Ctrl-C), else `error`."""
    refused = error if isinstance(error, UNAVAILABLE) else unrecorded
    if refused is None or not isinstance(error, Exception):
        return error
    return JobsDatabaseUnavailable(job_id, database_cause(refused), recorded=unrecorded is None)


def run_job(operation: Callable[[JobRun], OperationResult], **options: Any) -> OperationResult:
    """Run `operation` (given the run, for its progress) as a job and record its result."""
    with track_job(**options) as run:
        return run.finish(operation(run))


def take_queued(job_id: int) -> Job | None:
    """The queued job, or None when it is finished or was cancelled while queued (then it is
    marked so, with a conditional update: a job runs at most once)."""
    job = Job.objects.select_related("user").get(pk=job_id)
    if job.is_finished:
        return None
    if job.cancel_requested:
        Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now(), message="Cancelled before it started."
        )
        return None
    return job
