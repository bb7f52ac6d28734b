"""Rights per collection: every endpoint by {superuser, staff with only `view_users`, staff with
`view_users` + `change_users`, staff with nothing} by {users, application_logs} answers exactly
200/302 ("ok"), 403 or 404, including job ids, count keys and upload tokens guessed from other
users; no page lists what the user may not see; a refusal names the permission in the admin's layout."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import counts, files
from bulkadmin.jobs.exports import STORED_FILE
from bulkadmin.models import Job
from project.collections import ApplicationLog
from project.collections import User as AppUser
from tests.factories import users
from tests.web.helpers import compose_data
from tests.web.import_helpers import GOOD_AND_BAD, upload

pytestmark = pytest.mark.django_db

ROLES: dict[str, tuple[str, ...]] = {
    "superuser": (),
    "viewer": ("view_users",),
    "changer": ("view_users", "change_users"),
    "nobody": (),
}
COLLECTIONS = ("users", "application_logs")
OK = "ok"
UPDATES = {
    "users": {"filters": [("age", "lt", "30")], "updates": [("$set", "tier", "gold")]},
    "application_logs": {"filters": [("level", "eq", "info")], "updates": [("$set", "archived", "true")]},
}


@pytest.fixture
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


@pytest.fixture
def world(db, make_user, jobs_dir) -> dict:
    """Documents and jobs in both collections, a count key each, and an upload of another user."""
    people = bulk_insert(AppUser, users(5), db=db)
    logs = bulk_insert(ApplicationLog, [{"message": f"line {n}"} for n in range(3)], db=db)
    assert people.inserted == 5 and logs.inserted == 3
    jobs = {
        name: Job.objects.create(
            kind="update",
            collection=name,
            status="succeeded",
            parameters={"filter": {}, "update": {"$set": {"tier": "gold"}}},
        )
        for name in COLLECTIONS
    }
    both = Job.objects.create(kind="cleanup", collection="application_logs, users", status="succeeded")
    keys = {name: counts.counted(collection=name, filter={"_id": {"$exists": True}}).key for name in COLLECTIONS}
    documents = {name: str(db[name].find_one({})["_id"]) for name in COLLECTIONS}
    uploader = Client()
    uploader.force_login(make_user("uploader", superuser=True))
    token = upload(uploader, GOOD_AND_BAD)["Location"].rstrip("/").rsplit("/", 1)[-1]
    return {"jobs": jobs, "both": both, "keys": keys, "documents": documents, "token": token}


def exported(collection: str, jobs_dir) -> Job:
    """A finished export job of `collection` whose file is kept."""
    job = Job.objects.create(kind="export", collection=collection, status="succeeded", finished_at=timezone.now())
    name = f"{job.pk}/{collection}-{job.pk}.csv"
    source = jobs_dir.parent / f"{collection}.csv"
    source.write_text("_id,name\n", encoding="utf-8")
    files.save(name, source)
    job.details = {STORED_FILE: name}
    job.save(update_fields=["details"])
    return job


@pytest.fixture
def as_role(make_user) -> Callable[[str], Client]:
    made: dict[str, object] = {}

    def log_in(role: str) -> Client:
        if role not in made:
            made[role] = make_user(role, *ROLES[role], superuser=role == "superuser")
        client = Client()
        client.force_login(made[role])
        return client

    return log_in


def sees(role: str, collection: str) -> bool:
    return role == "superuser" or (role in ("viewer", "changer") and collection == "users")


def changes(role: str, collection: str) -> bool:
    return role == "superuser" or (role == "changer" and collection == "users")


def per_collection(role: str, collection: str, world: dict) -> list[tuple[str, str, dict | None, str | int]]:
    """(method, url, data, expected) of every endpoint that touches `collection`."""
    view = OK if sees(role, collection) else 403
    change = OK if changes(role, collection) else 403
    job = world["jobs"][collection].pk
    hidden_job = OK if sees(role, collection) else 404
    act = (OK if changes(role, collection) else 403) if sees(role, collection) else 404
    download = (OK if role == "superuser" else 403) if sees(role, collection) else 404
    delete = 404 if role == "superuser" else 403  # allowed, then an empty form names no loaded document
    document = world["documents"][collection]
    return [
        ("get", f"/admin/bulk/collections/{collection}/", None, view),
        ("get", f"/admin/bulk/collections/{collection}/documents/{document}/", None, view),
        ("get", f"/admin/bulk/counts/{world['keys'][collection]}/", None, view),
        ("get", f"/admin/bulk/update/?collection={collection}", None, change),
        ("post", "/admin/bulk/update/", compose_data(collection, **UPDATES[collection]), change),
        ("get", f"/admin/bulk/delete/?collection={collection}", None, OK if role == "superuser" else 403),
        ("get", f"/admin/bulk/jobs/{job}/", None, hidden_job),
        ("get", f"/admin/bulk/jobs/{job}/status/", None, hidden_job),
        ("get", f"/admin/bulk/jobs/{job}/errors/", None, hidden_job),
        ("post", f"/admin/bulk/jobs/{job}/cancel/", {}, act),
        ("post", f"/admin/bulk/jobs/{job}/rerun/", {}, act),
        ("post", f"/admin/bulk/jobs/{job}/resume/", {}, act),
        ("post", f"/admin/bulk/jobs/{job}/undo/", {}, act),
        ("get", f"/admin/bulk/export/?collection={collection}", None, OK if role == "superuser" else 403),
        ("get", f"/admin/bulk/collections/{collection}/add/", None, change),
        ("get", f"/admin/bulk/collections/{collection}/documents/{document}/edit/", None, change),
        ("post", f"/admin/bulk/collections/{collection}/documents/{document}/delete/", {}, delete),
        ("get", f"/admin/bulk/jobs/{world['exports'][collection].pk}/download/", None, download),
    ]


def everywhere(role: str, world: dict) -> list[tuple[str, str, dict | None, str | int]]:
    """(method, url, data, expected) of the endpoints not tied to one collection."""
    superuser = role == "superuser"
    both = world["both"].pk
    return [
        ("get", "/admin/bulk/", None, OK),
        ("get", "/admin/bulk/jobs/", None, OK),
        ("get", f"/admin/bulk/jobs/{both}/", None, OK if superuser else 404),
        ("post", f"/admin/bulk/jobs/{both}/rerun/", {}, OK if superuser else 404),
        ("get", "/admin/bulk/jobs/999999/", None, 404),
        ("get", "/admin/bulk/counts/no-such-key/", None, 404),
        ("get", "/admin/bulk/import/", None, OK if superuser else 403),
        ("get", f"/admin/bulk/import/{world['token']}/", None, 404),
        ("get", f"/admin/bulk/import/{world['token']}/scan/{'0' * 32}/", None, 404),
        ("post", "/admin/bulk/import/confirm/1/", {}, 404),
        ("get", "/admin/bulk/sync/", None, OK if superuser else 403),
        ("get", "/admin/bulk/cleanup/", None, OK if superuser else 403),
        ("get", "/admin/bulk/export/", None, OK if superuser else 403),
    ]


def answer(client: Client, method: str, url: str, data: dict | None) -> str | int:
    response = client.get(url) if method == "get" else client.post(url, data or {})
    return OK if response.status_code in (200, 302) else response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_as_the_rights_say(world, jobs_dir, as_role, role):
    world["exports"] = {name: exported(name, jobs_dir) for name in COLLECTIONS}
    client = as_role(role)
    cases = [case for name in COLLECTIONS for case in per_collection(role, name, world)]
    cases += everywhere(role, world)
    got = {(method, url): answer(client, method, url, data) for method, url, data, _ in cases}
    expected = {(method, url): wanted for method, url, _, wanted in cases}
    assert got == expected


@pytest.mark.parametrize("role", ["viewer", "changer", "nobody"])
def test_no_page_lists_what_the_user_may_not_see(world, as_role, role):
    client = as_role(role)
    for url in ("/admin/bulk/", "/admin/bulk/jobs/", "/admin/bulk/jobs/?collection=application_logs"):
        page = client.get(url).content.decode()
        assert "application_logs" not in page, url
        assert ('href="/admin/bulk/collections/users/"' in page) == (url == "/admin/bulk/" and role != "nobody")
    listed = client.get("/admin/bulk/jobs/").context["listing"].object_list
    assert [job.collection for job in listed] == (["users"] if role != "nobody" else [])


def test_a_refusal_names_the_missing_permission_inside_the_admin_layout(world, as_role):
    response = as_role("viewer").get("/admin/bulk/collections/application_logs/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "bulkadmin.view_application_logs" in page
    assert 'id="site-name"' in page and 'id="denied-permission"' in page
    refused = as_role("changer").post(f"/admin/bulk/jobs/{world['jobs']['users'].pk}/undo/", {})
    assert refused.status_code == 302  # changer may undo in users
    delete = as_role("changer").get("/admin/bulk/delete/?collection=users")
    assert delete.status_code == 403 and "bulkadmin.delete_users" in delete.content.decode()


def test_a_collection_that_does_not_allow_an_operation_refuses_it_even_to_superusers(world, as_role):
    response = as_role("superuser").get("/admin/bulk/delete/?collection=analytics_events")
    assert response.status_code == 403
    assert "The collection analytics_events does not allow bulk delete." in response.content.decode()
    dashboard = as_role("superuser").get("/admin/bulk/").content.decode()
    assert "/admin/bulk/delete/?collection=analytics_events" not in dashboard
    assert "/admin/bulk/delete/?collection=users" in dashboard


def test_the_permissions_exist_for_every_registered_collection_and_nothing_else():
    from django.contrib.auth.models import Permission

    from bulkadmin.core.registry import site

    held = set(Permission.objects.filter(content_type__model="collectionrights").values_list("codename", flat=True))
    wanted = {
        f"{action}_{name}" for name in site.names() for action in ("view", "import", "export", "change", "delete")
    }
    assert held == wanted
    assert not Permission.objects.filter(codename__regex=r"^(run_|undo_job$|view_job_rows$)").exists()


def test_a_group_gives_its_members_the_rights_of_its_collections(world, make_user):
    from django.contrib.auth.models import Group, Permission

    support = Group.objects.create(name="support")
    support.permissions.add(*Permission.objects.filter(codename__in=["view_users", "change_users"]))
    member = make_user("member")
    member.groups.add(support)
    client = Client()
    client.force_login(member)
    assert client.get("/admin/bulk/collections/users/").status_code == 200
    assert client.get("/admin/bulk/update/?collection=users").status_code == 200
    assert client.get("/admin/bulk/collections/application_logs/").status_code == 403
    assert re.search(
        r"bulkadmin\.view_application_logs", client.get("/admin/bulk/collections/application_logs/").content.decode()
    )


def test_the_django_admin_job_list_shows_only_the_jobs_of_visible_collections(world, make_user):
    from django.contrib.auth.models import Permission

    viewer = make_user("admin-viewer", "view_users")
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client = Client()
    client.force_login(viewer)
    response = client.get("/admin/bulkadmin/job/")
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert [job.collection for job in shown] == ["users"]
    assert client.get(f"/admin/bulkadmin/job/{world['jobs']['application_logs'].pk}/change/").status_code == 302


def test_a_cleanup_job_is_listed_under_each_of_its_collections(world, as_role):
    client = as_role("superuser")
    both = world["both"]
    for name in COLLECTIONS:
        listed = client.get("/admin/bulk/jobs/", {"collection": name}).context["listing"].object_list
        assert both in listed, name
    Job.objects.filter(pk__in=[job.pk for job in world["jobs"].values()]).update(
        created_at=both.created_at.replace(year=2000)
    )
    last = {row["name"]: row["last_job"] for row in client.get("/admin/bulk/").context["collections"]}
    assert last["users"] == both and last["application_logs"] == both
