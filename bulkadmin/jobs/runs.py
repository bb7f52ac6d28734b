"""Cleanup, sync, bulk update / delete and undo as jobs, through the runner: the one place the
commands, the tasks and the web start them. A real cleanup or sync holds a lease in the shared
database, so a second one at the same time, on any machine, refuses (`LeaseHeld`).

An update or delete that stopped part way (its server or worker killed) is settled from its undo
records (`settle_interrupted`): its job then says what it wrote, Undo restores that, and
Continue runs it again over the documents it had not written (`_compose`)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any

from django.utils import timezone
from pymongo.errors import PyMongoError

from bulkadmin.core import conf
from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.registry import admin_of, site
from bulkadmin.jobs import leases, sources
from bulkadmin.jobs.parameters import BulkParameters, CleanupParameters, SyncParameters, UndoParameters
from bulkadmin.jobs.runner import JobRun, json_ready, run_job, track_job
from bulkadmin.models import Job
from bulkadmin.operations import undo, updates
from bulkadmin.operations.cleanup import Rule, rules, run_cleanup
from bulkadmin.operations.progress import Cancelled, Progress
from bulkadmin.operations.results import OperationResult
from bulkadmin.operations.sync import Source, SyncFailed, sync_source

CLEANUP_LOCK = "cleanup"


def cleanup_job(
    *,
    rules: list[Rule],
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    origin: str = Job.Origin.CLI,
    user: Any = None,
    now: dt.datetime | None = None,
    job: Job | None = None,
) -> OperationResult:
    """Run cleanup rules as a `cleanup` job (or as the queued `job` given); a real run holds the cleanup lease."""
    parameters = CleanupParameters(tuple(rule.name for rule in rules), batch_size)
    collection = ", ".join(sorted({rule.collection for rule in rules}))[:200]
    job = _job(job, Job.Kind.CLEANUP, collection, parameters.to_parameters(), dry_run, origin, user)
    lock = contextlib.nullcontext() if dry_run else leases.exclusive(CLEANUP_LOCK)
    with lock as holder:
        return run_job(
            lambda run: run_cleanup(
                rules=rules,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=leases.guarded(run.progress, holder),
                now=now or timezone.now(),
            ),
            kind=Job.Kind.CLEANUP,
            job=job,
        )


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
    mode: str = "incremental",
    since: dt.datetime | None = None,
    dry_run: bool = False,
    origin: str = Job.Origin.CLI,
    user: Any = None,
    job: Job | None = None,
) -> OperationResult:
    """Sync `source` as a `sync` job (or as the queued `job` given), in `mode` (see
    `SyncParameters`). An incremental sync without `since` starts from the last completed
    sync's start when the source supports it. `SyncFailed` carries `.job` and the partial result."""
    checked = SyncParameters(source.name, mode, since)
    if mode == "incremental" and since is None and source.updated_since_param:
        checked = SyncParameters(source.name, mode, last_synced_at(source))
    job = _job(job, Job.Kind.SYNC, source.model.collection, checked.to_parameters(), dry_run, origin, user)
    lock = contextlib.nullcontext() if dry_run else leases.exclusive(f"sync-{source.name}")
    with lock as holder, track_job(kind=Job.Kind.SYNC, job=job) as run:
        try:
            result = sync_source(
                source=source,
                since=checked.since,
                mark_missing=mode == "mark_missing",
                dry_run=dry_run,
                progress=leases.guarded(run.progress, holder),
                now=timezone.now(),
                request_deadline=conf.sync_request_deadline(),
                run_deadline=conf.sync_run_deadline(),
            )
        except SyncFailed as error:
            error.job = run.job
            partial = error.result
            run.job.counts = dict(partial.counts)
            run.job.details = {**json_ready(dict(partial.details)), "failure": error.context()}
            raise
        return run.finish(result)


def update_job(job: Job) -> OperationResult:
    """Run a queued bulk update job."""
    return run_job(lambda run: _compose(run, "update"), kind=job.kind, job=job)


def delete_job(job: Job) -> OperationResult:
    """Run a queued bulk delete job."""
    return run_job(lambda run: _compose(run, "delete"), kind=job.kind, job=job)


def undo_job(job: Job) -> OperationResult:
    """Restore the documents of the job named in the undo job's parameters (settled first when
    it was interrupted: only what it wrote is restored)."""
    target = Job.objects.filter(pk=UndoParameters.from_parameters(job.parameters).job).first()
    if target is not None:
        settle_interrupted(target)
    return run_job(
        lambda run: undo.undo_job_writes(
            model=site.get(run.job.collection),
            job=UndoParameters.from_parameters(run.job.parameters).job,
            progress=run.progress,
            undo_job=run.job.pk,
        ),
        kind=job.kind,
        job=job,
    )


