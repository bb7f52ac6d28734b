"""Start web-triggered work: create the queued Job row and enqueue its task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import tasks
from bulkadmin.jobs.once import create_once, existing
from bulkadmin.jobs.parameters import CleanupParameters, SyncParameters
from bulkadmin.models import Job
from bulkadmin.operations.cleanup import Rule
from bulkadmin.operations.sync import Source


class AlreadyRunning(BulkAdminError):
    """A run that takes the same lock is queued or running; `.job` is that job."""

    def __init__(self, what: str, job: Job) -> None:
        self.job = job
        state = "waiting in the queue" if job.status == Job.Status.QUEUED else "running"
        super().__init__(f"{what} is already {state} as job #{job.pk}: wait for it to finish, or cancel it.")


@dataclass(frozen=True)
class Launched:
    """The job a confirmation started, and whether this request created it (False: the same
    confirmation arrived before and this is its job)."""

    job: Job
    created: bool


def launch(
    *, kind: str, collection: str, parameters: dict[str, Any], user: Any, dry_run: bool = False, key: str | None = None
) -> Job:
    """Queue a job of `kind` for the background worker and return it (see `launch_once`)."""
    return launch_once(kind=kind, collection=collection, parameters=parameters, user=user, dry_run=dry_run, key=key).job


def launch_once(
    *, kind: str, collection: str, parameters: dict[str, Any], user: Any, dry_run: bool = False, key: str | None = None
) -> Launched:
    """Queue a job of `kind` for the background worker, once per confirmation `key` (see
    `bulkadmin.jobs.once`): a repeated confirmation gets the job the first one created."""
    job, created = create_once(
        key,
        kind=kind,
        collection=collection,
        parameters=parameters,
        origin=Job.Origin.WEB,
        user=user if getattr(user, "pk", None) else None,
        dry_run=dry_run,
    )
    if created:
        tasks.run_job.enqueue(job.pk)
        job.refresh_from_db()
    return Launched(job, created)


def launch_cleanup(*, rules: list[Rule], dry_run: bool, user: Any, key: str | None = None) -> Job:
    """Queue a cleanup of `rules`; a real run refuses while another real cleanup is queued or
    running. A repeated confirmation `key` gets the job the first one created."""
    done = existing(key)
    if done is not None:
        return done
    if not dry_run:
        _refuse_when_active("A cleanup", Job.objects.filter(kind=Job.Kind.CLEANUP), key)
    return launch(
        kind=Job.Kind.CLEANUP,
        collection=", ".join(sorted({rule.collection for rule in rules}))[:200],
        parameters=CleanupParameters(tuple(rule.name for rule in rules), DEFAULT_BATCH_SIZE).to_parameters(),
        user=user,
        dry_run=dry_run,
        key=key,
    )


def launch_sync(*, source: Source, mode: str, dry_run: bool, user: Any, key: str | None = None) -> Job:
    """Queue a sync of `source` in `mode` (incremental, full, mark_missing); a real run refuses
    while another real sync of the same source is queued or running. A repeated confirmation
    `key` gets the job the first one created."""
    done = existing(key)
    if done is not None:
        return done
    parameters = SyncParameters(source.name, mode)
    if mode == "mark_missing" and not source.active_field:
        raise BulkAdminError(f"Sync source {source.name!r} declares no active_field, so it cannot mark missing.")
    if not dry_run:
        active = Job.objects.filter(kind=Job.Kind.SYNC, parameters__source=source.name)
        _refuse_when_active(f"A sync of {source.name}", active, key)
    return launch(
        kind=Job.Kind.SYNC,
        collection=source.model.collection,
        parameters=parameters.to_parameters(),
        user=user,
        dry_run=dry_run,
        key=key,
    )


def _refuse_when_active(what: str, jobs: Any, key: str | None) -> None:
    """Refuse while another real run is queued or running (not the one this confirmation started)."""
    active = jobs.filter(dry_run=False, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).order_by("pk").first()
    if active is not None and not (key and active.request_token == key):
        raise AlreadyRunning(what, active)
