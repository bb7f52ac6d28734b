"""Jobs: the filterable list, the result page, its live status, and cancel / undo / errors."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import figures, kinds, once, runs, sources, tasks
from bulkadmin.jobs import rules as job_rules
from bulkadmin.jobs.error_pages import ErrorFileRows, has_error_file, open_error_file
from bulkadmin.jobs.parameters import CleanupParameters, SyncParameters
from bulkadmin.models import Job
from bulkadmin.operations.cleanup import rules
from bulkadmin.web.charts import throughput_svg
from bulkadmin.web.job_facts import facts
from bulkadmin.web.job_filters import filter_jobs
from bulkadmin.web.launch import launch_cleanup, launch_once, launch_sync
from bulkadmin.web.permissions import (
    job_collections,
    may_do,
    may_run_job,
    may_see_job,
    require,
    visible_collections,
    visible_jobs,
)
from bulkadmin.web.views.common import page
from bulkadmin.web.views.exports import download_of

ERRORS_PER_PAGE = 20


def job_list(request: HttpRequest) -> HttpResponse:
    """The jobs the user may see (every collection they touch visible to them), filterable."""
    visible = visible_jobs(request.user, Job.objects.select_related("user"))
    jobs, chosen, problems = filter_jobs(visible, request.GET)
    listing = Paginator(jobs, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "title": "Jobs",
        "listing": listing,
        "chosen": chosen,
        "kinds": Job.Kind.choices,
        "statuses": Job.Status.choices,
        "collections": visible_collections(request.user),
        "users": get_user_model().objects.filter(job__in=jobs).distinct().values_list("username", flat=True),
        "base_query": params.urlencode(),
        "problems": problems,
    }
    return page(request, "job_list.html", context)


def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible_job(request, pk)
    runs.settle_interrupted(job)  # an interrupted update or delete shows what it wrote
    errors, error_file = _errors(job, request.GET.get("errors_page"))
    counts = figures.counts(job)
    context = {
        "title": f"Job #{job.pk}: {job.get_kind_display()}",
        "job": job,
        "parameters": facts(job.parameters),
        "details": facts(job.details),
        "counts": [(count.name, count.value) for count in counts],
        "labelled_counts": [(count.name, count.value, count.label) for count in counts],
        "figures": figures.status(job),
        "chart": throughput_svg(job.batches),
        "errors": errors,
        "error_file": error_file,
        "actions": _actions(request, job),
        "download": download_of(request.user, job),
        "status_url": reverse("bulkadmin:job_status", args=[job.pk]),
    }
    return page(request, "job_detail.html", context)


def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The job's live figures for the progress bar."""
    job = _visible_job(request, pk)
    return JsonResponse(figures.status(job))


def _errors(job: Job, number: str | None) -> tuple[Any, ErrorFileRows | None]:
    """A page of the job's errors: read from its full error file when it has one, else from
    the first errors kept on the job."""
    if has_error_file(job):
        rows = ErrorFileRows(job)
        return Paginator(rows, ERRORS_PER_PAGE).get_page(number), rows
    return Paginator(job.errors, ERRORS_PER_PAGE).get_page(number), None


@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_to_act_on(request, pk)
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
def job_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Restore the job's documents, once: the undo job's key is the job's, so a repeated POST
    finds the undo job the first one started. Undo is a change of the job's collection."""
    job = _visible_job(request, pk)
    require(request.user, "undo", job_collections(job))
    done = once.existing(once.undo_key(job))
    if done is not None:
        messages.info(request, f"Job #{job.pk} is already undone by job #{done.pk}.")
        return redirect("bulkadmin:job", pk=done.pk)
    runs.settle_interrupted(job)
    reason = job_rules.undo_refused(job)
    if reason:
        messages.error(request, f"Job #{job.pk} cannot be undone: {reason}")
        return redirect("bulkadmin:job", pk=job.pk)
    parameters = {"job": job.pk}
    started = launch_once(
        kind=Job.Kind.UNDO, collection=job.collection, parameters=parameters, user=request.user, key=once.undo_key(job)
    )
    if started.created:
        job_rules.link(job, "undone_by", started.job)
    messages.success(request, f"Job #{started.job.pk} restores the documents of job #{job.pk}.")
    return redirect("bulkadmin:job", pk=started.job.pk)


