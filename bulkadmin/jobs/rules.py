"""What may be done with a job, and its state changes: the rules the pages and commands ask.

Each `*_refused` answers why not (a sentence for the user) or '' when it may be done; state
changes are conditional updates, so two requests at once change a job once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from bulkadmin.core import conf
from bulkadmin.jobs import files
from bulkadmin.models import Job

UNDOABLE_KINDS = (Job.Kind.UPDATE, Job.Kind.DELETE, Job.Kind.IMPORT, Job.Kind.EDIT)
RELAUNCHABLE = (Job.Kind.CLEANUP, Job.Kind.SYNC)  # re-run at once with the same parameters
# re-run with a preview first
RERUN_PAGES: dict[str, str] = {Job.Kind.UPDATE: "bulkadmin:update", Job.Kind.DELETE: "bulkadmin:delete"}
CONFIRMABLE = (Job.Status.SUCCEEDED, Job.Status.PARTIAL)
RESUMABLE_FROM_WEB = (Job.Status.INTERRUPTED, Job.Status.CANCELLED)
CONTINUABLE = (Job.Kind.UPDATE, Job.Kind.DELETE)  # an interrupted one continues over what it did not write
EDIT_UNDO_QUESTIONS = {  # by the edit's action (`operations.edits`)
    "add": "Delete the document this edit added?",
    "save": "Put the document back as it was before this edit?",
    "delete": "Put back the document this edit deleted?",
}
NOT_IDEMPOTENT = frozenset({"$inc", "$mul", "$push", "$pop"})  # applied twice, they change a document twice


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


OWNED_KINDS = (Job.Kind.IMPORT,)  # an import reads its user's upload: only that user acts on it


def owned_by_another(job: Job, user: Any) -> bool:
    """Whether `job` is of a kind whose user alone may resume, re-run or cancel it (as only they
    may confirm its dry run), and belongs to another user. A job started on the command line
    has no user: any user with the kind's permission may act on it."""
    return job.kind in OWNED_KINDS and job.user_id is not None and job.user_id != user.pk


def can_relaunch(job: Job) -> bool:
    return job.kind in RELAUNCHABLE


def resume_refused(job: Job) -> str:
    """Why `job` cannot be resumed (an import) or continued (an interrupted update or delete,
    over the documents it did not write) from the web, or '' when it can."""
    if job.kind in CONTINUABLE:
        return _continue_refused(job)
    if job.kind != Job.Kind.IMPORT:
        return "only imports can be resumed; other jobs are run again from their page."
    if job.status not in RESUMABLE_FROM_WEB:
        return f"its status is {job.get_status_display().lower()}; only interrupted or cancelled imports resume."
    if not files.source_exists(job.parameters.get("source")):
        return "its file is no longer on the server."
    return ""


def _continue_refused(job: Job) -> str:
    if job.status != Job.Status.INTERRUPTED or job.dry_run:
        return "only an interrupted update or delete continues; others are run again from their page."
    if not job.details.get("settled"):
        return "what it wrote is not known yet (MongoDB could not be reached); try again."
    return ""


def rerun_refused(job: Job) -> str:
    """Why `job` should not be run again from the start, or '' when it may: an interrupted
    update that is not idempotent would change what it already wrote a second time."""
    operators = NOT_IDEMPOTENT.intersection(job.parameters.get("update") or {})
    if job.kind == Job.Kind.UPDATE and job.status == Job.Status.INTERRUPTED and operators:
        named = ", ".join(sorted(operators))
        return f"it stopped part way and {named} would apply twice to the documents it wrote; continue it instead."
    return ""


def queue_resume(job: Job) -> bool:
    """Queue an interrupted or cancelled import to carry on, or an interrupted and settled
    update or delete to continue (a conditional update: of several requests at once, one queues
    it and the others find it queued). True when this call did."""
    if job.kind in CONTINUABLE:
        resumable = Job.objects.filter(pk=job.pk, status=Job.Status.INTERRUPTED, details__settled=True)
    else:
        resumable = Job.objects.filter(pk=job.pk, kind=Job.Kind.IMPORT, status__in=RESUMABLE_FROM_WEB)
    message = "Queued to continue." if job.kind in CONTINUABLE else "Queued to resume."
    queued = resumable.update(status=Job.Status.QUEUED, cancel_requested=False, finished_at=None, message=message)
    return bool(queued)


def undo_question(job: Job) -> str:
    """What Undo will do to `job`'s documents, asked before it does it."""
    if job.kind == Job.Kind.DELETE:
        return "Put back the documents this delete removed?"
    if job.kind == Job.Kind.EDIT:
        return EDIT_UNDO_QUESTIONS.get(job.parameters.get("action", ""), EDIT_UNDO_QUESTIONS["save"])
    if job.kind == Job.Kind.IMPORT and job.parameters.get("mode", "insert") == "insert":
        created = job.counts.get("inserted")
        number = f"the {created} documents" if created is not None else "the documents"
        return f"Delete {number} this import created?"
    if job.kind == Job.Kind.IMPORT:
        return "Delete the documents this import created and put back those it changed?"
    return "Put back the documents as they were before this job changed them?"


def undo_refused(job: Job) -> str:
    """Why `job` cannot be undone, or '' when it can: from the figures stored on the job when it
    finished (how many pre-images it kept), never by counting the undo collection."""
    if job.kind not in UNDOABLE_KINDS:
        return "only bulk updates, deletes, imports and single edits keep undo data."
    if job.status == Job.Status.QUEUED:
        return "it has not started yet."
    if not job.is_finished:
        return "it is still running."
    if job.dry_run:
        return "a dry run wrote nothing."
    if job.details.get("undone_by"):
        return f"it was already undone by job #{job.details['undone_by']}."
    if job.kind in CONTINUABLE and job.status == Job.Status.INTERRUPTED and not job.details.get("settled"):
        return ""  # what it wrote is read from its undo records when the undo starts
    if not _wrote_anything(job):
        return "it wrote nothing."
    if not job.details.get("undo_available") or not job.details.get("undo_records"):
        if job.kind == Job.Kind.IMPORT:
            return "no undo data was kept (an import from the command line, or more documents than the undo limit)."
        return "no undo data was kept (more documents than the undo limit)."
    if job.finished_at and job.finished_at < timezone.now() - dt.timedelta(days=conf.undo_days()):
        return f"its undo data has expired (kept {conf.undo_days()} days)."
    return ""


def _wrote_anything(job: Job) -> bool:
    """Whether the job's stored counts say it changed a document (a failed update may not have)."""
    names = ("inserted", "updated", "modified", "deleted", "upserted")
    return any(job.counts.get(name) for name in names) or job.status == Job.Status.CANCELLED


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
