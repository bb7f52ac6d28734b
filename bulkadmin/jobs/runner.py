"""Recording operations as `Job` rows: start, progress, finish, fail, interrupt, cancel.

Every entry point (command, web view, task) wraps its operation in `track_job`, so the job row
always ends in a final status with its counts, even when the operation is interrupted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from pymongo.errors import ConnectionFailure

from bulkadmin.bulk.results import BulkResult, RowError
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.models import Job

ERROR_LIMIT = 100  # errors kept on the job row; the full list goes to the job's error file
COUNT_FIELDS = (
    "rows",
    "inserted",
    "matched",
    "modified",
    "upserted",
    "deleted",
    "created",
    "updated",
    "unchanged",
    "skipped",
    "failed",
)


class JobCancelled(BulkAdminError):
    """The job was cancelled by a user; raised between batches."""


def counts_of(result: BulkResult) -> dict[str, Any]:
    """The counts of a result as stored on a job."""
    counts = {name: getattr(result, name) for name in COUNT_FIELDS}
    counts["elapsed"] = round(result.elapsed, 3)
    counts["docs_per_second"] = round(result.docs_per_second, 1)
    return counts


def error_rows(errors: tuple[RowError, ...] | list[RowError], limit: int = ERROR_LIMIT) -> list[dict[str, Any]]:
    """The first `limit` errors as JSON-ready dicts."""
    rows = []
    for error in list(errors)[:limit]:
        row = asdict(error)
        row["field_errors"] = [asdict(item) for item in error.field_errors]
        rows.append(row)
    return rows


def status_for(result: BulkResult) -> str:
    """Succeeded when no row failed; partially failed when some rows were written."""
    if not result.failed:
        return Job.Status.SUCCEEDED
    written = result.inserted + result.updated + result.modified + result.deleted + result.upserted
    return Job.Status.PARTIAL if written or result.unchanged else Job.Status.FAILED


class JobRun:
    """A running job: progress updates (throttled), cancellation checks, and the final record."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last_save = 0.0

    def progress(
        self,
        done: int,
        total: int | None = None,
        *,
        last_committed_row: int | None = None,
        also_save: tuple[str, ...] = (),
    ) -> None:
        """Record progress; raises `JobCancelled` when a user asked to cancel. `also_save` names
        other job fields the caller has set, saved in the same write (a checkpoint)."""
        self.job.rows_done = done
        self.job.rows_total = total
        if last_committed_row is not None:
            self.job.last_committed_row = last_committed_row
        self.job.heartbeat_at = timezone.now()
        fields = ["rows_done", "rows_total", "last_committed_row", "heartbeat_at", *also_save]
        self.job.save(update_fields=fields)
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled(f"Job {self.job.pk} was cancelled after {done} rows.")

    def finish(self, result: BulkResult, *, details: dict[str, Any] | None = None, error_file: str = "") -> Job:
        """Record a finished operation's result and its status."""
        self.job.counts = counts_of(result)
        self.job.batches = [[batch.rows, round(batch.seconds, 4)] for batch in result.batches]
        self.job.errors = error_rows(result.errors)
        self.job.error_count = len(result.errors)
        self.job.error_file = error_file
        self.job.details = details or self.job.details
        self.job.rows_done = result.rows
        return self._close(status_for(result))

    def close(self, status: str, message: str = "") -> Job:
        """Record a final status for an operation that set its own counts on `job`."""
        return self._close(status, message)

    def _close(self, status: str, message: str = "") -> Job:
        self.job.status = status
        self.job.message = message or self.job.message
        self.job.finished_at = timezone.now()
        self.job.save()
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
    """Create (or take over a queued) job row and mark it running."""
    if job is None:
        job = Job(kind=kind, collection=collection, parameters=parameters or {}, origin=origin, dry_run=dry_run)
        job.user = user if getattr(user, "pk", None) else None
    job.status = Job.Status.RUNNING
    job.started_at = timezone.now()
    job.heartbeat_at = job.started_at
    job.worker_pid = os.getpid()
    job.save()
    return JobRun(job)


@contextlib.contextmanager
def track_job(**options: Any) -> Iterator[JobRun]:
    """Run the body as a job; whatever ends it, the job row gets a final status.

    Ctrl-C, a kill signal turned into SystemExit, or a lost connection to MongoDB leave the job
    `interrupted` with its last committed row; a cancellation leaves it `cancelled`; any other
    exception leaves it `failed` with the reason. The exception is re-raised."""
    if not connection.in_atomic_block:  # a long-lived worker drops stale connections; a transaction keeps its own
        close_old_connections()
    run = start_job(**options)
    try:
        yield run
    except JobCancelled as error:
        run._close(Job.Status.CANCELLED, str(error))
        raise
    except (KeyboardInterrupt, SystemExit, ConnectionFailure) as error:
        run._close(Job.Status.INTERRUPTED, f"Interrupted: {error!r}" if str(error) else "Interrupted.")
        raise
    except BaseException as error:
        run._close(Job.Status.FAILED, str(error) or repr(error))
        raise
    if not run.job.is_finished:
        run._close(Job.Status.SUCCEEDED)


def mark_stale_jobs(max_age: float | None = None) -> int:
    """Mark running jobs whose worker stopped reporting for `max_age` seconds (default
    `BULKADMIN_JOB_STALE_SECONDS`) as interrupted; return how many were marked."""
    seconds = max_age if max_age is not None else settings.BULKADMIN_JOB_STALE_SECONDS
    cutoff = timezone.now() - dt.timedelta(seconds=seconds)
    stale = Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff)
    return stale.update(
        status=Job.Status.INTERRUPTED,
        finished_at=timezone.now(),
        message=f"Interrupted: the worker stopped reporting for more than {int(seconds)} seconds.",
    )
