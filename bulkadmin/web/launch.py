"""Start web-triggered work: create the queued Job row and enqueue its task."""

from __future__ import annotations

from typing import Any

from bulkadmin import tasks
from bulkadmin.models import Job

TASK_FOR_KIND = {
    Job.Kind.UPDATE: tasks.run_update_job,
    Job.Kind.DELETE: tasks.run_delete_job,
    Job.Kind.UNDO: tasks.run_undo_job,
}
TASK_FOR_KIND[Job.Kind.IMPORT] = tasks.run_import_job


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
