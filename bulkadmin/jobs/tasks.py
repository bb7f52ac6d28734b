"""Background tasks (Django's Tasks API): thin wrappers that run one operation as a queued Job."""

from __future__ import annotations

import contextlib
from typing import Any

from django.utils import timezone
from django_tasks import task

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.core.registry import site
from bulkadmin.jobs import runs
from bulkadmin.jobs.runner import JobCancelled, track_job
from bulkadmin.models import Job
from bulkadmin.operations import undo, updates
from bulkadmin.operations.cleanup import rules
from bulkadmin.operations.imports import resume_import, run_queued_import
from bulkadmin.operations.sync import SyncFailed, sources

SYNC_MODES = ("incremental", "full", "mark_missing")


@task()
def run_update_job(job_id: int) -> str:
    """Run a queued bulk update job."""
    return _run(job_id, _update)


@task()
def run_delete_job(job_id: int) -> str:
    """Run a queued bulk delete job."""
    return _run(job_id, _delete)


@task()
def run_undo_job(job_id: int) -> str:
    """Restore the documents of the job named in the undo job's parameters."""
    return _run(job_id, _undo)


@task()
def run_cleanup_job(job_id: int) -> str:
    """Run the cleanup rules named in a queued cleanup job (a dry run when the job is one)."""
    return _run_recorded(job_id, _cleanup)


@task()
def run_sync_job(job_id: int) -> str:
    """Sync the source named in a queued sync job, in its mode (incremental, full, mark_missing)."""
    return _run_recorded(job_id, _sync)


def _run(job_id: int, operation: Any) -> str:
    job = Job.objects.get(pk=job_id)
    if _not_startable(job):
        return job.status
    try:
        with track_job(kind=job.kind, job=job) as run:
            operation(run)
    except JobCancelled:
        pass
    return Job.objects.get(pk=job_id).status


def _not_startable(job: Job) -> bool:
    """Whether the job is finished, or was cancelled while queued (then it is marked so)."""
    if job.is_finished:
        return True
    if job.cancel_requested:
        job.status, job.message = Job.Status.CANCELLED, "Cancelled before it started."
        job.save(update_fields=["status", "message"])
        return True
    return False


def _run_recorded(job_id: int, operation: Any) -> str:
    """Run an operation that records its own job (`bulkadmin.jobs.runs`) on the queued job. A failure
    before it starts (the lock is held, the source is gone) fails the job with the reason."""
    job = Job.objects.select_related("user").get(pk=job_id)
    if _not_startable(job):
        return job.status
    try:
        operation(job)
    except (JobCancelled, SyncFailed):
        pass  # the job row already says so
    except BulkAdminError as error:
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), message=f"Not run: {error}"
        )
    return Job.objects.get(pk=job_id).status


def _cleanup(job: Job) -> None:
    parameters = job.parameters
    selected = rules.select(parameters.get("rules") or None)
    batch_size = parameters.get("batch_size", 1000)
    runs.cleanup_job(
        rules=selected, dry_run=job.dry_run, batch_size=batch_size, origin=job.origin, user=job.user, job=job
    )


def _sync(job: Job) -> None:
    mode = job.parameters.get("mode", "incremental")
    runs.sync_job(
        source=sources.get(job.parameters["source"]),
        full=mode != "incremental",
        mark_missing=mode == "mark_missing",
        dry_run=job.dry_run,
        origin=job.origin,
        user=job.user,
        job=job,
    )


def _update(run: Any) -> None:
    job = run.job
    outcome = updates.run_update(
        model=site.get(job.collection),
        filter=job.parameters["filter"],
        update=job.parameters["update"],
        undo_key=job.pk,
        batch_size=job.parameters.get("batch_size", updates.DEFAULT_BATCH_SIZE),
        progress=run.progress,
    )
    run.finish(outcome.result, details=_undo_details(outcome))


def _delete(run: Any) -> None:
    job = run.job
    outcome = updates.run_delete(
        model=site.get(job.collection),
        filter=job.parameters["filter"],
        undo_key=job.pk,
        batch_size=job.parameters.get("batch_size", updates.DEFAULT_BATCH_SIZE),
        progress=run.progress,
    )
    run.finish(outcome.result, details=_undo_details(outcome))


def _undo(run: Any) -> None:
    job = run.job
    outcome = undo.undo_job_writes(model=site.get(job.collection), job=job.parameters["job"], progress=run.progress)
    conflicts = list(outcome.conflicts[:1000])
    details = {"restored": outcome.restored, "unchanged": outcome.unchanged, "conflicts": conflicts}
    if outcome.deleted:
        details["deleted"] = outcome.deleted
    run.finish(outcome.result, details=details)


def _undo_details(outcome: updates.RunOutcome) -> dict[str, Any]:
    return {"undo_records": outcome.undo_records, "undo_available": outcome.undo_available}


@task()
def run_import_job(job_id: int) -> str:
    """Run a queued import job (a dry run or the real one) from its uploaded file."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished or job.cancel_requested:
        return _run(job_id, None)  # only records a cancellation
    with contextlib.suppress(JobCancelled, BulkAdminError):  # the job row has its final status and why
        run_queued_import(job)
    return Job.objects.get(pk=job_id).status


@task()
def resume_import_job(job_id: int) -> str:
    """Carry on an interrupted import job after its last committed row (no duplicates, no gaps)."""
    with contextlib.suppress(JobCancelled, BulkAdminError):  # the job row has its final status and why
        resume_import(job_id)
    return Job.objects.get(pk=job_id).status
