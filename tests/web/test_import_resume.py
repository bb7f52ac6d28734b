"""Resuming an interrupted import from its result page: no duplicates, no gaps, permission checked."""

from __future__ import annotations

import pytest

from bulkadmin.jobs.imports import import_file
from bulkadmin.models import Job
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db


def _interrupted_import(tmp_path, rows: int = 50) -> Job:
    path = write_csv(tmp_path / "people.csv", "name,email,age", user_rows(rows))

    def stop_after_two_batches(state):
        if state.rows_this_run >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(model=User, source=str(path), batch_size=10, progress=stop_after_two_batches)
    return Job.objects.get()


def test_resume_button_finishes_an_interrupted_import_exactly_once(db, login, tmp_path):
    job = _interrupted_import(tmp_path)
    assert job.status == Job.Status.INTERRUPTED
    stored_before = db.users.count_documents({})
    assert 0 < stored_before < 50
    client = login("import_users", "view_users")
    page = client.get(f"/admin/bulk/jobs/{job.pk}/")
    assert b'id="resume-button"' in page.content
    response = client.post(f"/admin/bulk/jobs/{job.pk}/resume/", follow=True)
    assert b"carries on where it stopped" in response.content
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert db.users.count_documents({}) == 50
    assert len(db.users.distinct("email")) == 50
    assert job.counts["rows"] == 50
    assert b'id="resume-button"' not in client.get(f"/admin/bulk/jobs/{job.pk}/").content


def test_resume_needs_the_import_permission(db, login, tmp_path):
    job = _interrupted_import(tmp_path)
    client = login("change_users", "view_users")
    assert b'id="resume-button"' not in client.get(f"/admin/bulk/jobs/{job.pk}/").content
    assert client.post(f"/admin/bulk/jobs/{job.pk}/resume/").status_code == 403
    job.refresh_from_db()
    assert job.status == Job.Status.INTERRUPTED


def test_a_finished_or_non_import_job_is_not_resumed(db, login, tmp_path):
    finished = Job.objects.create(kind=Job.Kind.IMPORT, collection="users", status=Job.Status.SUCCEEDED)
    cleanup = Job.objects.create(kind=Job.Kind.CLEANUP, status=Job.Status.INTERRUPTED)
    client = login(superuser=True)
    response = client.post(f"/admin/bulk/jobs/{finished.pk}/resume/", follow=True)
    assert b"cannot be resumed: its status is succeeded" in response.content
    response = client.post(f"/admin/bulk/jobs/{cleanup.pk}/resume/", follow=True)
    assert b"only imports can be resumed" in response.content
