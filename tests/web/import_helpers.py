"""Driving the Import page as a browser would: upload, preview, dry run, confirm."""

from __future__ import annotations

import io
from typing import Any

from django.test import Client

from bulkadmin.models import Job

IMPORT_URL = "/admin/bulk/import/"
GOOD_AND_BAD = (
    "name,email,age\n"
    "Ann,ann@example.com,31\n"
    "Bob,bob@example.com,old\n"
    "Cid,cid@example.com,45\n"
    "Dee,not-an-email,22\n"
    "Eve,eve@example.com,28\n"
)


def upload_file(name: str, content: bytes | str) -> io.BytesIO:
    data = content.encode() if isinstance(content, str) else content
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def upload(
    client: Client,
    content: bytes | str,
    *,
    name: str = "people.csv",
    collection: str = "users",
    **options: Any,
):
    """POST the upload form; returns the response."""
    data = {"collection": collection, "mode": "insert", "file": upload_file(name, content), **options}
    return client.post(IMPORT_URL, data)


def preview_data(response, action: str = "preview", **changes: Any) -> dict[str, Any]:
    """The preview form's fields as shown on `response`, with `changes` applied."""
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    if not data.get("ignore_blanks"):
        data.pop("ignore_blanks", None)
    data.update(changes, action=action)
    return data


def dry_run(client: Client, content: str, **options: Any) -> tuple[Job, str]:
    """Upload then start the dry run from the preview; returns the dry-run job and the preview URL."""
    uploaded = upload(client, content, **options)
    assert uploaded.status_code == 302, uploaded.content.decode()[:2000]
    preview_url = uploaded["Location"]
    shown = client.get(preview_url)
    started = client.post(preview_url, preview_data(shown, action="dry_run"))
    assert started.status_code == 302, started.content.decode()[:2000]
    return Job.objects.filter(kind="import", dry_run=True).latest("pk"), preview_url


def confirm(client: Client, dry: Job) -> Job:
    response = client.post(f"{IMPORT_URL}confirm/{dry.pk}/")
    assert response.status_code == 302
    return Job.objects.filter(kind="import", dry_run=False).latest("pk")