@require_POST
def job_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a cleanup or sync job again with the same rules or source and mode, as a new job (once
    per form: the form's token). A real cleanup is re-run from the Cleanup page, where the number
    of documents it will touch is shown and typed first."""
    job = _job_to_act_on(request, pk)
    if not job_rules.can_relaunch(job):
        messages.error(request, f"{job.get_kind_display()} jobs are re-run from their page, with a new preview.")
        return redirect("bulkadmin:job", pk=job.pk)
    if job.kind == Job.Kind.CLEANUP and not job.dry_run:
        return redirect(f"{reverse('bulkadmin:cleanup')}?rerun={job.pk}")
    key = once.form_key(f"rerun-{job.pk}", request.user, request.POST.get(once.FIELD))
    try:
        new = _relaunch(job, request.user, key)
    except BulkAdminError as error:
        messages.error(request, f"Job #{job.pk} cannot be re-run: {error}")
        return redirect("bulkadmin:job", pk=job.pk)
    messages.success(request, f"Job #{new.pk} re-runs job #{job.pk}.")
    return redirect("bulkadmin:job", pk=new.pk)


@require_POST
def job_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Carry on an interrupted (or cancelled) import after its last committed row, in the
    background; queuing it is a conditional update, so several POSTs resume it once."""
    job = _job_to_act_on(request, pk)
    runs.settle_interrupted(job)
    reason = job_rules.resume_refused(job)
    if reason:
        messages.error(request, f"Job #{job.pk} cannot be resumed: {reason}")
        return redirect("bulkadmin:job", pk=job.pk)
    continues = job.kind in job_rules.CONTINUABLE  # an update or delete: over what it had not written
    if job_rules.queue_resume(job):
        (tasks.run_job if continues else tasks.resume_import_job).enqueue(job.pk)
    if continues:
        messages.success(request, f"Job #{job.pk} continues over the documents it had not written.")
    else:
        messages.success(request, f"Job #{job.pk} carries on where it stopped, without importing a row twice.")
    return redirect("bulkadmin:job", pk=job.pk)


def _job_to_act_on(request: HttpRequest, pk: int) -> Job:
    """The job a cancel, re-run or resume acts on: one the user may see and may run (403 naming
    the permission otherwise), and one of the user's own when its kind is owned (an import: the
    rule of its confirm), else 404."""
    job = _visible_job(request, pk)
    if job_rules.owned_by_another(job, request.user):
        raise Http404(f"There is no such {job.get_kind_display().lower()} job among yours.")
    require(request.user, kinds.get(job.kind).operation, job_collections(job))
    return job


def _visible_job(request: HttpRequest, pk: int) -> Job:
    """Job `pk` when the user may see it (every collection it touches); else 404, as for no job."""
    job = get_object_or_404(Job.objects.select_related("user"), pk=pk)
    if not may_see_job(request.user, job):
        raise Http404("There is no such job among those you may see.")
    return job


def _relaunch(job: Job, user: Any, key: str | None) -> Job:
    if job.kind == Job.Kind.CLEANUP:
        chosen = CleanupParameters.from_parameters(job.parameters).rules
        return launch_cleanup(rules=rules.select(chosen or None), dry_run=job.dry_run, user=user, key=key)
    parameters = SyncParameters.from_parameters(job.parameters)
    source = sources.get(parameters.source)
    return launch_sync(source=source, mode=parameters.mode, dry_run=job.dry_run, user=user, key=key)


def job_errors(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    """The job's error file (from the job files' storage), or a CSV of the errors kept on the job."""
    job = _visible_job(request, pk)
    stored = open_error_file(job)
    if stored is not None:
        return FileResponse(stored, as_attachment=True, filename=Path(job.error_file).name)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["index", "kind", "field", "code", "message"])
    for error in job.errors:
        writer.writerow([error.get(name) for name in ("index", "kind", "field", "code", "message")])
    return response


def _actions(request: HttpRequest, job: Job) -> dict[str, Any]:
    rerun = job_rules.RERUN_PAGES.get(job.kind)
    touched = job_collections(job)
    may_undo = job.kind in job_rules.UNDOABLE_KINDS and all(may_do(request.user, "undo", name) for name in touched)
    undo_reason = job_rules.undo_refused(job) if may_undo else ""
    may_run = may_run_job(request.user, job) and not job_rules.owned_by_another(job, request.user)
    actions: dict[str, Any] = {
        "relaunch": job_rules.can_relaunch(job) and may_run,
        "cancel": job_rules.can_cancel(job) and may_run,
        "resume": may_run and not job_rules.resume_refused(job),
        "undo": may_undo and not undo_reason,
        "undo_reason": undo_reason,
        "undo_question": job_rules.undo_question(job),
        "confirm_import": _confirm_import(request, job) if may_run else None,
        "rerun": f"{reverse(rerun)}?collection={job.collection}&rerun={job.pk}" if rerun and may_run else "",
        "rerun_reason": job_rules.rerun_refused(job),
        "continues": job.kind in job_rules.CONTINUABLE,
        "sync_for_real": may_run and job.kind == Job.Kind.SYNC and job.dry_run and job.is_finished,
    }
    if actions["rerun_reason"]:
        actions["rerun"] = ""
    return actions


def _confirm_import(request: HttpRequest, job: Job) -> dict[str, Any] | None:
    """The confirm box of a dry-run import, for users who may import."""
    if job.kind != Job.Kind.IMPORT or not job.dry_run:
        return None
    return {"reason": job_rules.confirm_refused(job), "confirmed_by": job.details.get("confirmed_by")}
