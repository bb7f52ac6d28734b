"""Helpers shared by the pages: rendering in the admin's look, looking up collections, showing values."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import PurePath
from typing import Any

from bson import ObjectId, json_util
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import NotRegistered
from bulkadmin.core.registry import site
from bulkadmin.models import Job, storable_text
from bulkadmin.web.permissions import menu

MAX_SHOWN = 80


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render a bulkadmin template with the admin site's context and the user's permissions."""
    full = {**admin.site.each_context(request), "can": menu(request.user), **context}
    content = render_to_string(f"bulkadmin/{template}", full, request=request)
    return HttpResponse(storable_text(content), status=status)  # bytes a file held undecoded show as U+FFFD


def model_or_404(name: str) -> type[MongoModel]:
    """The registered model of collection `name`, or a 404 naming the valid collections."""
    try:
        return site.get(name)
    except NotRegistered as error:
        raise Http404(str(error)) from None


def show(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value as one short line of text."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ", timespec="seconds")
    elif isinstance(value, ObjectId | str | int | float | bool):
        text = str(value)
    else:
        text = json.dumps(json.loads(json_util.dumps(value)), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def without_paths(value: Any) -> Any:
    """A job's parameters or details with every absolute server path cut to the file's name."""
    if isinstance(value, dict):
        return {key: without_paths(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_paths(item) for item in value]
    if isinstance(value, str) and _ABSOLUTE_PATH.fullmatch(value):
        return PurePath(value).name
    return value


_ABSOLUTE_PATH = re.compile(r"/(?:[^/\0]+/)+[^/\0]+")


def pretty(value: Any) -> str:
    """A JSON-ready value as indented JSON."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def finished_message(request: HttpRequest, job: Job, what: str) -> None:
    """Tell what became of a just-launched job: queued, already done (tests run tasks at once), or refused."""
    if job.status == Job.Status.QUEUED:
        messages.success(request, f"{what}: job #{job.pk} is queued; this page follows its progress.")
    elif job.status == Job.Status.FAILED:
        messages.error(request, f"{what}: job #{job.pk} failed. {job.message}")
    else:
        messages.success(request, f"{what}: job #{job.pk} {job.get_status_display().lower()}.")
