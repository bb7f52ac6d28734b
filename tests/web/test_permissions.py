"""Who may see and do what: anonymous, staff without permissions, each permission, superuser."""

from __future__ import annotations

import pytest
from django.test import Client

from bulkadmin.models import Job
from tests.web.conftest import PERMISSIONS
from tests.web.helpers import compose_data

pytestmark = pytest.mark.django_db

PAGES = ["/admin/bulk/", "/admin/bulk/collections/users/", "/admin/bulk/jobs/"]
ACTION_PERMISSION = {"/admin/bulk/update/": "run_update", "/admin/bulk/delete/": "run_delete"}


@pytest.fixture
def finished_update(people) -> Job:
    job = Job.objects.create(kind="update", collection="users", status="succeeded")
    return job


def test_anonymous_users_are_sent_to_the_login_page_everywhere(client, finished_update):
    urls = [*PAGES, *ACTION_PERMISSION, f"/admin/bulk/jobs/{finished_update.pk}/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    response = client.post(f"/admin/bulk/jobs/{finished_update.pk}/undo/")
    assert response["Location"].startswith("/admin/login/")


def test_users_who_are_not_staff_are_sent_to_the_login_page(client, make_user, people):
    client.force_login(make_user("outsider", "run_update", staff=False))
    assert client.get("/admin/bulk/update/").status_code == 302


def test_staff_without_permissions_can_look_but_not_act(login, finished_update):
    client = login()
    for url in [*PAGES, f"/admin/bulk/jobs/{finished_update.pk}/"]:
        assert client.get(url).status_code == 200, url
    dashboard = client.get("/admin/bulk/").content.decode()
    assert "/admin/bulk/update/" not in dashboard and "/admin/bulk/delete/" not in dashboard
    detail = client.get(f"/admin/bulk/jobs/{finished_update.pk}/").content.decode()
    assert "undo-button" not in detail and "rerun-link" not in detail
    for url in ACTION_PERMISSION:
        assert client.get(url, {"collection": "users"}).status_code == 403
        assert (
            client.post(
                url, compose_data(filters=[("age", "lt", "30")], updates=[("$set", "tier", "gold")])
            ).status_code
            == 403
        )
    assert client.post(f"/admin/bulk/jobs/{finished_update.pk}/undo/").status_code == 403
    assert client.post(f"/admin/bulk/jobs/{finished_update.pk}/cancel/").status_code == 403


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_each_permission_opens_only_its_own_action(login, people, permission):
    client = login(permission)
    for url, needed in ACTION_PERMISSION.items():
        expected = 200 if permission == needed else 403
        assert client.get(url, {"collection": "users"}).status_code == expected, (url, permission)
    dashboard = client.get("/admin/bulk/").content.decode()
    assert ("/admin/bulk/update/?collection=users" in dashboard) == (permission == "run_update")
    assert ("/admin/bulk/delete/?collection=users" in dashboard) == (permission == "run_delete")


def test_undo_permission_alone_allows_undo_but_not_re_run(login, people):
    from tests.web.test_jobs import run_update

    job = run_update(login(superuser=True, name="root"), [("age", "lt", "25")], [("$set", "tier", "gold")])
    client = login("undo_job", name="undoer")
    detail = client.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert "undo-button" in detail and "rerun-link" not in detail
    assert client.post(f"/admin/bulk/jobs/{job.pk}/undo/").status_code == 302
    assert people.count_documents({"tier": "gold"}) == 0


def test_superuser_sees_every_action(login, finished_update):
    client = login(superuser=True, name="root")
    for url in ACTION_PERMISSION:
        assert client.get(url, {"collection": "users"}).status_code == 200
    dashboard = client.get("/admin/bulk/").content.decode()
    assert "/admin/bulk/update/?collection=users" in dashboard and "/admin/bulk/delete/?collection=users" in dashboard


def test_every_post_needs_the_csrf_token(make_user, finished_update):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("root", superuser=True))
    data = compose_data(filters=[("age", "lt", "30")], updates=[("$set", "tier", "gold")])
    assert client.post("/admin/bulk/update/", data).status_code == 403
    assert client.post(f"/admin/bulk/jobs/{finished_update.pk}/undo/").status_code == 403
    assert client.post(f"/admin/bulk/jobs/{finished_update.pk}/cancel/").status_code == 403
    page = client.get("/admin/bulk/update/", {"collection": "users"}).content.decode()
    assert "csrfmiddlewaretoken" in page


def test_undo_and_cancel_only_accept_post(login, finished_update):
    client = login(superuser=True, name="root")
    assert client.get(f"/admin/bulk/jobs/{finished_update.pk}/undo/").status_code == 405
    assert client.get(f"/admin/bulk/jobs/{finished_update.pk}/cancel/").status_code == 405
