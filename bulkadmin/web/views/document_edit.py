"""Add, edit and delete one document: each write is an `edit` job (who, when, what changed, Undo),
run once per form, refused without overwriting when the document changed since it was loaded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from bulkadmin.core.collection_admin import codename
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.jobs import once
from bulkadmin.jobs.edits import Edited, edit_job
from bulkadmin.operations import edits
from bulkadmin.operations.results import OperationResult
from bulkadmin.web.document_forms import DocumentForm, loaded_document, loaded_text, too_large_to_edit
from bulkadmin.web.fields import document_label
from bulkadmin.web.ids import id_candidates
from bulkadmin.web.permissions import MissingPermission, may, require
from bulkadmin.web.views.common import model_or_404, page
from bulkadmin.web.views.documents import find_document

Write = Callable[[int], OperationResult]
WriteDocument = Callable[[dict[str, Any], int], OperationResult]


def document_add(request: HttpRequest, name: str) -> HttpResponse:
    """The empty form of a new document (GET); add it as an edit job (POST)."""
    model = model_or_404(name)
    require(request.user, "edit", [model.collection])
    form = DocumentForm(request.POST or None, model=model, loaded=None)
    if request.method != "POST":
        return _form_page(request, form)
    return _save(
        request, form, edits.ADD, lambda document, job: edits.add_document(model=model, document=document, undo_key=job)
    )


def document_change(request: HttpRequest, name: str, doc_id: str) -> HttpResponse:
    """The form of a stored document (GET); save it as an edit job unless it changed since (POST)."""
    model = model_or_404(name)
    require(request.user, "edit", [model.collection])
    loaded = _posted_document(request, doc_id) if request.method == "POST" else _stored(model, doc_id)
    form = DocumentForm(request.POST or None, model=model, loaded=loaded)
    if request.method != "POST":
        too_large = too_large_to_edit(loaded_text(loaded))
        if too_large:
            messages.error(request, too_large)
            return redirect("bulkadmin:document", name=model.collection, doc_id=doc_id)
        return _form_page(request, form)
    return _save(
        request,
        form,
        edits.SAVE,
        lambda document, job: edits.save_document(model=model, loaded=loaded, document=document, undo_key=job),
    )


@require_POST
def document_delete(request: HttpRequest, name: str, doc_id: str) -> HttpResponse:
    """Delete the document as the user loaded it (the document page's form), as an edit job; a
    document changed since is not deleted, and the page says what changed."""
    model = model_or_404(name)
    require_delete(request.user, model.collection)
    loaded = _posted_document(request, doc_id)
    try:
        edited = _edit_job(
            request,
            model,
            edits.DELETE,
            loaded,
            lambda job: edits.delete_document(model=model, loaded=loaded, undo_key=job),
        )
    except edits.StaleDocument as stale:
        messages.error(request, f"Not deleted: {stale}")
        return redirect("bulkadmin:document", name=model.collection, doc_id=doc_id)
    if not edited.created:
        return _already_sent(request, edited)
    messages.success(request, f"Deleted {document_label(model, loaded)} (job #{edited.job.pk}, which can undo it).")
    return redirect("bulkadmin:browse", name=model.collection)


def require_delete(user: Any, collection: str) -> None:
    """Deleting one document is a single edit that also needs the collection's delete right."""
    require(user, "edit", [collection])
    if not may(user, "delete", collection):
        permission = f"bulkadmin.{codename('delete', collection)}"
        raise MissingPermission(f"You need the permission {permission} for this page.", permission)


def _save(request: HttpRequest, form: DocumentForm, action: str, write: WriteDocument) -> HttpResponse:
    """Write the posted form's document as an edit job, once per form; an invalid form, a stale
    document or a refused write is shown on the form, nothing written."""
    model = form.model
    document = form.document() if form.is_valid() else None
    if document is None:
        return _form_page(request, form)
    try:
        edited = _edit_job(request, model, action, document, lambda job: write(document, job))
    except edits.StaleDocument as stale:
        return _form_page(request, form, stale=stale)
    except InvalidSpec as error:
        form.add_operation_error(error)
        return _form_page(request, form)
    if not edited.created:
        return _already_sent(request, edited)
    what = "Added" if action == edits.ADD else "Saved" if edited.job.counts.get("updated") else "Nothing changed in"
    messages.success(request, f"{what} {document_label(model, document)} (job #{edited.job.pk}).")
    return redirect("bulkadmin:document", name=model.collection, doc_id=str(document["_id"]))


def _edit_job(
    request: HttpRequest, model: type[MongoModel], action: str, document: dict[str, Any], write: Write
) -> Edited:
    """Run `write` as the edit job of this form (its one-time token keys it: a second POST finds it)."""
    key = once.form_key(f"edit-{model.collection}", request.user, request.POST.get(once.FIELD))
    return edit_job(
        action=action, collection=model.collection, doc_id=str(document["_id"]), user=request.user, key=key, write=write
    )


def _already_sent(request: HttpRequest, edited: Edited) -> HttpResponse:
    messages.info(request, f"This form was already sent: its job is #{edited.job.pk}.")
    return redirect("bulkadmin:job", pk=edited.job.pk)


def _stored(model: type[MongoModel], doc_id: str) -> dict[str, Any]:
    found = find_document(model, doc_id)
    if found is None:
        raise Http404(f"No document of {model.collection} has the id {doc_id!r}.")
    return found


def _posted_document(request: HttpRequest, doc_id: str) -> dict[str, Any]:
    """The document as the user loaded it, carried by the form; it must be the one the URL names."""
    try:
        loaded = loaded_document(request.POST.get("loaded", ""))
    except InvalidSpec as error:
        raise Http404(str(error)) from None
    if loaded["_id"] not in id_candidates(doc_id) and str(loaded["_id"]) != doc_id:
        raise Http404(f"The form is of another document than {doc_id!r}.")
    return loaded


def _form_page(request: HttpRequest, form: DocumentForm, *, stale: edits.StaleDocument | None = None) -> HttpResponse:
    model, loaded = form.model, form.loaded
    label = document_label(model, loaded) if loaded is not None else "new document"
    context = {
        "title": f"{model.collection}: {'edit ' + label if loaded is not None else 'add a document'}",
        "collection": model.collection,
        "label": label,
        "form": form,
        "doc_id": str(loaded["_id"]) if loaded is not None else "",
        "loaded": loaded_text(loaded) if loaded is not None else "",
        "stale": stale,
        "gone": stale is not None and any(change.after == edits.DELETED for change in stale.changes),
    }
    return page(request, "document_form.html", context)
