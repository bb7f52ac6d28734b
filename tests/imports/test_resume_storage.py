"""An import read from the job files' storage (not a local folder, as S3 is), interrupted on one
machine and resumed on another: the source is copied from the storage, the error file carries
on from the stored copy, cut back to the last checkpoint."""

from __future__ import annotations

import csv
import io
import tempfile

import pytest
from django.core.files import File

from bulkadmin.jobs import files
from bulkadmin.jobs.imports import resume_import, run_queued_import
from bulkadmin.models import Job
from bulkadmin.operations.imports import check_import_options
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db
ROWS = 50


def on_machine(monkeypatch, folder) -> None:
    """This process's temporary folder: what is local to one machine."""
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def test_an_interrupted_import_from_the_storage_resumes_on_another_machine(db, tmp_path, settings, monkeypatch):
    settings.STORAGES = {**settings.STORAGES, "bulkadmin": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    rows = user_rows(ROWS)
    rows[3], rows[35] = "Bad,bad@example.com,x", "Worse,worse@example.com,y"
    path = write_csv(tmp_path / "p.csv", "name,email,age", rows)
    with path.open("rb") as handle:
        name = files.storage().save("uploads/abc/p.csv", File(handle))
    checked = check_import_options(User, source=str(path), batch_size=10)
    job = Job.objects.create(
        kind="import",
        collection="users",
        origin="web",
        parameters={**checked.to_parameters(), "source": files.stored_source(name)},
    )
    path.unlink()

    def interrupt(state):
        if state.rows_this_run >= 20:
            raise KeyboardInterrupt

    on_machine(monkeypatch, tmp_path / "machine-1")
    with pytest.raises(KeyboardInterrupt):
        run_queued_import(job, progress=interrupt)
    job.refresh_from_db()
    assert (job.status, job.last_committed_row, job.error_file) == ("interrupted", 20, f"{job.pk}/errors.csv")

    on_machine(monkeypatch, tmp_path / "machine-2")
    result = resume_import(job.pk)
    assert (result.rows, result.counts.inserted, result.counts.rejected, result.details["resumed_after"]) == (
        ROWS,
        ROWS - 2,
        2,
        20,
    )
    assert db.users.count_documents({}) == ROWS - 2
    with files.storage().open(f"{job.pk}/errors.csv", "rb") as stored:
        written = list(csv.reader(io.StringIO(stored.read().decode())))
    assert [row[1:] for row in written] == [
        ["name", "email", "age"],
        ["Bad", "bad@example.com", "x"],
        ["Worse", "worse@example.com", "y"],
    ]  # each bad row once: the one before the interruption was not written again
