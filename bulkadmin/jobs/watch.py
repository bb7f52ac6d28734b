"""What the workers do besides running tasks: notice jobs whose worker died and resume imports.

A running job heartbeats every `BULKADMIN_HEARTBEAT_SECONDS`; one silent for longer than
`BULKADMIN_JOB_STALE_SECONDS` whose lease has expired is marked interrupted, with how far it got,
once every other lease its worker held (a cleanup's, a sync's) has expired too; one whose process
on this machine has ended is marked at once (`mark_gone_here`, also run by `import_csv`). A scheduled run's
job is queued again as the same job in the same transaction (a cleanup, sync or export runs whole
again: each is idempotent), at most `BULKADMIN_AUTO_RESUME` times.
An interrupted import started by the web or a task is queued again for another worker, at most
`BULKADMIN_AUTO_RESUME` times; it carries on after its last committed row exactly as `--resume`
would. Every step is a conditional update, so any number of workers may watch at once. Expired
uploads of the web Import and files of the web Export are deleted once an hour.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.db import DatabaseError, close_old_connections, connections, transaction
from django.db.models.functions import Now
from django.utils import timezone

from bulkadmin.core import conf
from bulkadmin.jobs import joblog, leases, queue
from bulkadmin.jobs.exports import purge_exports
from bulkadmin.jobs.runner import JOB_LEASE_PREFIX, job_lease_name
from bulkadmin.jobs.uploads import purge_uploads
from bulkadmin.models import Job

logger = logging.getLogger("bulkadmin.jobs")
AUTO_RESUMED_ORIGINS = (Job.Origin.WEB, Job.Origin.TASK)
PURGE_EVERY_SECONDS = 3600
_last_purge: list[float] = []  # when this process last purged uploads (time.monotonic)


def mark_stale_jobs(max_age: float | None = None) -> int:
    """Mark running jobs whose worker stopped reporting for `max_age` seconds (default
    `BULKADMIN_JOB_STALE_SECONDS`) and whose leases all expired as interrupted, a scheduled run's
    job queued again at once (`requeue_scheduled`); return how many were marked."""
    seconds = max_age if max_age is not None else conf.job_stale_seconds()
    cutoff = timezone.now() - dt.timedelta(seconds=seconds)
    marked = 0
    for job in Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff):
        if _still_held(job):
            continue
        silent = f"stopped reporting for more than {int(seconds)} seconds"
        message = f"Interrupted after {job.rows_done} rows: {_worker(job)} {silent}."
        stale = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, heartbeat_at__lt=cutoff)
        with transaction.atomic():  # a scheduled job is never seen interrupted: queued again with it
            if not stale.update(status=Job.Status.INTERRUPTED, finished_at=timezone.now(), message=message):
                continue
            job.refresh_from_db()
            requeued = requeue_scheduled(job)
        marked += 1
        joblog.finished(job)
        _log_requeued(requeued)
    return marked


def mark_gone_here() -> list[int]:
    """Mark the running jobs whose process on this machine has ended interrupted at once, with how
    far they got, and free every lease such a process held (`leases.free_gone_here`); a scheduled
    run's job is queued again. Return the ids of the jobs marked."""
    marked = []
    for lease in leases.free_gone_here():
        if lease.name.startswith(JOB_LEASE_PREFIX):
            gone = f"its process on host {lease.host} (pid {lease.pid}) is no longer running"
            marked += _mark_gone(int(lease.name.removeprefix(JOB_LEASE_PREFIX)), gone)
    return marked


def _mark_gone(job_id: int, gone: str) -> list[int]:
    """Mark the job `job_id` interrupted if it is still running ([job_id]), else []."""
    running = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING)
    with transaction.atomic():
        job = running.first()
        ended = {"status": Job.Status.INTERRUPTED, "finished_at": timezone.now()}
        if job is None or not running.update(**ended, message=f"Interrupted after {job.rows_done} rows: {gone}."):
            return []
        job.refresh_from_db()
        requeued = requeue_scheduled(job)
    joblog.finished(job)
    _log_requeued(requeued)
    return [job_id]


def _still_held(job: Job) -> bool:
    """Whether the job's lease, or any other lease of the process holding it (a cleanup's or a
    sync's), has not expired yet: the worker may be alive, or another may not take its work yet."""
    if leases.holder_of(job_lease_name(job.pk)) is not None:
        return True
    lease = leases.Lease.objects.filter(name=job_lease_name(job.pk)).first()
    if lease is None:
        return False
    owner = {"host": lease.host, "pid": lease.pid, "process_started": lease.process_started}
    return leases.Lease.objects.filter(**owner, expires_at__gte=Now()).exists()


