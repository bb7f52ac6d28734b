"""Another staff user with `run_import` cannot resume, re-run or cancel someone else's import
(the rule of its confirm): 404, nothing queued, nothing changed, no button shown."""

from __future__ import annotations

import pytest

from bulkadmin.models import Job
from tests.web.test_import_resume import _interrupted_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_and_other(make_user, client):
    owner, other = make_user("owner", "import_users", "view_users"), make_user("other", "import_users", "view_users")
    return owner, other, client


def _owned(job: Job, owner) -> Job:
    job.user, job.origin = owner, Job.Origin.WEB
    job.save(update_fields=["user", "origin"])
    return job


@pytest.mark.parametrize("action", ["resume", "rerun", "cancel"])
def test_another_users_import_is_not_resumed_rerun_or_cancelled(action, owner_and_other, db, tmp_path):
    owner, other, client = owner_and_other
    job = _owned(_interrupted_import(tmp_path), owner)
    if action == "cancel":
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    stored = db.users.count_documents({})
    before = Job.objects.values().get(pk=job.pk)
    client.force_login(other)
    page = client.get(f"/admin/bulk/jobs/{job.pk}/").content
    assert b'id="resume-button"' not in page and b"/cancel/" not in page
    response = client.post(f"/admin/bulk/jobs/{job.pk}/{action}/")
    assert response.status_code == 404
    assert Job.objects.values().get(pk=job.pk) == before
    assert Job.objects.count() == 1
    assert db.users.count_documents({}) == stored


def test_the_owner_resumes_their_own_import(owner_and_other, db, tmp_path):
    owner, _, client = owner_and_other
    job = _owned(_interrupted_import(tmp_path), owner)
    client.force_login(owner)
    assert b'id="resume-button"' in client.get(f"/admin/bulk/jobs/{job.pk}/").content
    assert client.post(f"/admin/bulk/jobs/{job.pk}/resume/").status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and db.users.count_documents({}) == 50


def test_the_owner_cancels_their_own_running_import(owner_and_other, db, tmp_path):
    owner, _, client = owner_and_other
    job = _owned(_interrupted_import(tmp_path), owner)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    client.force_login(owner)
    assert client.post(f"/admin/bulk/jobs/{job.pk}/cancel/").status_code == 302
    assert Job.objects.get(pk=job.pk).cancel_requested
