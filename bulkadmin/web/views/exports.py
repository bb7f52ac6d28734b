"""Export…: the documents a browse page showed (its filter, search and ticked documents), in a
chosen format and fields, written by a background job to the job files' storage; the job page
offers the file for download until it expires (`jobs.exports`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from bulkadmin.core.documents import MongoModel
from bulkadmin.jobs import files, once
from bulkadmin.jobs.exports import ExportParameters, expires_at, export_file, purge_exports, wrote_file
from bulkadmin.models import Job
from bulkadmin.web.export_forms import ExportForm, selection_refusal
from bulkadmin.web.launch import launch
from bulkadmin.web.permissions import MissingPermission, collections_for, job_collections, may_do, may_see_job, require
from bulkadmin.web.selection import Selection, SelectionError
from bulkadmin.web.views.carried import carrying_selection
from bulkadmin.web.views.common import finished_message, model_or_404, page


@carrying_selection
def export_page(request: HttpRequest) -> HttpResponse:
    """Choose the format and fields of what the browse page carried; a POST queues the export
    job (once per form) and opens its page."""
    name = request.POST.get("collection") or request.GET.get("collection")
    if not name:
        return _choose_collection(request)
    model = model_or_404(name)
    require(request.user, "export", [model.collection])
    posted = request.method == "POST"
    done = once.existing(_key(request)) if posted else None
    if done is not None:  # the same form again (a double click, Back + resubmit)
        messages.info(request, f"This export already started job #{done.pk}.")
        return redirect("bulkadmin:job", pk=done.pk)
    form = ExportForm(request.POST if posted else None, model=model)
    try:
        selection = Selection.from_params(model, request.POST if posted else request.GET)
    except SelectionError as error:
        return _render(request, model, form, None, str(error), status=400)
    if not posted:  # what the browse page carried, refused at once when the export would refuse it
        refusal = selection_refusal(model, selection)
        return _render(request, model, form, selection, refusal, status=400 if refusal else 200)
    if form.is_valid() and (parameters := form.export_parameters(selection)) is not None:
        return _start(request, model, parameters)
    return _render(request, model, form, selection, "", status=400)


def _start(request: HttpRequest, model: type[MongoModel], parameters: ExportParameters) -> HttpResponse:
    """Queue the export job (deleting the expired files of earlier ones) and open its page."""
    purge_exports()
    job = launch(
        kind=Job.Kind.EXPORT,
        collection=model.collection,
        parameters=parameters.to_parameters(),
        user=request.user,
        key=_key(request),
    )
    finished_message(request, job, f"Export of {model.collection}")
    return redirect("bulkadmin:job", pk=job.pk)


def _choose_collection(request: HttpRequest) -> HttpResponse:
    allowed = collections_for(request.user, "export")
    if not allowed:
        raise MissingPermission("You need the permission to export a collection (bulkadmin.export_<collection>).")
    return page(request, "export.html", {"title": "Export", "collections": allowed})


def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file of an export job, to users who may see the job and export its collection, until
    it expires (then 404, as for a job without one)."""
    job = get_object_or_404(Job, pk=pk, kind=Job.Kind.EXPORT)
    if not may_see_job(request.user, job):
        raise Http404("There is no such job among those you may see.")
    require(request.user, "export", job_collections(job))
    name = export_file(job)
    if name is None:
        raise Http404("This export's file is not kept any more (exports expire like uploads): export again.")
    return FileResponse(files.storage().open(name, "rb"), as_attachment=True, filename=Path(name).name)


def download_of(user: Any, job: Job) -> dict[str, Any] | None:
    """What the job page says of an export's file: its link while it is kept (to users who may
    export the collection), or that it expired; None for other jobs and users."""
    if not wrote_file(job):
        return None
    if not all(may_do(user, "export", name) for name in job_collections(job)):
        return None
    name = export_file(job)
    if name is None:
        return {"expired": True, "expires_at": expires_at(job)}
    url = reverse("bulkadmin:export_download", args=[job.pk])
    return {"expired": False, "url": url, "name": Path(name).name, "expires_at": expires_at(job)}


def _key(request: HttpRequest) -> str | None:
    return once.form_key(Job.Kind.EXPORT, request.user, request.POST.get(once.FIELD))


def _render(
    request: HttpRequest,
    model: type[MongoModel],
    form: ExportForm,
    selection: Selection | None,
    error: str,
    status: int = 200,
) -> HttpResponse:
    carried = Selection(selection.chosen, selection.query) if selection else Selection()
    context = {
        "title": f"Export: {model.collection}",
        "collection": model.collection,
        "collections": collections_for(request.user, "export"),
        "form": form,
        "error": error,
        "carried": selection.params() if selection else [],
        "described": selection.description(model) if selection else [],
        "browse_url": f"{reverse('bulkadmin:browse', args=[model.collection])}?{carried.query_string()}",
    }
    return page(request, "export.html", context, status=status)
