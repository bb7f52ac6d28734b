"""`manage.py sync_external`: a source declared in settings and the project's demo source,
synced from a real HTTP server on 127.0.0.1 and recorded as jobs."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bulkadmin.models import Job
from project.demo_feed import demo_records, make_server
from tests.feed_server import Reply, serve, users_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(settings, tmp_path):
    for server in serve():
        source = users_source(f"{server.url}/users", updated_since_param="updated_since")
        settings.BULKADMIN_SYNC_SOURCES = {"partners": source}
        server.pages("/users", [[record(1), record(2)], [record(3)]])
        yield server


def record(number: int, **fields) -> dict:
    return {"id": number, "name": f"Partner {number}", "email": f"p{number}@partner.example", **fields}


def sync(*arguments: str) -> str:
    out = io.StringIO()
    call_command("sync_external", *arguments, stdout=out)
    return out.getvalue()


def sync_rejecting(*arguments: str) -> str:
    """The output of a sync that rejects records (and so exits non-zero)."""
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^\d+ record\(s\) rejected"):
        call_command("sync_external", *arguments, stdout=out)
    return out.getvalue()


def test_list_shows_the_declared_sources(feed):
    output = sync("--list")
    assert "demo_users: users from $DEMO_FEED_URL (default http://127.0.0.1:8765/users); never synced" in output
    assert "partners: users from $BULKADMIN_TEST_UNSET_URL" in output


def test_a_sync_prints_its_counts_and_is_recorded_as_a_job(db, feed):
    output = sync("partners")
    job = Job.objects.get()
    assert "partners (full): 3 record(s) in 3 page(s): created 3, updated 0, unchanged 0, rejected 0" in output
    assert f"Job #{job.pk}: succeeded." in output
    assert (job.kind, job.collection, job.status) == (Job.Kind.SYNC, "users", Job.Status.SUCCEEDED)
    assert job.parameters == {
        "source": "partners",
        "mode": "incremental",
        "full": True,
        "since": None,
        "mark_missing": False,
    }
    assert (job.counts["created"], job.counts["records"], job.counts["pages"]) == (3, 3, 3)
    assert db.users.count_documents({"external_id": {"$in": [1, 2, 3]}}) == 3


def test_the_next_sync_asks_only_for_records_updated_since_the_last_one(db, feed):
    sync("partners")
    first = Job.objects.get()
    output = sync("partners")
    assert f"partners (updated since {first.started_at.isoformat()})" in output
    assert feed.requests[-1].query["updated_since"] == first.started_at.isoformat()
    sync("partners", "--full")
    assert "updated_since" not in feed.requests[-1].query


def test_a_dry_run_writes_nothing_and_is_a_dry_run_job(db, feed):
    output = sync("partners", "--dry-run")
    assert "created 3" in output and "(dry run, nothing written)" in output
    assert db.users.count_documents({}) == 0
    assert Job.objects.get().dry_run is True
    assert "updated_since" not in sync("partners", "--dry-run").splitlines()[1]


def test_rejected_records_are_listed_and_the_job_is_partial(db, feed):
    feed.pages("/users", [[record(1), record(2, email="broken")]])
    output = sync_rejecting("partners")
    assert "rejected 1" in output
    assert "  record 1: id 2: email: " in output  # named by its key too
    job = Job.objects.get()
    assert job.status == Job.Status.PARTIAL
    assert (job.errors[0]["index"], job.errors[0]["field"]) == (1, "email")


def test_an_http_error_part_way_fails_the_job_with_page_status_and_reason(db, feed):
    feed.on("/users", Reply({"error": "down"}, status=502), page="2")
    with pytest.raises(
        CommandError, match=r"failed on page 2 .*HTTP 502: Bad Gateway after 2 attempt\(s\) \(job #\d+\)"
    ):
        sync("partners")
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert "page 2" in job.message
    assert (job.details["failure"]["page"], job.details["failure"]["status"]) == (2, 502)
    assert job.counts["created"] == 2
    assert db.users.count_documents({}) == 2
    feed.pages("/users", [[record(1), record(2)], [record(3)]])
    assert "created 1, updated 0, unchanged 2" in sync("partners", "--full")


def test_mark_missing_runs_a_full_sync_and_flags_absent_documents(db, feed):
    sync("partners")
    feed.pages("/users", [[record(1)]])
    output = sync("partners", "--mark-missing")
    assert "partners (full)" in output and "marked missing 2" in output
    assert sorted(doc["external_id"] for doc in db.users.find({"is_active": False})) == [2, 3]
    assert db.users.count_documents({}) == 3


def test_mark_missing_with_since_is_refused(db, feed):
    with pytest.raises(CommandError, match="mark_missing needs a full sync"):
        sync("partners", "--mark-missing", "--since", "2026-01-01")


def test_bad_arguments_are_refused_with_a_reason(db, feed):
    with pytest.raises(CommandError, match="Unknown sync source 'nope'. Declared sources: demo_users, partners."):
        sync("nope")
    with pytest.raises(CommandError, match="--since: 'yesterday' is not an ISO date"):
        sync("partners", "--since", "yesterday")
    with pytest.raises(CommandError, match="Name a source to sync"):
        sync()


def test_the_demo_source_syncs_from_the_demo_feed(db, feed, monkeypatch):
    server = make_server(port=0, records=demo_records(60))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setenv("DEMO_FEED_URL", f"http://127.0.0.1:{server.server_port}/users")
    try:
        output = sync_rejecting("demo_users")
        assert "demo_users (full): 60 record(s) in 2 page(s): created 59, updated 0, unchanged 0, rejected 1" in output
        assert "updated since" in sync("demo_users")
        assert "unchanged 59, rejected 1" in sync_rejecting("demo_users", "--full")
    finally:
        server.shutdown()
        server.server_close()
    assert db.users.count_documents({"external_id": {"$gte": 10_000}}) == 59
    assert Job.objects.filter(kind=Job.Kind.SYNC, status=Job.Status.PARTIAL).count() == 2


def test_a_misdeclared_settings_source_is_reported_not_a_traceback(db, settings):
    settings.BULKADMIN_SYNC_SOURCES = {"bad": {"collection": "nope", "url_env": "X", "fields": {}}}
    with pytest.raises(CommandError, match=r"BULKADMIN_SYNC_SOURCES\['bad'\]: Unknown collection 'nope'"):
        sync("--list")
