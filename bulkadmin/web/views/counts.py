"""The state of a background count as JSON, polled by pages until the count arrives."""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse

from bulkadmin.jobs.counts import collection_of, lookup
from bulkadmin.web.permissions import require


def count_status(request: HttpRequest, key: str) -> JsonResponse:
    """`{"ready", "value", "pending", "computed_at", "age", "error"}` of the count `key`, for users
    who may see the counted collection."""
    collection = collection_of(key)
    if collection is None:
        raise Http404("There is no such count.")
    require(request.user, "view", [collection])
    return JsonResponse(lookup(key).as_json())
