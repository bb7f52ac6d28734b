"""The Sync page against a real HTTP feed on 127.0.0.1: run now, incremental re-runs, dry run,
full sync marking missing, an unreachable source, the lock and bad input."""

from __future__ import annotations

import socket

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import leases
from bulkadmin.jobs.parameters import SyncParameters
from bulkadmin.models import Job
from project.collections import User
from tests.factories import user
from tests.feed_server import serve, users_source

pytestmark = pytest.mark.django_db

URL = "/admin/bulk/sync/"


def record(number: int, **fields) -> dict:
    return {"id": number, "name": f"Partner {number}", "email": f"p{number}@partner.example", **fields}


@pytest.fixture
def feed(monkeypatch, settings, tmp_path):
    """The project's `demo_users` source reading a scripted feed: 5 records on 3 pages, one with a bad email."""
    for server in serve():
        monkeypatch.setenv("DEMO_FEED_URL", f"{server.url}/users")
        server.pages("/users", [[record(1), record(2)], [record(3), record(4, email="broken")], [record(5)]])
        yield server


@pytest.fixture
def unreachable(settings, tmp_path):
    """A settings source whose URL answers nothing (a port no server listens on)."""
    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    policy = {"timeout": 1, "retries": 1, "backoff": 0.01, "max_wait": 0.01}
    settings.BULKADMIN_SYNC_SOURCES = {"offline": users_source(f"{url}/users", policy=policy)}
    return url


def synced(db) -> dict:
    return {doc["external_id"]: doc for doc in db.users.find({"external_id": {"$ne": None}})}


def test_page_lists_the_sources_with_url_and_no_runs_yet(admin_client_, feed, db):
    response = admin_client_.get(URL)
    assert response.status_code == 200
    row = {row["name"]: row for row in response.context["rows"]}["demo_users"]
    assert row["url"] == f"{feed.url}/users" and list(row["runs"]) == []
    page = response.content.decode()
    assert "demo_users → users" in page and "Never run." in page
    assert 'data-run="demo_users"' in page and 'data-mark-missing="demo_users"' in page


