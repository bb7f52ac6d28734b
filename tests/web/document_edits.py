"""Helpers of the single-document edit tests (their stored user is the `ada` fixture): the
form's address, and what the browser posts from a loaded form."""

from __future__ import annotations

import re
from typing import Any

BASE = "/admin/bulk/collections/users/"
ONCE = re.compile(r'name="once" value="([^"]+)"')


def edit_url(document: dict) -> str:
    return f"{BASE}documents/{document['_id']}/edit/"


def form_data(response: Any, **changes: str) -> dict[str, str]:
    """What the browser posts from a loaded form (untouched inputs as shown), with `changes`
    typed into the named fields."""
    form = response.context["form"]
    data = {f"doc-{field.name}": field.value() or "" for field in form if not field.field.disabled}
    data.update({f"doc-{name}": value for name, value in changes.items()})
    data["once"] = ONCE.search(response.content.decode()).group(1)
    if response.context["loaded"]:
        data["loaded"] = response.context["loaded"]
    return data
