"""The collection browser: read-only pages of a collection, searchable, filterable, sortable by
indexed fields, with chosen columns; no page counts the whole collection (see `operations.browse`)."""

from __future__ import annotations

import time
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from bulkadmin.core.documents import MongoModel, stored_key
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.core.mongo import get_db
from bulkadmin.core.registry import admin_of
from bulkadmin.core.safety import translate_filter
from bulkadmin.jobs import browsing, counts
from bulkadmin.operations.browse import PER_PAGE, Page, Part, PositionsPending, Sort, read_page, read_union_page
from bulkadmin.operations.browse.marks import RELOAD_SECONDS
from bulkadmin.web.fields import (
    columns,
    default_columns,
    field_title,
    filter_fields,
    search_fields,
    sortable_fields,
)
from bulkadmin.web.ids import id_candidates, id_text
from bulkadmin.web.permissions import require, rights
from bulkadmin.web.search import newest_window, plan_search
from bulkadmin.web.selection import Selection
from bulkadmin.web.views.common import model_or_404, page, show
from bulkadmin.web.views.documents import find_document

SESSION_COLUMNS = "bulkadmin_columns"
BROWSE_COUNT_MAX_AGE = 300.0
MAX_PAGE = 1_000_000_000  # a page number past this is no page (its skip would not fit MongoDB's 64-bit integers)


def browse(request: HttpRequest, name: str) -> HttpResponse:
    model = model_or_404(name)
    require(request.user, "view", [model.collection])
    if request.GET.get("go", "").strip():
        return _jump(request, model)
    query = request.GET.get("q", "").strip()
    chosen = {field: request.GET[field] for field in filter_fields(model) if request.GET.get(field)}
    error = ""
    notes: list[str] = []
    try:
        parts, notes = _parts(model, query, chosen)
    except BulkAdminError as problem:
        error, parts = str(problem), [Part({})]
    context = _listing(request, model, parts, error)
    context.update(query=query, search_fields=search_fields(model), filters=_filters(model, chosen), search_notes=notes)
    context["carried"] = Selection(tuple(chosen.items()), query).params()  # to Export…, Bulk update, Bulk delete
    return page(request, "browse.html", context)


def _filters(model: type[MongoModel], chosen: dict[str, str]) -> list[tuple[str, str, list[str], str]]:
    """Each filter as (field, label, values, chosen value): the label as Django admin words a field."""
    return [
        (field, field_title(model, field), [str(value) for value in values], chosen.get(field, ""))
        for field, values in filter_fields(model).items()
    ]


def _parts(model: type[MongoModel], query: str, chosen: dict[str, str]) -> tuple[list[Part], list[str]]:
    """The filter as a union of flat parts (stored keys), and what the page says of the search.

    Chosen values are written `{"$in": [value]}`; the search is one part per text field, from its
    index or by a bounded scan (`web.search`): shapes both servers answer in `_id` order, stopping
    at the page's end (see README)."""
    base = translate_filter(model, {field: {"$in": [value]} for field, value in chosen.items()})
    if not query or not search_fields(model):
        return [Part(base)], []
    search = plan_search(model, query)
    window = newest_window(get_db()[model.collection])
    return search.parts(base, window), search.notes(window)


