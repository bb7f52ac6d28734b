"""Sync: the declared sources with their last runs; run now, dry run, or a full sync marking missing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import sources
from bulkadmin.jobs.once import FIELD, form_key
from bulkadmin.models import Job
from bulkadmin.operations.sync import Source, UnknownSource
from bulkadmin.web.launch import launch_sync
from bulkadmin.web.permissions import MissingPermission, collections_for, require
from bulkadmin.web.views.common import finished_message, page

RUNS_SHOWN = 5
ACTIONS = {  # action -> (mode, dry run, what it is called)
    "run": ("incremental", False, "Sync"),
    "dry_run": ("incremental", True, "Sync dry run"),
    "full_mark_missing": ("mark_missing", False, "Full sync marking missing"),
}


def sync_page(request: HttpRequest) -> HttpResponse:
    """The sources the user may sync (the sync right, `import_`, on the source's collection)."""
    if not collections_for(request.user, "sync"):
        raise MissingPermission("You need the permission to import into a collection (bulkadmin.import_<collection>).")
    if request.method != "POST":
        return _render(request)
    action, name = request.POST.get("action", ""), request.POST.get("source", "")
    if action not in ACTIONS:
        return _render(request, f"Unknown action {action!r}: choose one of {', '.join(ACTIONS)}.", status=400)
    try:
        source = sources.get(name)
    except UnknownSource as error:  # naming only the sources this user may sync, not every declared one
        allowed = collections_for(request.user, "sync")
        mine = ", ".join(n for n in error.valid_names if _target(n) in allowed) or "none"
        return _render(request, f"Unknown sync source {error.name!r}. Your sources: {mine}.", status=404)
    require(request.user, "sync", [source.model.collection])
    mode, dry_run, label = ACTIONS[action]
    try:
        key = form_key("sync", request.user, request.POST.get(FIELD))
        job = launch_sync(source=source, mode=mode, dry_run=dry_run, user=request.user, key=key)
    except BulkAdminError as error:
        messages.error(request, str(error))
        return redirect("bulkadmin:sync")
    finished_message(request, job, f"{label} of {source.name}")
    return redirect("bulkadmin:job", pk=job.pk)


def _render(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    try:
        declared = sorted(sources.declared().items())
    except BulkAdminError as problem:
        declared, error = [], f"{error} {problem}".strip()
    allowed = collections_for(request.user, "sync")
    rows = [_row(name, source) for name, source in declared if source.model.collection in allowed]
    return page(request, "sync.html", {"title": "Sync", "rows": rows, "error": error}, status=status)


def _row(name: str, source: Source) -> dict[str, Any]:
    try:
        url, url_error = source.url, ""
    except BulkAdminError as problem:
        url, url_error = "", str(problem)
    runs = Job.objects.filter(kind=Job.Kind.SYNC, parameters__source=name).select_related("user")[:RUNS_SHOWN]
    return {
        "name": name,
        "source": source,
        "collection": source.model.collection,
        "url": url,
        "url_error": url_error,
        "incremental": bool(source.updated_since_param),
        "runs": runs,
    }


def _target(name: str) -> str:
    """The collection source `name` writes into ("" when it cannot be read)."""
    try:
        return sources.get(name).model.collection
    except BulkAdminError:
        return ""
