"""The collection browser: read-only, paginated, searchable, with simple filters."""

from __future__ import annotations

import math
import re
from typing import Any

from django.http import HttpRequest, HttpResponse

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.mongo import get_db
from bulkadmin.core.safety import translate_filter
from bulkadmin.web.fields import choice_fields, columns, text_fields
from bulkadmin.web.views.common import model_or_404, page, show

PER_PAGE = 50


def browse(request: HttpRequest, name: str) -> HttpResponse:
    model = model_or_404(name)
    query = request.GET.get("q", "").strip()
    choices = choice_fields(model)
    chosen = {field: request.GET[field] for field in choices if request.GET.get(field)}
    error = ""
    try:
        spec = translate_filter(model, _filter(model, query, chosen))
    except InvalidSpec as problem:
        error, spec = str(problem), {}
    collection = get_db()[model.collection]
    total = collection.count_documents(spec)
    pages = max(1, math.ceil(total / PER_PAGE))
    number = min(max(_int(request.GET.get("page"), 1), 1), pages)
    cursor = collection.find(spec).sort("_id", -1).skip((number - 1) * PER_PAGE).limit(PER_PAGE)
    shown = columns(model)
    rows = [[show(doc.get(key)) for _, key in shown] for doc in cursor]
    context = {
        "title": f"Collection {model.collection}",
        "collection": model.collection,
        "columns": [name for name, _ in shown],
        "rows": rows,
        "total": total,
        "page_number": number,
        "pages": pages,
        "query": query,
        "search_fields": text_fields(model),
        "filters": [(field, [str(v) for v in values], chosen.get(field, "")) for field, values in choices.items()],
        "error": error,
        "base_query": _base_query(request),
    }
    return page(request, "browse.html", context)


def _filter(model: type[MongoModel], query: str, chosen: dict[str, str]) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [{field: value} for field, value in chosen.items()]
    if query and text_fields(model):
        pattern = {"$regex": re.escape(query), "$options": "i"}
        clauses.append({"$or": [{field: pattern} for field in text_fields(model)]})
    return {"$and": clauses} if clauses else {}


def _base_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default
