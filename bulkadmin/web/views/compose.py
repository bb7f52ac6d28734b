"""Bulk update and bulk delete: compose a filter (and update) with any number of rows, preview a
few documents by their labels and the final JSON, confirm by typing the count (computed in the
background for large collections), then run as a background job."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bson import json_util
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from bulkadmin.core.collection_admin import ACTION_OF_OPERATION
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.core.mongo import get_db
from bulkadmin.core.registry import admin_of
from bulkadmin.jobs import once
from bulkadmin.jobs.parameters import BulkParameters
from bulkadmin.models import Job
from bulkadmin.web.compose_preview import Preview, preview
from bulkadmin.web.fields import document_label, field_paths, search_fields, value_kinds
from bulkadmin.web.forms import ComposeForm, FilterRows, UpdateRows, filter_from, update_from
from bulkadmin.web.launch import launch
from bulkadmin.web.permissions import MissingPermission, collections_for, require, visible_jobs
from bulkadmin.web.rerun_rows import Row, filter_rows, update_rows
from bulkadmin.web.search import newest_window, plan_search
from bulkadmin.web.selection import Selection, SelectionError, all_of, search_filter
from bulkadmin.web.views.carried import carrying_selection
from bulkadmin.web.views.common import model_or_404, page, show


@dataclass
class Composition:
    """The state of one compose page: its forms, the specs they make, the preview, errors."""

    kind: str
    model: type[MongoModel]
    form: ComposeForm
    filter_rows: Any
    update_rows: Any
    specs: dict[str, Any] | None = None
    preview: Preview | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return self.kind == Job.Kind.UPDATE


@carrying_selection
def compose_update(request: HttpRequest) -> HttpResponse:
    return _compose(request, Job.Kind.UPDATE)


@carrying_selection
def compose_delete(request: HttpRequest) -> HttpResponse:
    return _compose(request, Job.Kind.DELETE)


def _compose(request: HttpRequest, kind: str) -> HttpResponse:
    name = request.POST.get("collection") or request.GET.get("collection")
    allowed = collections_for(request.user, kind)
    if not name:
        if not allowed:
            raise MissingPermission(f"You need the permission to {kind} in a collection ({_needed(kind)}).")
        return page(request, "compose.html", {"title": _title(kind), "kind": kind, "collections": allowed})
    model = model_or_404(name)
    require(request.user, kind, [model.collection])
    if request.method != "POST":
        blank = _blank(request, kind, model)
        return _render(request, blank, status=400 if blank.errors else 200)
    done = once.existing(_key(request, kind)) if request.POST.get("action") == "confirm" else None
    if done is not None:  # the same confirmation again (a double click, Back + resubmit)
        messages.info(request, f"This confirmation already started job #{done.pk}.")
        return redirect("bulkadmin:job", pk=done.pk)
    state = _bound(request, kind, model)
    if not state.errors:
        _preview(state, request.user.pk)
    if request.POST.get("action") == "confirm" and not state.errors:
        job = _confirm(request, state)
        if job is not None:
            count = state.preview.count if state.preview else 0
            messages.success(request, f"Job #{job.pk} started: {_title(kind).lower()} of {count} documents.")
            return redirect("bulkadmin:job", pk=job.pk)
    return _render(request, state, status=400 if state.errors else 200)


def _needed(kind: str) -> str:
    return f"bulkadmin.{ACTION_OF_OPERATION[kind]}_<collection>"


def _blank(request: HttpRequest, kind: str, model: type[MongoModel]) -> Composition:
    """An empty composer, or one filled from a job to re-run or from what the browse page carried
    (its choices and ticked ids as filter rows, its search as the search)."""
    paths = field_paths(model)
    initial, rows, changes = _rerun_initial(request, kind, admin_of(model).batch_size)
    errors: list[str] = []
    try:
        carried = Selection.from_params(model, request.GET)
    except SelectionError as error:
        errors.append(str(error))
    else:
        rows, initial["search"] = rows + carried.rows(model), carried.query
    return Composition(
        kind,
        model,
        ComposeForm(initial=initial),
        FilterRows(prefix="filter", initial=rows, form_kwargs={"fields": paths}),
        UpdateRows(prefix="update", initial=changes, form_kwargs={"fields": paths}),
        errors=errors,
    )


def _rerun_initial(request: HttpRequest, kind: str, batch_size: int) -> tuple[dict[str, Any], list[Row], list[Row]]:
    """The form, filter rows and update rows filled from the job given as `?rerun=` (one the user
    may see), to compose it again: as rows where rows can say it, else as JSON."""
    number = request.GET.get("rerun", "")
    if not number.isascii() or not number.isdigit():  # "²" is a digit, not a number
        return {"batch_size": batch_size}, [], []
    job = get_object_or_404(visible_jobs(request.user, Job.objects.all()), pk=number, kind=kind)
    initial = {"batch_size": job.parameters.get("batch_size", batch_size)}
    spec, update = job.parameters.get("filter", {}), job.parameters.get("update")
    rows, changes = filter_rows(spec), update_rows(update) if update is not None else []
    if rows is None:
        rows, initial["filter_json"] = [], json.dumps(spec)
    if changes is None:
        changes, initial["update_json"] = [], json.dumps(update)
    return initial, rows, changes


def _bound(request: HttpRequest, kind: str, model: type[MongoModel]) -> Composition:
    paths = field_paths(model)
    state = Composition(
        kind,
        model,
        ComposeForm(request.POST),
        FilterRows(request.POST, prefix="filter", form_kwargs={"fields": paths}),
        UpdateRows(request.POST, prefix="update", form_kwargs={"fields": paths}),
    )
    forms_valid = [state.form.is_valid(), state.filter_rows.is_valid()]
    if state.is_update:
        forms_valid.append(state.update_rows.is_valid())
    if not all(forms_valid):
        state.errors.append("Please correct the fields marked below.")
        return state
    try:
        state.specs = _specs(state)
    except BulkAdminError as error:
        state.errors.append(str(error))
    return state


def _specs(state: Composition) -> dict[str, Any]:
    data = state.form.cleaned_data
    rows = filter_from(_filled(state.filter_rows), data["filter_json"])
    specs = {"filter": all_of(rows, search_filter(state.model, data["search"]))}
    if state.is_update:
        specs["update"] = update_from(_filled(state.update_rows), data["update_json"])
        admin_of(state.model).check_update(specs["update"])
    return specs


def _filled(formset: Any) -> list[dict[str, Any]]:
    return [form.cleaned_data for form in formset.forms]


def _preview(state: Composition, user: int | None) -> None:
    try:
        specs = state.specs or {}
        state.preview = preview(model=state.model, filter=specs["filter"], update=specs.get("update"), user=user)
    except BulkAdminError as error:
        state.errors.append(str(error))


def _confirm(request: HttpRequest, state: Composition) -> Job | None:
    """Queue the job when the typed number is the count shown, the count is current, and the
    previewed specs are what runs now."""
    previewed = request.POST.get("previewed", "")
    typed = request.POST.get("typed", "").strip().replace(",", "")
    expected = request.POST.get("expected", "")
    shown = state.preview
    count = shown.count if shown else None
    if previewed != _fingerprint(state.specs):
        state.errors.append("The filter or update changed since the preview: check the new preview and confirm again.")
    elif shown is None or count is None or shown.count_state.pending:
        state.errors.append("The matching documents are still being counted: wait for the number, then confirm.")
    elif expected != str(count):
        state.errors.append(
            f"The number of matching documents changed from {expected or 'not yet counted'} to {count} "
            "since the preview: check it and confirm again."
        )
    elif typed != str(count):
        state.errors.append(f"To confirm, type the number of matching documents ({count}).")
    if state.errors or state.specs is None:
        return None
    # The confirmed count is the job's expected total (its progress bar); documents are not counted again.
    specs = state.specs or {}
    batch_size = state.form.cleaned_data["batch_size"]
    parameters = BulkParameters(specs["filter"], specs.get("update"), batch_size, count).to_parameters()
    key = _key(request, state.kind)
    return launch(kind=state.kind, collection=state.model.collection, parameters=parameters, user=request.user, key=key)


def _key(request: HttpRequest, kind: str) -> str | None:
    return once.form_key(kind, request.user, request.POST.get(once.FIELD))


def _fingerprint(specs: dict[str, Any] | None) -> str:
    return json.dumps(specs, sort_keys=True, default=str)


def _render(request: HttpRequest, state: Composition, status: int = 200) -> HttpResponse:
    shown = state.preview
    context = {
        "title": f"{_title(state.kind)}: {state.model.collection}",
        "kind": state.kind,
        "state": state,
        "collection": state.model.collection,
        "collections": collections_for(request.user, state.kind),
        "samples": _samples(state.model, shown) if shown else [],
        "previewed": _fingerprint(state.specs) if shown else "",
        "count_url": reverse("bulkadmin:count", args=[shown.count_state.key]) if shown else "",
        "final_json": _pretty(state.specs) if shown else "",
        "stored_json": _pretty(shown.stored) if shown else "",
        "value_kinds": value_kinds(state.model),
        "search_fields": search_fields(state.model),
        "search_notes": _search_notes(state),
    }
    return page(request, "compose.html", context, status=status)


def _search_notes(state: Composition) -> list[str]:
    """How the search is looked for (as the browse page says it), when there is one."""
    text = state.form["search"].value() or ""
    if not text.strip() or not search_fields(state.model):
        return []
    try:
        return plan_search(state.model, text.strip()).notes(newest_window(get_db()[state.model.collection]))
    except BulkAdminError:
        return []  # the search itself is refused with the specs, naming why


def _samples(model: type[MongoModel], shown: Preview) -> list[dict[str, Any]]:
    """Each sample with its readable label, a link to it, and its changes (or its first fields)."""
    samples = []
    for sample in shown.samples:
        keys = sample.changed_keys if sample.after is not None else [k for k in sample.before if k != "_id"][:6]
        after = sample.after or {}
        changes = [(key, show(sample.before.get(key)), show(after.get(key)) if sample.after else "") for key in keys]
        doc_id = sample.before.get("_id")
        samples.append(
            {
                "id": show(doc_id),
                "label": document_label(model, sample.before),
                "url": reverse("bulkadmin:document", args=[model.collection, str(doc_id)]),
                "changes": changes,
            }
        )
    return samples


def _pretty(value: Any) -> str:
    return json.dumps(json.loads(json_util.dumps(value)), indent=2, ensure_ascii=False)


def _title(kind: str) -> str:
    return "Bulk update" if kind == Job.Kind.UPDATE else "Bulk delete"
