"""A full disk: the job files' folder is a real file system of 512 kB (a tmpfs mounted for the
test). An upload that fills it is a form error naming the cause and keeps nothing; an import whose
error file fills it stops with a failed job naming the cause (a command error, no traceback), and
its error file holds exactly the rows the job counts."""

from __future__ import annotations

import csv
import subprocess
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bulkadmin.models import Job
from tests.web.import_helpers import upload

pytestmark = pytest.mark.django_db

DISK = "512k"


@pytest.fixture
def small_disk(tmp_path, settings):
    """A 512 kB file system as the job files' folder."""
    folder = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    settings.BULKADMIN_JOBS_DIR = folder
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def kept(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_an_upload_that_fills_the_disk_is_a_form_error_and_keeps_nothing(login, small_disk):
    client = login("import_users", "view_users")
    content = "name,email,age\n" + "".join(f"P{n},p{n}@example.com,{n % 90}\n" for n in range(40_000))
    answer = upload(client, content)
    assert answer.status_code == 400
    assert "could not be stored: No space left on device. Nothing was kept." in answer.content.decode()
    assert kept(small_disk) == []
    assert upload(client, "name,email,age\nAnn,ann@example.com,31\n").status_code == 302  # the room is back


def test_an_import_whose_error_file_fills_the_disk_fails_naming_the_cause_and_keeps_its_count(db, small_disk, tmp_path):
    source = tmp_path / "bad.csv"
    rows = "".join(f"P{n},not-an-email-{n:06d}-{'x' * 40},{n % 90}\n" for n in range(30_000))
    source.write_text("name,email,age\n" + rows)
    with pytest.raises(CommandError) as stopped:
        call_command("import_csv", "users", str(source), "--batch-size", "500", verbosity=0)
    job = Job.objects.get()
    message = "The import stopped: its error file errors.csv could not be written (No space left on device)"
    assert str(stopped.value) == f"{message} (job {job.pk})."
    assert (job.status, job.message) == (Job.Status.FAILED, f"{message}.")
    assert 0 < job.error_count < 30_000 and job.counts["rejected"] == job.error_count
    with (small_disk / job.error_file).open(newline="") as handle:
        written = list(csv.reader(handle))
    assert len(written) - 1 == job.error_count  # the header, then one row per counted error
    assert written[-1][1:] == [
        f"P{job.error_count - 1}",
        f"not-an-email-{job.error_count - 1:06d}-{'x' * 40}",
        str((job.error_count - 1) % 90),
    ]
    assert db.users.count_documents({}) == 0
