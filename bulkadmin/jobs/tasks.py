"""Background tasks (Django's Tasks API): thin wrappers that run one queued Job through the runner,
check an uploaded file, or compute a count a page asked for. Each is registered in `jobs.queue`,
through which the modules these tasks run queue them (they cannot import this module back)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils import timezone
from django_tasks import task

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import counts, imports, kinds, notices, queue, scans
from bulkadmin.jobs.runner import take_queued
from bulkadmin.models import Job


@queue.register
@task()
def run_job(job_id: int) -> str:
    """Run a queued job of any kind through its kind's runner (see `jobs.kinds`)."""
    return _run(job_id, kinds.run_queued)


@queue.register
@task()
def resume_import_job(job_id: int) -> str:
    """Carry on an interrupted import job after its last committed row (no duplicates, no gaps):
    one a user resumed, or one a worker queued again after its worker died."""
    job = Job.objects.get(pk=job_id)
    with contextlib.suppress(BulkAdminError):  # the job row has its final status and why
        if job.status == Job.Status.QUEUED:
            _run(job_id, imports.run_queued_import)
        else:
            imports.resume_import(job_id)
    return Job.objects.get(pk=job_id).status


@queue.register
@task()
def scan_import_file(folder: str, key: str) -> str:
    """Check a whole uploaded file before its dry run (bounded), writing the scan's record."""
    return str(scans.run_scan(Path(folder), key)["state"])


@queue.register
@task()
def count_documents_task(key: str) -> int | None:
    """Compute a count a page asked for in the background (see `jobs.counts`)."""
    return counts.compute(key)


def _run(job_id: int, operation: Callable[[Job], Any]) -> str:
    """Run a queued job unless it finished or was cancelled while queued. Whatever ends the run
    is on the job row; a refusal before it starts (a lock held, a source gone) fails it."""
    job = take_queued(job_id)
    if job is None:
        return Job.objects.get(pk=job_id).status
    try:
        operation(job)
    except BulkAdminError as error:
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), message=f"Not run: {error}"
        )
    finally:
        notices.job_ended(job_id)  # in the background; it never raises
    return Job.objects.get(pk=job_id).status
