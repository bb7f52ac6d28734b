"""Start web-triggered work: create the queued Job row and enqueue its task."""

from __future__ import annotations

from typing import Any

from django_tasks.base import Task

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import tasks
from bulkadmin.jobs.parameters import CleanupParameters, SyncParameters
from bulkadmin.models import Job
from bulkadmin.operations.cleanup import Rule
from bulkadmin.operations.sync import Source

TASK_FOR_KIND: dict[str, Task[[int], str]] = {
    Job.Kind.UPDATE: tasks.run_update_job,
    Job.Kind.DELETE: tasks.run_delete_job,
    Job.Kind.UNDO: tasks.run_undo_job,
    Job.Kind.CLEANUP: tasks.run_cleanup_job,
    Job.Kind.SYNC: tasks.run_sync_job,
    Job.Kind.IMPORT: tasks.run_import_job,
}
CLEANUP_BATCH_SIZE = 1000


class AlreadyRunning(BulkAdminError):
    """A run that takes the same lock is queued or running; `.job` is that job."""

    def __init__(self, what: str, job: Job) -> None:
        self.job = job
        state = "waiting in the queue" if job.status == Job.Status.QUEUED else "running"
        super().__init__(f"{what} is already {state} as job #{job.pk}: wait for it to finish, or cancel it.")


def launch(*, kind: str, collection: str, parameters: dict[str, Any], user: Any, dry_run: bool = False) -> Job:
    """Queue a job of `kind` for the background worker and return it."""
    job = Job.objects.create(
        kind=kind,
        collection=collection,
        parameters=parameters,
        origin=Job.Origin.WEB,
        user=user if getattr(user, "pk", None) else None,
        dry_run=dry_run,
    )
    TASK_FOR_KIND[kind].enqueue(job.pk)
    job.refresh_from_db()
    return job


def launch_cleanup(*, rules: list[Rule], dry_run: bool, user: Any) -> Job:
    """Queue a cleanup of `rules`; a real run refuses while another real cleanup is queued or running."""
    if not dry_run:
        _refuse_when_active("A cleanup", Job.objects.filter(kind=Job.Kind.CLEANUP))
    return launch(
        kind=Job.Kind.CLEANUP,
        collection=", ".join(sorted({rule.collection for rule in rules}))[:200],
        parameters=CleanupParameters(tuple(rule.name for rule in rules), CLEANUP_BATCH_SIZE).to_parameters(),
        user=user,
        dry_run=dry_run,
    )


def launch_sync(*, source: Source, mode: str, dry_run: bool, user: Any) -> Job:
    """Queue a sync of `source` in `mode` (incremental, full, mark_missing); a real run refuses
    while another real sync of the same source is queued or running."""
    parameters = SyncParameters(source.name, mode)
    if mode == "mark_missing" and not source.active_field:
        raise BulkAdminError(f"Sync source {source.name!r} declares no active_field, so it cannot mark missing.")
    if not dry_run:
        active = Job.objects.filter(kind=Job.Kind.SYNC, parameters__source=source.name)
        _refuse_when_active(f"A sync of {source.name}", active)
    return launch(
        kind=Job.Kind.SYNC,
        collection=source.model.collection,
        parameters=parameters.to_parameters(),
        user=user,
        dry_run=dry_run,
    )


def _refuse_when_active(what: str, jobs: Any) -> None:
    active = jobs.filter(dry_run=False, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).order_by("pk").first()
    if active is not None:
        raise AlreadyRunning(what, active)
