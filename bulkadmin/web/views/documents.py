"""One document: its stored JSON, pretty, Edit and Delete, and exactly the jobs that touched it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bson import ObjectId, json_util
from django.http import Http404, HttpRequest, HttpResponse
from pymongo.database import Database

from bulkadmin.core.documents import MongoModel, storage_path
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.mongo import get_db
from bulkadmin.core.safety import coerce_value
from bulkadmin.jobs.browsing import read_timeout
from bulkadmin.models import Job
from bulkadmin.operations import document_jobs
from bulkadmin.operations.browse import time_limited
from bulkadmin.web.document_forms import loaded_text
from bulkadmin.web.fields import document_label
from bulkadmin.web.ids import id_candidates
from bulkadmin.web.permissions import may_see_job, require, rights
from bulkadmin.web.views.common import model_or_404, page


def document(request: HttpRequest, name: str, doc_id: str) -> HttpResponse:
    model = model_or_404(name)
    require(request.user, "view", [model.collection])
    found = find_document(model, doc_id)
    if found is None:
        raise Http404(f"No document of {model.collection} has the id {doc_id!r}.")
    jobs = jobs_touching(get_db(), model.collection, found["_id"], request.user)
    context = {
        "title": f"{model.collection}: {document_label(model, found)}",
        "collection": model.collection,
        "label": document_label(model, found),
        "doc_id": str(found["_id"]),
        "stored": json.dumps(json.loads(json_util.dumps(found)), indent=2, ensure_ascii=False),
        "jobs": jobs,
        "loaded": loaded_text(found),
        "rights": rights(request.user, model.collection),
    }
    return page(request, "document.html", context)


def find_document(model: type[MongoModel], text: str, *, by_key: bool = False) -> dict[str, Any] | None:
    """The document whose `_id` is `text` (an ObjectId, a number or text), or, with `by_key`,
    whose single key field has that value. Each lookup is an indexed equality."""
    collection = get_db()[model.collection]
    with time_limited(read_timeout()):
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


def jobs_touching(db: Database, collection: str, doc_id: Any, user: Any) -> list[Job]:
    """The jobs that touched the document that `user` may see, newest first: the import that
    created it (named by its `_id`) and every job that kept undo data for it (imports, bulk
    updates and deletes, single edits), found by one indexed read of `document_jobs`."""
    with time_limited(read_timeout()):
        numbers = document_jobs.jobs_of(target=collection, doc_id=doc_id, db=db)
    jobs = _jobs([*_creating_import(collection, doc_id), *numbers])
    return [job for job in jobs if may_see_job(user, job)]


def _creating_import(collection: str, doc_id: Any) -> Iterator[int]:
    """The import job whose rows start their `_id` with this one's time and seed (see
    `operations.imports.state.RunIdentity`)."""
    if isinstance(doc_id, ObjectId):
        prefix = doc_id.binary
        time, seed = int.from_bytes(prefix[:4], "big"), prefix[4:7].hex()
        found = Job.objects.filter(kind=Job.Kind.IMPORT, collection=collection, details__id_time=time)
        yield from found.filter(details__id_seed=seed).values_list("pk", flat=True)[:1]


def _jobs(numbers: list[int]) -> list[Job]:
    return list(Job.objects.filter(pk__in=numbers).select_related("user").order_by("-pk"))
