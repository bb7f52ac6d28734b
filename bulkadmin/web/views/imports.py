"""Import: upload a file (streamed to disk), preview how it would be read and mapped, dry-run it
as a background job, then confirm the real import from the dry run's result page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import once
from bulkadmin.jobs import rules as job_rules
from bulkadmin.jobs.uploads import UploadRejected, load_meta, save_meta, stored_source, upload_path
from bulkadmin.models import Job
from bulkadmin.operations.imports import MODES, check_import_options
from bulkadmin.operations.imports.preview import ImportPreview, preview_file
from bulkadmin.web.import_forms import PreviewForm, UploadForm, preview_initial
from bulkadmin.web.launch import launch, launch_once
from bulkadmin.web.option_errors import worded
from bulkadmin.web.permissions import MissingPermission, collections_for, require
from bulkadmin.web.uploads import (
    FILE_FIELD,
    StoredUpload,
    UploadRequest,
    check_content,
    discard_uploads,
    max_upload_bytes,
    use_limited_uploads,
)
from bulkadmin.web.views.common import model_or_404, page
from bulkadmin.web.views.import_scan import scan_context


@csrf_exempt
def import_upload(request: HttpRequest) -> HttpResponse:
    """Step 1. The upload handlers are set before anything reads the body; CSRF is checked after."""
    response = _upload(use_limited_uploads(request))
    if response.status_code == 403:  # a failed CSRF check after the body was read
        discard_uploads(request)
    return response


@csrf_protect
def _upload(request: UploadRequest) -> HttpResponse:
    collections = _importable(request)
    if request.method != "POST":
        form = UploadForm(initial={"collection": request.GET.get("collection", "")}, collections=collections)
        return _upload_page(request, form)
    form = UploadForm(request.POST, request.FILES, collections=collections)
    valid = form.is_valid()
    stored = request.FILES.get(FILE_FIELD)
    upload = stored if isinstance(stored, StoredUpload) else None
    if request.upload_problem:
        form.errors[FILE_FIELD] = form.error_class([request.upload_problem])
        valid = False
    elif upload is not None:
        try:
            check_content(upload.path)
        except UploadRejected as error:
            form.errors[FILE_FIELD] = form.error_class([str(error)])
            valid = False
    if upload is not None:
        upload.close()
    if not valid or upload is None:
        discard_uploads(request)  # every folder this request wrote, not only the file kept
        return _upload_page(request, form, status=400)
    meta = {
        "user": request.user.pk,
        "collection": form.cleaned_data["collection"],
        "name": upload.name,
        "file": upload.path.name,
        "size": upload.size,
        "options": form.options(),
    }
    try:
        token = save_meta(upload.path, meta)
    except OSError as error:  # a full disk: the upload is not kept
        discard_uploads(request)
        form.errors[FILE_FIELD] = form.error_class([f"The file could not be stored: {error.strerror or error}."])
        return _upload_page(request, form, status=400)
    return redirect("bulkadmin:import_preview", token=token)


def _importable(request: HttpRequest) -> list[str]:
    """The collections the user may import into; a refusal naming the permission when none."""
    collections = collections_for(request.user, "import")
    if not collections:
        raise MissingPermission("You need the permission to import into a collection (bulkadmin.import_<collection>).")
    return collections


def _upload_page(request: HttpRequest, form: UploadForm, status: int = 200) -> HttpResponse:
    context = {"title": "Import a file", "form": form, "max_mb": max_upload_bytes() // (1024 * 1024)}
    return page(request, "import_upload.html", context, status=status)


def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2: the file as the import would read it; re-preview with changes, or start the dry run."""
    folder, meta = _upload_of(request, token)
    model = model_or_404(meta["collection"])
    require(request.user, "import", [model.collection])
    path = folder / meta["file"]
    if request.method != "POST":
        return _preview_page(request, token, meta, model, _preview(model, path, meta["options"], meta.get("mapping")))
    form = PreviewForm(request.POST, model=model, **_shown(meta))
    if not form.is_valid():
        errors = ["The choices below are not valid: check the options and the mapping."]
        return _preview_page(request, token, meta, model, None, form=form, errors=errors, status=400)
    meta["options"] = form.options()
    mapping: dict[str, str] | None = form.mapping()
    preview = _preview(model, path, meta["options"], mapping)
    if [column.header for column in preview.columns] != meta.get("columns"):
        mapping = None  # another delimiter or encoding gave other columns: match them again
        preview = _preview(model, path, meta["options"], None)
    meta["mapping"] = mapping
    if request.POST.get("action") == "dry_run":
        job, error = _start_dry_run(request, token, model, path, meta, preview)
        if job is not None:
            messages.success(request, f"Job #{job.pk} started: a dry run of the import into {model.collection}.")
            return redirect("bulkadmin:job", pk=job.pk)
        return _preview_page(request, token, meta, model, preview, errors=[error], status=400)
    return _preview_page(request, token, meta, model, preview)


def _upload_of(request: HttpRequest, token: str) -> tuple[Path, dict[str, Any]]:
    folder = upload_path(token)
    if folder is None:
        raise Http404("There is no such upload (it may have been removed); upload the file again.")
    meta = load_meta(folder)
    if meta["user"] != request.user.pk:
        raise Http404("There is no such upload among yours.")
    return folder, meta


