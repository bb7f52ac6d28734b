"""The state of a background count as JSON, polled by pages until the count arrives."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from bulkadmin.web.counts import lookup


def count_status(request: HttpRequest, key: str) -> JsonResponse:
    """`{"ready", "value", "pending", "computed_at", "age", "error"}` of the count `key`."""
    return JsonResponse(lookup(key).as_json())