def _listing(request: HttpRequest, model: type[MongoModel], parts: list[Part], error: str) -> dict[str, Any]:
    """The page of documents matching any of `parts` (stored keys), its links, and what is known of the total."""
    spec = parts[0].filter if len(parts) == 1 else {"$or": [part.filter for part in parts]}
    collection = get_db()[model.collection]
    sort = _sort(model, request.GET.get("sort", ""))
    shown = _columns(request, model)
    number = max(_int(request.GET.get("page"), 1), 1)
    if number > MAX_PAGE:
        raise Http404(f"There is no page {number}: page numbers go up to {MAX_PAGE:,}.")
    total, count = _total(collection, spec, request.user.pk)
    reload_seconds = None
    try:
        listing = _read(request, collection, parts, sort, number, {key: 1 for _, key in shown})
    except BulkAdminError as problem:
        error, listing = str(problem), None
        if isinstance(problem, PositionsPending):
            reload_seconds = RELOAD_SECONDS
    documents = listing.documents if listing else []
    rows = [[show(doc.get(key)) for _, key in shown] for doc in documents]
    return {
        "title": f"Collection {model.collection}",
        "collection": model.collection,
        "reload_seconds": reload_seconds,
        "columns": [name for name, _ in shown],
        "all_columns": [(name, name in dict(shown)) for name, _ in columns(model)],
        "headers": _headers(model, shown, sort),
        "sort": sort.param,
        "rows": rows,
        "table": [
            (_document_url(model, doc), row, id_text(doc["_id"])) for doc, row in zip(documents, rows, strict=True)
        ],
        "total": total,
        "count": count,
        "estimated": not spec,
        "pages": -(-total // PER_PAGE) if total is not None else None,
        "page_number": number,
        "has_next": bool(listing and listing.has_next),
        "next_after": _id_param(listing.next_after if listing else None),
        "previous_before": _id_param(listing.previous_before if listing else None),
        "positions_age": _positions_age(listing),
        "error": error,
        "base_query": _base_query(request),
        "base_query_without_sort": _base_query(request, "sort"),
        "key_fields": model.key_fields,
        "sortable_fields": sortable_fields(model),
        "rights": rights(request.user, model.collection),
    }


def _read(request: HttpRequest, collection: Any, parts: list[Part], sort: Sort, number: int, projection: Any) -> Page:
    """Page `number`: of the one filter (by skip or keyset), or merged from the parts of a search."""
    reading = browsing.reading(collection)
    if len(parts) > 1 or parts[0].windowed or parts[0].newest is not None:
        return read_union_page(collection, parts, sort, number, seconds=reading.seconds, projection=projection)
    after, before = _id_value(request.GET.get("after", "")), _id_value(request.GET.get("before", ""))
    return read_page(
        collection, parts[0].filter, sort, number, reading=reading, after=after, before=before, projection=projection
    )


def _id_value(text: str) -> Any:
    """The `_id` a keyset link's parameter stands for (the likeliest), None for none."""
    return id_candidates(text)[0] if text else None


def _id_param(value: Any) -> str:
    """A keyset link's parameter: the `_id`'s text, "" for none."""
    return "" if value is None else id_text(value)


def _positions_age(listing: Page | None) -> str:
    """How old the page marks are that this page's number was counted from ("" when none)."""
    if listing is None or listing.positions_taken_at is None:
        return ""
    return counts.describe_age(time.time() - listing.positions_taken_at)


def _total(collection: Any, spec: dict[str, Any], user: int | None) -> tuple[int | None, counts.Count | None]:
    """The collection's estimated size when nothing is filtered; else the background count, if known."""
    if not spec:
        return counts.estimated(collection.name).value, None
    count = counts.counted(collection=collection.name, filter=spec, max_age=BROWSE_COUNT_MAX_AGE, user=user)
    return count.value, count


def _sort(model: type[MongoModel], param: str) -> Sort:
    """The `sort` parameter (`-last_login`) when it names an indexed field; else the admin's
    `ordering` when indexed; else newest first."""
    param = param if param.lstrip("-") in sortable_fields(model) else admin_of(model).ordering
    field = param.lstrip("-")
    if field not in sortable_fields(model):
        return Sort("id", "_id", -1)
    return Sort(field, stored_key(model, field), -1 if param.startswith("-") else 1)


def _columns(request: HttpRequest, model: type[MongoModel]) -> list[tuple[str, str]]:
    """The columns picked (`?columns=1&cols=name&cols=email`), remembered per collection in the session."""
    every = dict(columns(model))
    remembered = request.session.get(SESSION_COLUMNS, {})
    if "columns" in request.GET:
        picked = [name for name in request.GET.getlist("cols") if name in every and name != "id"]
        remembered = {**remembered, model.collection: picked}
        request.session[SESSION_COLUMNS] = remembered
    names = [name for name in remembered.get(model.collection, []) if name in every] or default_columns(model)
    return [("id", every["id"]), *((name, every[name]) for name in names if name != "id")]


def _headers(model: type[MongoModel], shown: list[tuple[str, str]], sort: Sort) -> list[dict[str, Any]]:
    """Each column's header: sortable ones link to their order (a second click reverses it)."""
    sortable = sortable_fields(model)
    headers = []
    for name, _ in shown:
        current = sort.field == name
        next_param = ("-" if sort.direction == 1 else "") + name if current else name  # first click: ascending
        arrow = ("▲" if sort.direction == 1 else "▼") if current else ""
        headers.append({"name": name, "sortable": name in sortable, "param": next_param, "arrow": arrow})
    return headers


def _jump(request: HttpRequest, model: type[MongoModel]) -> HttpResponse:
    """Go to the document whose id or key is typed in `go`, or say none has it."""
    text = request.GET["go"].strip()
    try:
        document = find_document(model, text, by_key=True)
    except BulkAdminError as problem:
        document, error = None, str(problem)
    else:
        keys = " or ".join(("id", *model.key_fields))
        error = f"No document of {model.collection} has the {keys} {text!r}."
    if document is not None:
        return redirect(_document_url(model, document))
    context = _listing(request, model, [Part({})], error)
    context.update(query="", search_fields=search_fields(model), filters=_filters(model, {}), go=text)
    return page(request, "browse.html", context, status=404)


def _document_url(model: type[MongoModel], document: dict[str, Any]) -> str:
    return reverse("bulkadmin:document", args=[model.collection, str(document["_id"])])


def _base_query(request: HttpRequest, *dropped: str) -> str:
    """The query string of this listing without its position (and without `dropped`)."""
    params = request.GET.copy()
    for name in ("page", "after", "before", "go", "columns", "cols", *dropped):
        params.pop(name, None)
    return params.urlencode()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default
