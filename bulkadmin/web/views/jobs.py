"""Jobs: the filterable list, the result page, its live status, and cancel / undo / errors."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import files, tasks
from bulkadmin.jobs import rules as job_rules
from bulkadmin.jobs.parameters import CleanupParameters, SyncParameters
from bulkadmin.models import Job
from bulkadmin.operations.cleanup import rules
from bulkadmin.operations.sync import sources
from bulkadmin.web.charts import throughput_svg
from bulkadmin.web.launch import launch, launch_cleanup, launch_sync
from bulkadmin.web.permissions import can, can_run, permission_required
from bulkadmin.web.views.common import page, pretty

ERRORS_PER_PAGE = 20
DRY_RUN_LABELS = {
    "inserted": "would create",
    "updated": "would update",
    "unchanged": "would leave unchanged",
    "deleted": "would delete",
    "rejected": "would reject",
}


def job_list(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.select_related("user")
    chosen = {name: request.GET.get(name, "") for name in ("kind", "status", "collection", "user")}
    if chosen["kind"]:
        jobs = jobs.filter(kind=chosen["kind"])
    if chosen["status"]:
        jobs = jobs.filter(status=chosen["status"])
    if chosen["collection"]:
        jobs = jobs.filter(collection=chosen["collection"])
    if chosen["user"]:
        jobs = jobs.filter(user__username=chosen["user"])
    listing = Paginator(jobs, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "title": "Jobs",
        "listing": listing,
        "chosen": chosen,
        "kinds": Job.Kind.choices,
        "statuses": Job.Status.choices,
        "collections": Job.objects.order_by().values_list("collection", flat=True).distinct(),
        "users": get_user_model().objects.filter(job__isnull=False).distinct().values_list("username", flat=True),
        "base_query": params.urlencode(),
    }
    return page(request, "job_list.html", context)


def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.select_related("user"), pk=pk)
    errors = Paginator(job.errors, ERRORS_PER_PAGE).get_page(request.GET.get("errors_page"))
    context = {
        "title": f"Job #{job.pk}: {job.get_kind_display()}",
        "job": job,
        "parameters": pretty(job.parameters),
        "details": pretty(job.details) if job.details else "",
        "counts": _counts(job),
        "labelled_counts": _labelled(_counts(job), job),
        "rate": _rate(job),
        "percent": _percent(job),
        "chart": throughput_svg(job.batches),
        "errors": errors,
        "actions": _actions(request, job),
        "status_url": reverse("bulkadmin:job_status", args=[job.pk]),
    }
    return page(request, "job_detail.html", context)


def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The job's live figures for the progress bar."""
    job = get_object_or_404(Job, pk=pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "finished": job.is_finished,
            "rows_done": job.rows_done,
            "rows_total": job.rows_total,
            "percent": _percent(job),
            "rate": _rate(job),
            "message": job.message,
        }
    )


@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk)
    if not can_run(request.user, job.kind):
        raise PermissionDenied(f"You may not cancel {job.get_kind_display().lower()} jobs.")
    outcome = job_rules.request_cancel(job)
    if outcome == "cancelled":
        messages.success(request, f"Job #{job.pk} was cancelled before it started.")
    elif outcome == "requested":
        messages.success(request, f"Job #{job.pk} will stop after its current batch.")
    else:
        job.refresh_from_db()
        messages.warning(request, f"Job #{job.pk} has already finished ({job.get_status_display().lower()}).")
    return redirect("bulkadmin:job", pk=job.pk)


@require_POST
@permission_required("undo_job")
def job_undo(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk)
    reason = job_rules.undo_refused(job)
    if reason:
        messages.error(request, f"Job #{job.pk} cannot be undone: {reason}")
        return redirect("bulkadmin:job", pk=job.pk)
    undo_job = launch(kind=Job.Kind.UNDO, collection=job.collection, parameters={"job": job.pk}, user=request.user)
    job_rules.link(job, "undone_by", undo_job)
    messages.success(request, f"Job #{undo_job.pk} restores the documents of job #{job.pk}.")
    return redirect("bulkadmin:job", pk=undo_job.pk)


