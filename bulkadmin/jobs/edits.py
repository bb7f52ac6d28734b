"""Single edits as jobs: each add, save or delete of one document is an `edit` job, run within
its request through the runner (who, when, what changed, undo data under the job's number),
once per form: a form submitted twice finds the job its first submission created."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bulkadmin.jobs import once
from bulkadmin.jobs.runner import JobRun, run_job
from bulkadmin.models import Job
from bulkadmin.operations.results import OperationResult


@dataclass(frozen=True)
class Edited:
    """The job of an edit, and whether this call ran it (False: the same form was submitted
    before, and this is the job that submission created)."""

    job: Job
    created: bool


def edit_job(
    *,
    action: str,
    collection: str,
    doc_id: str,
    user: Any,
    key: str | None,
    write: Callable[[int], OperationResult],
    origin: str = Job.Origin.WEB,
) -> Edited:
    """Run `write` (given the job's number, which keys its undo data) as an `edit` job of
    `action` (add, save, delete) on one document of `collection`, once per confirmation `key`.
    The operation's errors (`edits.StaleDocument`, `InvalidSpec`) leave the job failed and are
    raised with `.job_id`. The job's parameters end with what changed (field, before, after)."""
    parameters = {"collection": collection, "action": action, "doc_id": doc_id}
    job, created = once.create_once(
        key,
        kind=Job.Kind.EDIT,
        collection=collection,
        parameters=parameters,
        origin=origin,
        user=user if getattr(user, "pk", None) else None,
    )
    if not created:
        return Edited(job, False)

    def operation(run: JobRun) -> OperationResult:
        result = write(run.job.pk)
        details = dict(result.details)
        run.job.parameters = {**run.job.parameters, "changes": details.pop("changes", [])}
        return dataclasses.replace(result, details=details)

    run_job(operation, kind=Job.Kind.EDIT, job=job)
    job.refresh_from_db()
    return Edited(job, True)