def _preview(model: type[MongoModel], path: Path, options: dict[str, Any], mapping: Any) -> ImportPreview:
    keys = tuple(options.get("key_fields") or ())
    chosen: dict[str, Any] = {name: options.get(name) for name in ("format", "encoding", "delimiter", "sheet")}
    chosen["extended_json"] = bool(options.get("extended_json"))
    try:
        return preview_file(
            model=model,
            path=path,
            mode=MODES.get(options.get("mode", "insert"), "insert"),
            key_fields=keys,
            mapping=mapping,
            ignore_blanks=bool(options.get("ignore_blanks")),
            date_format=options.get("date_format") or None,
            **chosen,
        )
    except BulkAdminError as error:
        fmt, encoding = chosen["format"] or "", chosen["encoding"] or ""
        problems = (worded(error, PreviewForm),)
        return ImportPreview(fmt, encoding, chosen["delimiter"], problems=problems, sheet=chosen["sheet"])


def _start_dry_run(
    request: HttpRequest, token: str, model: type[MongoModel], path: Path, meta: dict[str, Any], preview: ImportPreview
) -> tuple[Job | None, str]:
    if preview.problems:
        return None, "Fix the problems shown before the dry run."
    options = {**meta["options"], "format": preview.format, "encoding": preview.encoding}
    options.update(delimiter=preview.delimiter, sheet=preview.sheet)
    mapping = {header: target for header, target in (meta["mapping"] or {}).items() if target != header}
    mapping.update({c.header: "" for c in preview.columns if not c.known and c.header not in mapping})
    try:
        checked = check_import_options(model, source=str(path), dry_run=True, mapping=mapping, **options)
    except BulkAdminError as error:
        return None, worded(error, PreviewForm)
    parameters = {**checked.to_parameters(), "upload": token, "source": stored_source(token, meta)}
    save_meta(path, meta)
    key = once.form_key("import-dry-run", request.user, request.POST.get(once.FIELD))  # one dry run per form
    job = launch(
        kind=Job.Kind.IMPORT,
        collection=model.collection,
        parameters=parameters,
        user=request.user,
        dry_run=True,
        key=key,
    )
    return job, ""


def _preview_page(
    request: HttpRequest,
    token: str,
    meta: dict[str, Any],
    model: type[MongoModel],
    preview: ImportPreview | None,
    *,
    form: PreviewForm | None = None,
    errors: tuple[str, ...] | list[str] = (),
    status: int = 200,
) -> HttpResponse:
    if preview is not None:
        meta.update(columns=[c.header for c in preview.columns], format=preview.format, sheets=list(preview.sheets))
        save_meta(upload_path(token) / meta["file"], meta)
        detected = {**meta["options"], "format": preview.format, "encoding": preview.encoding}
        detected.update(delimiter=preview.delimiter or "", sheet=preview.sheet or "")
        form = PreviewForm(initial=preview_initial(detected, preview.columns), model=model, **_shown(meta))
    context = {
        "title": f"Import into {model.collection}: preview",
        "collection": model.collection,
        "meta": meta,
        "preview": preview,
        "form": form,
        "columns": [(form.map_field(n), plan) for n, plan in enumerate(preview.shown_columns)]
        if preview and form
        else [],
        "errors": [*errors, *(preview.problems if preview else ())],
    }
    context.update(scan_context(token, meta, preview))
    return page(request, "import_preview.html", context, status=status)


def _shown(meta: dict[str, Any]) -> dict[str, Any]:
    """What the preview form was built from: the columns, format and sheets last shown."""
    return {"columns": meta.get("columns", []), "fmt": meta.get("format", ""), "sheets": meta.get("sheets", [])}


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 3: from a dry run's result page, run the same import for real (a new job), once: the
    import job's key is the dry run's, so a repeated POST finds the import the first one started."""
    dry_run = get_object_or_404(Job, pk=pk, kind=Job.Kind.IMPORT, dry_run=True)
    if dry_run.user_id != request.user.pk:  # the rule of its upload's preview: one's own uploads only
        raise Http404("There is no such dry run among yours.")
    require(request.user, "import", [dry_run.collection])
    done = once.existing(once.confirm_key(dry_run))
    if done is not None:
        messages.info(request, f"Dry run #{dry_run.pk} was already confirmed as job #{done.pk}.")
        return redirect("bulkadmin:job", pk=done.pk)
    reason = job_rules.confirm_refused(dry_run)
    if reason:
        messages.error(request, f"The import of dry run #{dry_run.pk} cannot start: {reason}")
        return redirect("bulkadmin:job", pk=dry_run.pk)
    parameters = {**dry_run.parameters, "keep_undo": True}
    started = launch_once(
        kind=Job.Kind.IMPORT,
        collection=dry_run.collection,
        parameters=parameters,
        user=request.user,
        key=once.confirm_key(dry_run),
    )
    if started.created:
        job_rules.link(dry_run, "confirmed_by", started.job)
    messages.success(request, f"Job #{started.job.pk} imports the file into {started.job.collection}.")
    return redirect("bulkadmin:job", pk=started.job.pk)