def test_run_now_syncs_the_feed_as_a_job_with_exact_counts(admin_client_, feed, db):
    response = admin_client_.post(URL, {"source": "demo_users", "action": "run"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/bulk/jobs/{job.pk}/"
    assert (job.kind, job.status, job.origin, job.user.username, job.dry_run) == (
        "sync",
        "partial",
        "web",
        "root",
        False,
    )
    assert job.parameters == {
        "source": "demo_users",
        "mode": "incremental",
        "full": True,
        "since": None,
        "mark_missing": False,
    }
    counts = {name: job.counts[name] for name in ("records", "created", "updated", "unchanged", "rejected", "pages")}
    assert counts == {"records": 5, "created": 4, "updated": 0, "unchanged": 0, "rejected": 1, "pages": 4}
    assert sorted(synced(db)) == [1, 2, 3, 5]
    assert synced(db)[3]["name"] == "Partner 3" and synced(db)[3]["last_sync"] is not None
    assert job.errors[0]["index"] == 3 and job.error_count == 1
    listing = admin_client_.get(URL).content.decode()
    assert f'href="/admin/bulk/jobs/{job.pk}/"' in listing and "Partially failed" in listing


def test_the_next_run_now_asks_only_for_records_updated_since_the_last_sync(admin_client_, feed, db):
    admin_client_.post(URL, {"source": "demo_users", "action": "run"})
    first = Job.objects.get()
    admin_client_.post(URL, {"source": "demo_users", "action": "run"})
    second = Job.objects.exclude(pk=first.pk).get()
    assert feed.requests[-1].query["updated_since"] == first.started_at.isoformat()
    assert second.parameters["since"] == first.started_at.isoformat()
    assert (second.counts["created"], second.counts["unchanged"], second.counts["rejected"]) == (0, 4, 1)
    assert db.users.count_documents({}) == 4


def test_dry_run_counts_and_writes_nothing(admin_client_, feed, db):
    admin_client_.post(URL, {"source": "demo_users", "action": "dry_run"})
    job = Job.objects.get()
    assert (job.dry_run, job.status, job.counts["created"], job.counts["rejected"]) == (True, "partial", 4, 1)
    assert db.users.count_documents({}) == 0


def test_full_sync_marks_documents_missing_from_the_feed_inactive(admin_client_, feed, db):
    bulk_insert(User, [user(90, external_id=90), user(91, external_id=91), user(92)], db=db)
    admin_client_.post(URL, {"source": "demo_users", "action": "full_mark_missing"})
    job = Job.objects.get()
    assert (job.parameters["mode"], job.parameters["mark_missing"], job.counts["marked_missing"]) == (
        "mark_missing",
        True,
        2,
    )
    assert "updated_since" not in feed.requests[-1].query
    assert db.users.count_documents({"is_active": False}) == 2
    assert db.users.count_documents({"external_id": {"$in": [90, 91]}, "is_active": False}) == 2
    assert db.users.count_documents({"is_active": True}) == 5


def test_an_unreachable_source_fails_the_job_with_the_reason(admin_client_, unreachable, db):
    response = admin_client_.post(URL, {"source": "offline", "action": "run"}, follow=True)
    job = Job.objects.get()
    assert job.status == "failed"
    assert job.message.startswith(f"Sync 'offline' failed on page 1 ({unreachable}/users): no response:")
    assert job.details["failure"]["page"] == 1 and job.details["failure"]["status"] is None
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/admin/bulk/jobs/{job.pk}/"
    assert 'id="job-failure"' in page and "no response" in page and "Traceback" not in page
    assert db.users.count_documents({}) == 0


def test_a_run_while_the_source_is_locked_fails_with_the_reason(admin_client_, feed, db):
    with leases.exclusive("sync-demo_users"):
        response = admin_client_.post(URL, {"source": "demo_users", "action": "run"}, follow=True)
    job = Job.objects.get()
    assert job.status == "failed" and job.message.startswith("Not run: sync-demo_users is already running on host")
    assert "sync-demo_users is already running" in response.content.decode()
    assert db.users.count_documents({}) == 0 and feed.requests == []


def test_a_second_run_is_refused_while_one_is_running(admin_client_, feed, db):
    running = Job.objects.create(kind="sync", status="running", parameters={"source": "demo_users"})
    response = admin_client_.post(URL, {"source": "demo_users", "action": "run"}, follow=True)
    assert f"A sync of demo_users is already running as job #{running.pk}" in response.content.decode()
    assert Job.objects.count() == 1 and feed.requests == []


def test_unknown_source_is_a_404_naming_the_declared_ones(admin_client_, feed, db):
    response = admin_client_.post(URL, {"source": "nope", "action": "run"})
    assert response.status_code == 404
    assert "Unknown sync source &#x27;nope&#x27;. Your sources: demo_users." in response.content.decode()
    assert not Job.objects.exists()


def test_unknown_action_is_refused(admin_client_, feed, db):
    response = admin_client_.post(URL, {"source": "demo_users", "action": "delete_all"})
    assert response.status_code == 400 and b"Unknown action" in response.content
    assert not Job.objects.exists()


def test_rerun_button_syncs_the_same_source_in_the_same_mode(admin_client_, feed, db):
    admin_client_.post(URL, {"source": "demo_users", "action": "dry_run"})
    first = Job.objects.get()
    page = admin_client_.get(f"/admin/bulk/jobs/{first.pk}/").content.decode()
    assert 'id="rerun-button"' in page and "Re-run (dry run)" in page
    response = admin_client_.post(f"/admin/bulk/jobs/{first.pk}/rerun/")
    second = Job.objects.exclude(pk=first.pk).get()
    assert response["Location"] == f"/admin/bulk/jobs/{second.pk}/"
    assert (second.parameters["source"], second.parameters["mode"], second.dry_run) == (
        "demo_users",
        "incremental",
        True,
    )
    assert second.counts["created"] == 4


def test_rerun_of_a_command_line_sync_keeps_its_mode(admin_client_, feed, db):
    parameters = SyncParameters("demo_users", "full").to_parameters()
    cli = Job.objects.create(kind="sync", status="succeeded", origin="cli", parameters=parameters)
    admin_client_.post(f"/admin/bulk/jobs/{cli.pk}/rerun/")
    assert Job.objects.exclude(pk=cli.pk).get().parameters["mode"] == "full"


def test_rerun_of_an_update_job_is_not_a_post_action(admin_client_, people):
    job = Job.objects.create(kind="update", collection="users", status="succeeded")
    response = admin_client_.post(f"/admin/bulk/jobs/{job.pk}/rerun/", follow=True)
    assert "re-run from their page" in response.content.decode() and Job.objects.count() == 1
