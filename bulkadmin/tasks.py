"""Background tasks (Django's Tasks API): thin wrappers that run one operation as a queued Job."""

from __future__ import annotations

import contextlib
from typing import Any

from django_tasks import task

from bulkadmin import undo, updates
from bulkadmin.exceptions import BulkAdminError
from bulkadmin.imports import run_queued_import
from bulkadmin.jobs import JobCancelled, track_job
from bulkadmin.models import Job
from bulkadmin.registry import site


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


def _run(job_id: int, operation: Any) -> str:
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job.status
    if job.cancel_requested:
        job.status, job.message = Job.Status.CANCELLED, "Cancelled before it started."
        job.save(update_fields=["status", "message"])
        return job.status
    try:
        with track_job(kind=job.kind, job=job) as run:
            operation(run)
    except JobCancelled:
        pass
    return Job.objects.get(pk=job_id).status


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
