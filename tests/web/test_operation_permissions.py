"""Who may see and run the Sync and Cleanup pages: anonymous, staff without the permission,
staff with it, superusers; re-run buttons; CSRF on every POST."""

from __future__ import annotations

import pytest
from django.test import Client

from bulkadmin.models import Job
from tests.web.conftest import PERMISSIONS

pytestmark = pytest.mark.django_db

PAGES = {"/admin/bulk/sync/": "run_sync", "/admin/bulk/cleanup/": "run_cleanup"}
POSTS = {"/admin/bulk/sync/": {"source": "demo_users", "action": "dry_run"}, "/admin/bulk/cleanup/": {"action": "run"}}


@pytest.fixture
def finished(db, settings, tmp_path) -> dict[str, Job]:
    return {
        "run_sync": Job.objects.create(kind="sync", status="failed", parameters={"source": "demo_users"}),
        "run_cleanup": Job.objects.create(kind="cleanup", status="succeeded", parameters={"rules": ["deleted_users"]}),
    }


def test_anonymous_users_are_sent_to_the_login_page(client, finished):
    for url, data in POSTS.items():
        for response in (client.get(url), client.post(url, data)):
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    response = client.post(f"/admin/bulk/jobs/{finished['run_cleanup'].pk}/rerun/")
    assert response["Location"].startswith("/admin/login/")
    assert Job.objects.count() == 2


def test_staff_without_the_permissions_get_403_and_see_no_buttons(login, finished):
    client = login()
    for url, data in POSTS.items():
        assert client.get(url).status_code == 403
        assert client.post(url, data).status_code == 403
    dashboard = client.get("/admin/bulk/").content.decode()
    assert "/admin/bulk/sync/" not in dashboard and "/admin/bulk/cleanup/" not in dashboard
    for job in finished.values():
        assert "rerun-button" not in client.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
        assert client.post(f"/admin/bulk/jobs/{job.pk}/rerun/").status_code == 403
    assert Job.objects.count() == 2


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_each_permission_opens_only_its_own_page(login, finished, permission):
    client = login(permission)
    dashboard = client.get("/admin/bulk/").content.decode()
    for url, needed in PAGES.items():
        assert client.get(url).status_code == (200 if permission == needed else 403), (url, permission)
        assert (f'href="{url}"' in dashboard) == (permission == needed), (url, permission)
        detail = client.get(f"/admin/bulk/jobs/{finished[needed].pk}/").content.decode()
        assert ("rerun-button" in detail) == (permission == needed)


def test_the_permission_is_checked_again_on_post(login, finished, db):
    from django.contrib.auth.models import User as DjangoUser

    client = login("run_cleanup")
    assert 'id="dry-run-all"' in client.get("/admin/bulk/cleanup/").content.decode()
    DjangoUser.objects.get(username="staff").user_permissions.clear()
    assert client.post("/admin/bulk/cleanup/", {"action": "dry_run"}).status_code == 403
    assert Job.objects.count() == 2


def test_superuser_sees_and_runs_both(login, finished, db):
    client = login(superuser=True, name="root")
    dashboard = client.get("/admin/bulk/").content.decode()
    for url in PAGES:
        assert client.get(url).status_code == 200 and f'href="{url}"' in dashboard
    assert client.post("/admin/bulk/cleanup/", {"action": "dry_run"}).status_code == 302
    assert Job.objects.filter(kind="cleanup", dry_run=True, status="succeeded").count() == 1


def test_every_post_needs_the_csrf_token(make_user, finished, db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("root", superuser=True))
    for url, data in POSTS.items():
        assert client.post(url, data).status_code == 403
        assert "csrfmiddlewaretoken" in client.get(url).content.decode()
    assert client.post(f"/admin/bulk/jobs/{finished['run_cleanup'].pk}/rerun/").status_code == 403
    assert Job.objects.count() == 2


def test_rerun_only_accepts_post(login, finished):
    client = login(superuser=True, name="root")
    assert client.get(f"/admin/bulk/jobs/{finished['run_cleanup'].pk}/rerun/").status_code == 405