def requeue_scheduled(job: Job, attempts: int | None = None) -> list[int]:
    """Queue `job` again, as the same job, when it is an interrupted scheduled run's job that was
    queued again fewer than `attempts` times (default `BULKADMIN_AUTO_RESUME`); [job id] or []."""
    limit = attempts if attempts is not None else conf.auto_resume()
    scheduled = Job.objects.filter(
        pk=job.pk, scheduled_run__isnull=False, status=Job.Status.INTERRUPTED, resume_attempts=job.resume_attempts
    )
    if job.resume_attempts >= limit:
        return []
    attempt = job.resume_attempts + 1
    message = f"Queued again for another worker (automatic attempt {attempt} of {limit}). {job.message}"
    with transaction.atomic():
        if not scheduled.update(status=Job.Status.QUEUED, resume_attempts=attempt, finished_at=None, message=message):
            return []
        queue.enqueue("run_job", job.pk)
    return [job.pk]


def requeue_interrupted_scheduled(attempts: int | None = None) -> list[int]:
    """Queue again every interrupted scheduled run's job (its worker stopped, or lost a lease)
    with attempts left; return the job ids queued."""
    limit = attempts if attempts is not None else conf.auto_resume()
    candidates = Job.objects.filter(
        scheduled_run__isnull=False, status=Job.Status.INTERRUPTED, resume_attempts__lt=limit
    )
    queued = [pk for job in candidates for pk in requeue_scheduled(job, limit)]
    _log_requeued(queued, "it was interrupted")
    return queued


def _log_requeued(queued: list[int], why: str = "its worker died") -> None:
    for pk in queued:
        logger.info("job %s: a scheduled run queued again after %s", pk, why)


def resume_interrupted(attempts: int | None = None) -> list[int]:
    """Queue interrupted imports (started from the web or a task) to resume on a worker, each at
    most `attempts` times (default `BULKADMIN_AUTO_RESUME`); return the job ids queued."""
    limit = attempts if attempts is not None else conf.auto_resume()
    candidates = Job.objects.filter(
        kind=Job.Kind.IMPORT, status=Job.Status.INTERRUPTED, origin__in=AUTO_RESUMED_ORIGINS, resume_attempts__lt=limit
    )
    queued = []
    for job in candidates:
        attempt = job.resume_attempts + 1
        message = f"Resuming on another worker (automatic attempt {attempt} of {limit}). {job.message}"
        with transaction.atomic():
            claimed = Job.objects.filter(pk=job.pk, status=Job.Status.INTERRUPTED, resume_attempts=job.resume_attempts)
            if claimed.update(status=Job.Status.QUEUED, resume_attempts=attempt, finished_at=None, message=message):
                queue.enqueue("resume_import_job", job.pk)
                queued.append(job.pk)
    for pk in queued:
        logger.info("job %s: queued to resume automatically", pk)
    return queued


def watch_once() -> None:
    """One round: mark dead workers' jobs interrupted, queue the imports to resume and the
    scheduled runs again, and (at most once every `PURGE_EVERY_SECONDS`) delete expired uploads."""
    close_old_connections()
    mark_gone_here()
    mark_stale_jobs()
    resume_interrupted()
    requeue_interrupted_scheduled()
    purge_expired_uploads()


def purge_expired_uploads(now: float | None = None) -> bool:
    """Delete the web Import's expired uploads and the web Export's expired files if this process
    has not for `PURGE_EVERY_SECONDS` (both are also purged before each new one); return whether it did."""
    moment = time.monotonic() if now is None else now
    if _last_purge and moment - _last_purge[-1] < PURGE_EVERY_SECONDS:
        return False
    _last_purge[:] = [moment]
    purged = purge_uploads()
    if purged.uploads:
        logger.info("deleted %s expired upload(s), %s bytes", purged.uploads, purged.bytes)
    exported = purge_exports()
    if exported:
        logger.info("deleted the files of %s expired export(s)", exported)
    return True


class Watcher:
    """A daemon thread running `watch_once` every `interval` seconds (default: the heartbeat)."""

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval if interval is not None else conf.heartbeat_seconds()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bulkadmin-watch", daemon=True)

    def start(self) -> Watcher:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    watch_once()
                except DatabaseError as error:  # the next round tries again
                    logger.warning("watching jobs failed: %s", error)
        finally:
            connections.close_all()  # this thread's own connections


def _worker(job: Job) -> str:
    lease = leases.Lease.objects.filter(name=job_lease_name(job.pk)).first()
    if lease is not None:
        return f"its worker on host {lease.host} (pid {lease.pid})"
    return f"its worker (pid {job.worker_pid})" if job.worker_pid else "its worker"