def queued_cleanup(job: Job) -> OperationResult:
    """Run a queued cleanup job (a dry run when the job is one)."""
    parameters = CleanupParameters.from_parameters(job.parameters)
    selected = rules.select(parameters.rules or None)
    return cleanup_job(
        rules=selected, dry_run=job.dry_run, batch_size=parameters.batch_size, origin=job.origin, user=job.user, job=job
    )


def queued_sync(job: Job) -> OperationResult:
    """Run a queued sync job in its mode."""
    parameters = SyncParameters.from_parameters(job.parameters)
    return sync_job(
        source=sources.get(parameters.source),
        mode=parameters.mode,
        since=parameters.since,
        dry_run=job.dry_run,
        origin=job.origin,
        user=job.user,
        job=job,
    )


COMPOSED = (Job.Kind.UPDATE, Job.Kind.DELETE)
WRITTEN_COUNTS = ("rows", "matched", "modified", "deleted")


def settle_interrupted(job: Job) -> bool:
    """Record what an interrupted update or delete wrote, once: its undo records are reconciled
    with the documents (`undo.reconcile`: a batch saved but not written is dropped) and the job's
    counts and undo figures set from them. False when there is nothing to settle, or MongoDB
    cannot be reached now (it is tried again next time)."""
    if job.kind not in COMPOSED or job.status != Job.Status.INTERRUPTED or job.dry_run or job.details.get("settled"):
        return False
    try:
        found = undo.reconcile(job=job.pk, model=site.get(job.collection))
    except PyMongoError:
        return False
    written = "modified" if job.kind == Job.Kind.UPDATE else "deleted"
    counts = {**job.counts, "rows": max(job.rows_done, found.written), written: found.changed}
    if job.kind == Job.Kind.UPDATE:
        counts["matched"] = found.written
    details = {**job.details, "settled": True, "undo_records": found.written, "undo_available": found.records > 0}
    details["not_written"] = found.unwritten
    if Job.objects.filter(pk=job.pk, status=Job.Status.INTERRUPTED).update(counts=counts, details=details):
        job.counts, job.details = counts, details
    return True


def _compose(run: JobRun, kind: str) -> OperationResult:
    """Run an update or delete job; a settled interrupted one continues over the documents its
    earlier runs did not write, its counts and undo figures adding to theirs."""
    job, parameters = run.job, BulkParameters.from_parameters(run.job.parameters)
    model, progress = site.get(job.collection), _towards(run, parameters.expected)
    earlier = _earlier_run(run)
    options: dict[str, Any] = {"filter": parameters.filter, "undo_key": job.pk, "batch_size": parameters.batch_size}
    options["skip"] = undo.written_ids(job.pk) if earlier else ()
    options["undo_limit"] = conf.undo_limit()
    try:
        return _with_earlier(_run_composed(kind, model, parameters, progress, options), earlier, job.pk)
    except Cancelled as stop:
        if isinstance(stop.result, OperationResult):
            stop.result = _with_earlier(stop.result, earlier, job.pk)
        raise


def _run_composed(
    kind: str, model: Any, parameters: BulkParameters, progress: Progress, options: dict[str, Any]
) -> OperationResult:
    if kind == "update":
        admin_of(model).check_update(parameters.update or {})
        return updates.run_update(model=model, update=parameters.update or {}, progress=progress, **options)
    return updates.run_delete(model=model, progress=progress, **options)


def _earlier_run(run: JobRun) -> dict[str, Any]:
    """The counts of a settled interrupted run this one continues ({} if none);
    the job is no longer settled (if it stops again, it is settled again)."""
    job = run.job
    if not job.details.get("settled"):
        return {}
    earlier = {name: job.counts.get(name, 0) for name in WRITTEN_COUNTS}
    job.details = {name: value for name, value in job.details.items() if name != "settled"}
    run.save("details")
    return earlier


def _with_earlier(result: OperationResult, earlier: dict[str, Any], job_id: int) -> OperationResult:
    """`result` with the counts of the earlier run it continues added, and the undo records
    of both (none when the two went over the undo limit)."""
    if not earlier:
        return result
    records = undo.undo_record_count(job_id)
    details = {**result.details, "undo_records": records, "undo_available": records > 0}
    return dataclasses.replace(result, counts=result.counts.plus(earlier), details=details)


def _towards(run: JobRun, expected: int | None) -> Progress:
    """Progress against the count confirmed when the job was started (None: not known); more
    documents may match by now, so the total is never below the rows done."""

    def progress(done: int, total: int | None = None) -> None:
        run.progress(done, max(expected, done) if expected is not None else total)

    return progress


def _job(
    job: Job | None, kind: str, collection: str, parameters: dict[str, Any], dry_run: bool, origin: str, user: Any
) -> Job:
    """The job to run: the queued one given (taking the run's collection and parameters, keeping
    its own extra ones), else a new one."""
    if job is None:
        job = Job(kind=kind, origin=origin, user=user if getattr(user, "pk", None) else None)
    job.collection, job.dry_run = collection, dry_run
    job.parameters = {**job.parameters, **parameters}
    return job
