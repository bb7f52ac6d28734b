"""The preview's check of the whole file: started in the background when the preview is shown,
polled by the page until its first bad rows and counts arrive."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse

from bulkadmin.jobs import scans
from bulkadmin.jobs.uploads import load_meta, upload_path
from bulkadmin.operations.imports import MODES
from bulkadmin.operations.imports.preview import ImportPreview
from bulkadmin.web.permissions import require

KEY = re.compile(r"^[0-9a-f]{16}$")
FRAGMENT = "bulkadmin/import_scan.html"
REPLACED = (
    f"This check gave way to a newer one (each user has at most {scans.SCANS_PER_USER} checks of whole files "
    "waiting at once); show the preview again to check the file with these options."
)


def scan_context(token: str, meta: dict[str, Any], preview: ImportPreview | None) -> dict[str, Any]:
    """The scan of the file as previewed (started when there is none yet), for the preview page."""
    folder = upload_path(token)
    if preview is None or preview.problems or folder is None:
        return {"scan": None}
    options = meta["options"]
    read = {
        "mode": MODES.get(options.get("mode", "insert"), "insert"),
        "key_fields": list(options.get("key_fields") or ()),
        "ignore_blanks": bool(options.get("ignore_blanks")),
        "date_format": options.get("date_format") or None,
        "extended_json": bool(options.get("extended_json")),
        "format": preview.format,
        "encoding": preview.encoding or None,
        "delimiter": preview.delimiter,
        "sheet": preview.sheet,
        "mapping": meta.get("mapping"),
    }
    key, record = scans.request_scan(
        folder, file=meta["file"], collection=meta["collection"], read=read, user=meta.get("user")
    )
    return {"scan": _shown(record), "scan_url": reverse("bulkadmin:import_scan", args=[token, key])}


def import_scan(request: HttpRequest, token: str, key: str) -> JsonResponse:
    """The scan's state and its section of the page, rendered."""
    folder = upload_path(token)
    if folder is None or not KEY.match(key) or load_meta(folder)["user"] != request.user.pk:
        raise Http404("There is no such upload among yours.")
    require(request.user, "import", [load_meta(folder)["collection"]])
    record = scans.read_scan(Path(folder), key)
    if record is None:
        raise Http404("There is no such check of this file.")
    shown = _shown(record)
    html = render_to_string(FRAGMENT, {"scan": shown}, request=request)
    return JsonResponse({"state": record["state"], "finished": shown["finished"], "html": html})


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the page shows it."""
    result = record.get("result") or {}
    replaced = record["state"] == scans.REPLACED
    return {
        "state": record["state"],
        "finished": record["state"] in ("done", "failed") or replaced,
        "problem": REPLACED if replaced else record.get("problem", "") or result.get("problem", ""),
        "rows": result.get("rows", 0),
        "bad": result.get("bad", 0),
        "first_bad": result.get("first_bad", []),
        "complete": result.get("complete", False),
        "stopped": result.get("stopped", ""),
        "seconds": result.get("seconds", 0.0),
    }