@require_POST
def job_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a cleanup or sync job again with the same rules or source and mode, as a new job."""
    job = get_object_or_404(Job, pk=pk)
    if not job_rules.can_relaunch(job):
        messages.error(request, f"{job.get_kind_display()} jobs are re-run from their page, with a new preview.")
        return redirect("bulkadmin:job", pk=job.pk)
    if not can_run(request.user, job.kind):
        raise PermissionDenied(f"You may not run {job.get_kind_display().lower()} jobs.")
    try:
        new = _relaunch(job, request.user)
    except BulkAdminError as error:
        messages.error(request, f"Job #{job.pk} cannot be re-run: {error}")
        return redirect("bulkadmin:job", pk=job.pk)
    messages.success(request, f"Job #{new.pk} re-runs job #{job.pk}.")
    return redirect("bulkadmin:job", pk=new.pk)


@require_POST
@permission_required("run_import")
def job_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Carry on an interrupted (or cancelled) import after its last committed row, in the background."""
    job = get_object_or_404(Job, pk=pk)
    reason = job_rules.resume_refused(job)
    if reason:
        messages.error(request, f"Job #{job.pk} cannot be resumed: {reason}")
        return redirect("bulkadmin:job", pk=job.pk)
    tasks.resume_import_job.enqueue(job.pk)
    messages.success(request, f"Job #{job.pk} carries on where it stopped, without importing a row twice.")
    return redirect("bulkadmin:job", pk=job.pk)


def _relaunch(job: Job, user: Any) -> Job:
    if job.kind == Job.Kind.CLEANUP:
        chosen = CleanupParameters.from_parameters(job.parameters).rules
        return launch_cleanup(rules=rules.select(chosen or None), dry_run=job.dry_run, user=user)
    parameters = SyncParameters.from_parameters(job.parameters)
    return launch_sync(source=sources.get(parameters.source), mode=parameters.mode, dry_run=job.dry_run, user=user)


def job_errors(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    """The job's error file (from the job files' storage), or a CSV of the errors kept on the job."""
    job = get_object_or_404(Job, pk=pk)
    stored = _stored_error_file(job.error_file)
    if stored is not None:
        return FileResponse(stored, as_attachment=True, filename=Path(job.error_file).name)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["index", "kind", "field", "code", "message"])
    for error in job.errors:
        writer.writerow([error.get(name) for name in ("index", "kind", "field", "code", "message")])
    return response


def _stored_error_file(name: str) -> Any:
    """The open error file a job names in the storage; None for none, a file named on the command
    line (a local path, not shared), or one no longer there."""
    if not name or Path(name).is_absolute() or ".." in Path(name).parts:
        return None
    try:
        return files.storage().open(name, "rb")
    except (FileNotFoundError, SuspiciousFileOperation):
        return None


def _actions(request: HttpRequest, job: Job) -> dict[str, Any]:
    rerun = job_rules.RERUN_PAGES.get(job.kind)
    may_undo = can(request.user, "undo_job") and job.kind in job_rules.UNDOABLE_KINDS
    undo_reason = job_rules.undo_refused(job) if may_undo else ""
    return {
        "relaunch": job_rules.can_relaunch(job) and can_run(request.user, job.kind),
        "cancel": job_rules.can_cancel(job) and can_run(request.user, job.kind),
        "resume": can(request.user, "run_import") and not job_rules.resume_refused(job),
        "undo": may_undo and not undo_reason,
        "undo_reason": undo_reason,
        "confirm_import": _confirm_import(request, job),
        "rerun": f"{reverse(rerun)}?collection={job.collection}&rerun={job.pk}"
        if rerun and can_run(request.user, job.kind)
        else "",
    }


def _counts(job: Job) -> list[tuple[str, Any]]:
    """The job's counts worth showing: rows, failed, and every other count that is not zero."""
    hidden = ("elapsed", "docs_per_second")
    return [(k, v) for k, v in job.counts.items() if k not in hidden and (v or k in ("rows", "failed"))]


def _labelled(counts: list[tuple[str, Any]], job: Job) -> list[tuple[str, Any, str]]:
    """Each count with its label: what a dry run would have done."""
    labels = DRY_RUN_LABELS if job.dry_run else {}
    return [(name, value, labels.get(name, name)) for name, value in counts]


def _confirm_import(request: HttpRequest, job: Job) -> dict[str, Any] | None:
    """The confirm box of a dry-run import, for users who may import."""
    if job.kind != Job.Kind.IMPORT or not job.dry_run or not can(request.user, "run_import"):
        return None
    return {"reason": job_rules.confirm_refused(job), "confirmed_by": job.details.get("confirmed_by")}


def _percent(job: Job) -> int:
    if job.is_finished and job.status == Job.Status.SUCCEEDED:
        return 100
    if not job.rows_total and job.details.get("bytes_total"):  # an import: how far into the file
        return min(100, int(job.details.get("bytes_read", 0) * 100 / job.details["bytes_total"]))
    if not job.rows_total:
        return 0
    return min(100, int(job.rows_done * 100 / job.rows_total))


def _rate(job: Job) -> float:
    if job.is_finished and job.counts.get("docs_per_second") is not None:
        return job.counts["docs_per_second"]
    elapsed = job.elapsed
    return round(job.rows_done / elapsed, 1) if elapsed else 0.0
