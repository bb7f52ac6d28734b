"""Cleanup and sync runs recorded as jobs: the one place commands, views and tasks start them.

A run that writes holds a named lock, so a second run at the same time refuses (`LockHeld`)."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.jobs import locks
from bulkadmin.jobs.runner import track_job
from bulkadmin.models import Job
from bulkadmin.operations.cleanup import CleanupResult, Rule, run_cleanup
from bulkadmin.operations.sync import Source, SyncFailed, SyncResult, sync_source

CLEANUP_LOCK = "cleanup"


def cleanup_job(
    *,
    rules: list[Rule],
    dry_run: bool = False,
    batch_size: int = 1000,
    origin: str = Job.Origin.CLI,
    user: Any = None,
    now: dt.datetime | None = None,
    job: Job | None = None,
) -> tuple[Job, CleanupResult]:
    """Run cleanup rules as a `cleanup` job (or as the queued `job` given); a real run holds the cleanup lock."""
    parameters = {"rules": [rule.name for rule in rules], "batch_size": batch_size}
    collections = sorted({rule.collection for rule in rules})
    lock = contextlib.nullcontext() if dry_run else locks.exclusive(CLEANUP_LOCK)
    with (
        lock,
        track_job(
            kind=Job.Kind.CLEANUP,
            collection=", ".join(collections)[:200],
            parameters=parameters,
            origin=origin,
            user=user,
            dry_run=dry_run,
            job=_adopt(job, collection=", ".join(collections)[:200], parameters=parameters, dry_run=dry_run),
        ) as run,
    ):
        result = run_cleanup(rules=rules, dry_run=dry_run, batch_size=batch_size, progress=run.progress, now=now)
        job = run.finish(result.to_bulk_result(), details=result.details())
        _add_counts(job, archived=result.totals()["archived"])
    return job, result


def last_synced_at(source: Source) -> dt.datetime | None:
    """When the last completed (not dry-run) sync of `source` started, from the job table."""
    job = (
        Job.objects.filter(kind=Job.Kind.SYNC, dry_run=False, parameters__source=source.name)
        .filter(status__in=[Job.Status.SUCCEEDED, Job.Status.PARTIAL])
        .order_by("-started_at")
        .first()
    )
    return job.started_at if job else None


def sync_job(
    *,
    source: Source,
    full: bool = False,
    since: dt.datetime | None = None,
    mark_missing: bool = False,
    dry_run: bool = False,
    origin: str = Job.Origin.CLI,
    user: Any = None,
    job: Job | None = None,
) -> tuple[Job, SyncResult]:
    """Sync `source` as a `sync` job (or as the queued `job` given). Without `full`, `since` or
    `mark_missing` (which needs a full sync), the sync is incremental from the last completed
    sync's start when the source supports it."""
    if mark_missing and since is not None:
        raise InvalidSpec("mark_missing needs a full sync: records not fetched would look missing.", field="since")
    if not full and not mark_missing and since is None and source.updated_since_param:
        since = last_synced_at(source)
    parameters = {
        "source": source.name,
        "full": since is None,
        "since": since.isoformat() if since else None,
        "mark_missing": mark_missing,
    }
    lock = contextlib.nullcontext() if dry_run else locks.exclusive(f"sync-{source.name}")
    with (
        lock,
        track_job(
            kind=Job.Kind.SYNC,
            collection=source.model.collection,
            parameters=parameters,
            origin=origin,
            user=user,
            dry_run=dry_run,
            job=_adopt(job, collection=source.model.collection, parameters=parameters, dry_run=dry_run),
        ) as run,
    ):
        try:
            result = sync_source(
                source=source, since=since, mark_missing=mark_missing, dry_run=dry_run, progress=run.progress
            )
        except SyncFailed as error:
            error.job = run.job
            run.job.counts = {"rows": error.result.rows, **error.result.counts()}
            run.job.details = {**error.result.details(), "failure": error.context()}
            raise
        job = run.finish(result.to_bulk_result(), details=result.details())
        _add_counts(job, **result.counts())
        if dry_run and job.status == Job.Status.FAILED and result.records > result.rejected:
            job.status = Job.Status.PARTIAL  # nothing is written in a dry run, yet some records were good
            job.save(update_fields=["status"])
    return job, result


def _adopt(job: Job | None, *, collection: str, parameters: dict[str, Any], dry_run: bool) -> Job | None:
    """A queued job (from the web) takes the run's collection and parameters, keeping its own extra ones."""
    if job is not None:
        job.collection, job.dry_run = collection, dry_run
        job.parameters = {**job.parameters, **parameters}
    return job


def _add_counts(job: Job, **counts: int) -> None:
    job.counts = {**job.counts, **counts}
    job.save(update_fields=["counts"])
