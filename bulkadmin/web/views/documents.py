"""One document: its stored JSON, pretty, and the jobs that touched it (or its collection's)."""

from __future__ import annotations

import json
from typing import Any

from bson import json_util
from django.http import Http404, HttpRequest, HttpResponse
from pymongo.database import Database

from bulkadmin.core.documents import MongoModel, storage_path
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.mongo import get_db
from bulkadmin.core.safety import coerce_value
from bulkadmin.models import Job
from bulkadmin.web.fields import document_label
from bulkadmin.web.ids import id_candidates
from bulkadmin.web.paging import time_limited
from bulkadmin.web.views.common import model_or_404, page

UNDO_COLLECTION = "bulkadmin_undo"
JOBS_SHOWN = 10


def document(request: HttpRequest, name: str, doc_id: str) -> HttpResponse:
    model = model_or_404(name)
    found = find_document(model, doc_id)
    if found is None:
        raise Http404(f"No document of {model.collection} has the id {doc_id!r}.")
    jobs, exact = jobs_touching(get_db(), model.collection, found["_id"])
    context = {
        "title": f"{model.collection}: {document_label(model, found)}",
        "collection": model.collection,
        "label": document_label(model, found),
        "doc_id": str(found["_id"]),
        "stored": json.dumps(json.loads(json_util.dumps(found)), indent=2, ensure_ascii=False),
        "jobs": jobs,
        "jobs_exact": exact,
    }
    return page(request, "document.html", context)


def find_document(model: type[MongoModel], text: str, *, by_key: bool = False) -> dict[str, Any] | None:
    """The document whose `_id` is `text` (an ObjectId, a number or text), or, with `by_key`,
    whose single key field has that value. Each lookup is an indexed equality."""
    collection = get_db()[model.collection]
    with time_limited():
        for candidate in id_candidates(text):
            found = collection.find_one({"_id": candidate})
            if found is not None:
                return found
        if by_key and len(model.key_fields) == 1:
            field = model.key_fields[0]
            try:
                value = coerce_value(model, field, text)
            except InvalidSpec:
                return None
            return collection.find_one({storage_path(model, field): value})
    return None


def jobs_touching(db: Database, collection: str, doc_id: Any) -> tuple[list[Job], bool]:
    """The recent jobs that touched the document, with True, when undo data is indexed by
    document; otherwise the collection's recent jobs, with False (nothing is scanned)."""
    if _undo_indexed_by_document(db):
        with time_limited():
            # `$in`: the embedded server misses an ObjectId compared by plain equality outside `_id`
            query = {"doc_id": {"$in": [doc_id]}, "target": collection}
            records = db[UNDO_COLLECTION].find(query, {"job": 1}).limit(200)
            numbers = {record["job"] for record in records}
        return list(Job.objects.filter(pk__in=numbers).select_related("user")[:JOBS_SHOWN]), True
    return list(Job.objects.filter(collection=collection).select_related("user")[:JOBS_SHOWN]), False


def _undo_indexed_by_document(db: Database) -> bool:
    """Whether `bulkadmin_undo` has an index led by `doc_id` (so a lookup by document is cheap)."""
    indexes = db[UNDO_COLLECTION].index_information()
    return any(index["key"][0][0] == "doc_id" for index in indexes.values())
