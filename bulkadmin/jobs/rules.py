"""What may be done with a job, and its state changes: the rules the pages and commands ask.

Each `*_refused` answers why not (a sentence for the user) or '' when it may be done; state
changes are conditional updates, so two requests at once change a job once.
"""

from __future__ import annotations

from django.utils import timezone

from bulkadmin.jobs import files
from bulkadmin.models import Job
from bulkadmin.operations.undo import undo_record_count

UNDOABLE_KINDS = (Job.Kind.UPDATE, Job.Kind.DELETE, Job.Kind.IMPORT)
RELAUNCHABLE = (Job.Kind.CLEANUP, Job.Kind.SYNC)  # re-run at once with the same parameters
# re-run with a preview first
RERUN_PAGES: dict[str, str] = {Job.Kind.UPDATE: "bulkadmin:update", Job.Kind.DELETE: "bulkadmin:delete"}
CONFIRMABLE = (Job.Status.SUCCEEDED, Job.Status.PARTIAL)


def can_cancel(job: Job) -> bool:
    return not job.is_finished


def request_cancel(job: Job) -> str:
    """Cancel a queued job at once, or ask a running one to stop after its current batch.
    Returns what happened: "cancelled", "requested" or "finished" (nothing to cancel)."""
    now = timezone.now()
    message = "Cancelled before it started."
    queued = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED)
    if queued.update(cancel_requested=True, status=Job.Status.CANCELLED, finished_at=now, message=message):
        return "cancelled"
    if Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(cancel_requested=True):
        return "requested"
    return "finished"


def can_relaunch(job: Job) -> bool:
    return job.kind in RELAUNCHABLE


def resume_refused(job: Job) -> str:
    """Why `job` cannot be resumed from the web, or '' when it can."""
    if job.kind != Job.Kind.IMPORT:
        return "only imports can be resumed; other jobs are run again from their page."
    if job.status not in (Job.Status.INTERRUPTED, Job.Status.CANCELLED):
        return f"its status is {job.get_status_display().lower()}; only interrupted or cancelled imports resume."
    if not files.source_exists(job.parameters.get("source")):
        return "its file is no longer on the server."
    return ""


def undo_refused(job: Job) -> str:
    """Why `job` cannot be undone, or '' when it can."""
    if job.kind not in UNDOABLE_KINDS:
        return "only bulk updates, deletes and imports keep undo data."
    if not job.is_finished:
        return "it is still running."
    if job.kind == Job.Kind.IMPORT and (job.dry_run or not job.details.get("undo_available")):
        if job.dry_run:
            return "a dry run wrote nothing."
        return "no undo data was kept (an import from the command line, or more documents than the undo limit)."
    if job.details.get("undone_by"):
        return f"it was already undone by job #{job.details['undone_by']}."
    if not undo_record_count(job.pk):
        return "no undo data was kept (more documents than the undo limit, or it has expired)."
    return ""


def confirm_refused(job: Job) -> str:
    """Why dry-run import `job` cannot be confirmed (run for real), or '' when it can."""
    if not job.is_finished:
        return "the dry run has not finished."
    if job.details.get("confirmed_by"):
        return f"it was already confirmed as job #{job.details['confirmed_by']}."
    if job.status not in CONFIRMABLE:
        return f"the dry run {job.get_status_display().lower()}: nothing would be imported."
    if not files.source_exists(job.parameters.get("source", "")):
        return "the uploaded file is no longer there; upload it again."
    return ""


def link(job: Job, name: str, other: Job) -> None:
    """Record on `job` that `other` followed from it (`undone_by`, `confirmed_by`)."""
    job.details = {**job.details, name: other.pk}
    job.save(update_fields=["details"])
