"""The Import page with a job files' storage that is not a local folder (as S3 is): the upload,
its description and the error file live in the storage, another web process fetches them, the
jobs name them by storage name and the error download reads the storage."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile

import pytest

from bulkadmin.jobs import files, uploads
from bulkadmin.models import Job
from tests.web.import_helpers import GOOD_AND_BAD, confirm, preview_data, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def remote_storage(settings, tmp_path, monkeypatch):
    """An in-memory storage (it has no local paths), and a temporary folder of this test's own."""
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    settings.STORAGES = {**settings.STORAGES, "bulkadmin": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    assert files.local_path("uploads") is None
    return files.storage()


def test_an_upload_previewed_on_another_web_process_runs_from_the_storage(admin_client_, db, remote_storage):
    uploaded = upload(admin_client_, GOOD_AND_BAD)
    assert uploaded.status_code == 302
    token = uploaded["Location"].rstrip("/").split("/")[-1]
    assert remote_storage.exists(f"uploads/{token}/people.csv") and remote_storage.exists(
        f"uploads/{token}/upload.json"
    )
    shutil.rmtree(uploads.uploads_dir())  # the next request lands on another machine: nothing local

    shown = admin_client_.get(uploaded["Location"])
    assert shown.status_code == 200 and shown.context["preview"].valid_rows == 3
    started = admin_client_.post(uploaded["Location"], preview_data(shown, action="dry_run"))
    assert started.status_code == 302, started.content.decode()[:2000]
    dry = Job.objects.get()
    assert dry.parameters["source"] == f"stored:uploads/{token}/people.csv"  # a storage name, not a path
    assert (dry.status, dry.counts["inserted"], dry.counts["rejected"]) == ("partial", 3, 2)

    job = confirm(admin_client_, dry)
    assert (job.status, job.counts["inserted"], job.error_file) == ("partial", 3, f"{job.pk}/errors.csv")
    with remote_storage.open(job.error_file, "rb") as stored:
        saved = stored.read().decode()
    written = list(csv.reader(io.StringIO(saved)))
    assert written[0] == ["error", "name", "email", "age"]
    assert [row[1:] for row in written[1:]] == [["Bob", "bob@example.com", "old"], ["Dee", "not-an-email", "22"]]
    download = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/errors/")
    assert b"".join(download.streaming_content).decode() == saved
    assert sorted(doc["email"] for doc in db.users.find()) == ["ann@example.com", "cid@example.com", "eve@example.com"]
