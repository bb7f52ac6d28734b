"""The health endpoint for load balancers and monitors: is Django's database reachable, does
MongoDB answer? No sign-in; it names what failed and never shows error details."""

from __future__ import annotations

import logging

import pymongo
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bulkadmin.core import conf, mongo

log = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _mongodb() -> None:
    with pymongo.timeout(conf.health_timeout()):
        mongo.get_client().admin.command("ping")


CHECKS = {"database": _database, "mongodb": _mongodb}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 `{"database": "ok", "mongodb": "ok"}`, or 503 with `"failed"` for each check that failed."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception:
            log.exception("health check failed: %s", name)
            results[name] = "failed"
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse(results, status=200 if healthy else 503)
