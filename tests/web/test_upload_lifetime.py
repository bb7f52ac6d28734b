"""Uploads have a lifetime and an owner: abandoned ones are purged, each user's count against a
quota, only the owner confirms a dry run, a job and its rows need `view_` on its collection, and job pages
show no server paths."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from bulkadmin.jobs import watch
from bulkadmin.models import Job
from tests.web.import_helpers import GOOD_AND_BAD, IMPORT_URL, dry_run, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def uploads(jobs_dir) -> list[str]:
    folder = jobs_dir / "uploads"
    return sorted(child.name for child in folder.iterdir()) if folder.is_dir() else []


def age(jobs_dir, token: str, hours: float) -> None:
    when = time.time() - hours * 3600
    for child in (jobs_dir / "uploads" / token).iterdir():
        os.utime(child, (when, when))


def test_abandoned_uploads_are_purged_after_the_max_age_unless_a_job_uses_them(login, jobs_dir, settings):
    client = login("import_users", "view_users")
    assert upload(client, GOOD_AND_BAD).status_code == 302
    assert upload(client, GOOD_AND_BAD).status_code == 302
    old, fresh = uploads(jobs_dir)
    age(jobs_dir, old, 25)
    out = io.StringIO()
    call_command("purge_uploads", stdout=out)
    assert uploads(jobs_dir) == [fresh]
    assert out.getvalue().startswith("1 upload(s) deleted,")
    Job.objects.create(kind="import", status="queued", parameters={"upload": fresh})
    age(jobs_dir, fresh, 25)
    call_command("purge_uploads", stdout=io.StringIO())
    assert uploads(jobs_dir) == [fresh]  # a queued job still needs it
    settings.BULKADMIN_UPLOAD_MAX_AGE_HOURS = 1
    Job.objects.update(status="succeeded")
    assert upload(client, GOOD_AND_BAD).status_code == 302  # every upload purges first
    assert fresh not in uploads(jobs_dir) and len(uploads(jobs_dir)) == 1


def test_the_workers_watch_purges_expired_uploads_once_an_hour(login, jobs_dir, monkeypatch):
    monkeypatch.setattr(watch, "_last_purge", [])  # this process has not purged yet
    client = login("import_users", "view_users")
    assert upload(client, GOOD_AND_BAD).status_code == 302
    assert upload(client, GOOD_AND_BAD).status_code == 302
    old, fresh = uploads(jobs_dir)
    age(jobs_dir, old, 25)
    assert watch.purge_expired_uploads(now=1_000_000.0) is True
    assert uploads(jobs_dir) == [fresh]
    age(jobs_dir, fresh, 25)
    assert watch.purge_expired_uploads(now=1_000_000.0 + watch.PURGE_EVERY_SECONDS - 1) is False
    assert uploads(jobs_dir) == [fresh]  # not yet: the last purge was less than an hour ago
    assert watch.purge_expired_uploads(now=1_000_000.0 + watch.PURGE_EVERY_SECONDS) is True
    assert uploads(jobs_dir) == []


def test_each_users_uploads_count_against_a_quota(make_user, jobs_dir, settings):
    settings.BULKADMIN_UPLOAD_QUOTA_BYTES = len(GOOD_AND_BAD) * 2 + 10
    ann, bob = Client(), Client()
    ann.force_login(make_user("ann", "import_users", "view_users"))
    bob.force_login(make_user("bob", "import_users", "view_users"))
    assert upload(ann, GOOD_AND_BAD).status_code == 302
    assert upload(ann, GOOD_AND_BAD).status_code == 302
    refused = upload(ann, GOOD_AND_BAD)
    assert refused.status_code == 400
    assert "more than your quota" in refused.content.decode()
    assert len(uploads(jobs_dir)) == 2
    assert upload(bob, GOOD_AND_BAD).status_code == 302


def test_a_dry_run_is_confirmed_only_by_whoever_may_see_its_preview(make_user, db):
    admin, importer = Client(), Client()
    admin.force_login(make_user("root", superuser=True))
    importer.force_login(make_user("imp", "import_users", "view_users"))
    dry, preview_url = dry_run(admin, GOOD_AND_BAD)
    assert importer.get(preview_url).status_code == 404
    assert importer.post(f"{IMPORT_URL}confirm/{dry.pk}/").status_code == 404
    assert not Job.objects.filter(kind="import", dry_run=False).exists()
    assert db.users.count_documents({}) == 0


def test_the_job_and_its_rows_need_the_view_right_on_its_collection(make_user):
    admin = Client()
    admin.force_login(make_user("root", superuser=True))
    dry, _ = dry_run(admin, GOOD_AND_BAD)
    assert dry.error_count == 2
    page, errors = f"/admin/bulk/jobs/{dry.pk}/", f"/admin/bulk/jobs/{dry.pk}/errors/"
    staff = Client()
    staff.force_login(make_user("staff", "import_users"))
    assert staff.get(page).status_code == 404
    assert staff.get(errors).status_code == 404
    viewer = make_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_users"))
    staff.force_login(viewer)
    assert "line 5" in staff.get(page).content.decode()
    assert staff.get(errors).status_code == 200
    assert admin.get(errors).status_code == 200


def test_job_pages_show_no_server_paths(admin_client_, jobs_dir):
    dry, _ = dry_run(admin_client_, GOOD_AND_BAD)
    assert dry.parameters["source"].endswith("/people.csv")  # the job knows where its file is (a storage name)
    content = admin_client_.get(f"/admin/bulk/jobs/{dry.pk}/").content.decode()
    assert str(jobs_dir) not in content and "/uploads/" not in content
    assert "people.csv" in content
