"""Write-concern errors from the bulk service up to the job row, its result page and the
commands' exit status: the configured server answers `w: "majority"` writes with the
`writeConcernError` of a majority that timed out (`tests/bulk/concern_proxy.py`)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from bulkadmin.bulk import bulk_insert
from bulkadmin.core import mongo
from bulkadmin.models import Job
from project.collections import ApplicationLog, User, UserSession
from tests.bulk.concern_proxy import MAJORITY, ConcernProxy, majority_timeout
from tests.factories import days_ago, user
from tests.feed_server import serve, users_source

pytestmark = pytest.mark.django_db

TIMED_OUT = majority_timeout({"w": "majority", "wtimeout": 100})
SAID = "code 64 WriteConcernFailed: waiting for replication timed out"


def wrote(writes: int) -> str:
    return f"write concern not met for {writes} write(s)"


@pytest.fixture
def through_proxy(db, proxy: ConcernProxy, settings) -> Iterator[ConcernProxy]:
    """The configured server is the test's, through the relay, written with `w: "majority"`."""
    settings.MONGODB_URI = proxy.uri(MAJORITY)
    yield proxy
    mongo.get_client().close()


@pytest.fixture
def old_data(db):
    bulk_insert(
        UserSession,
        [{"token": "old", "expires_at": days_ago(400)}, {"token": "new", "expires_at": days_ago(-400)}],
        db=db,
    )
    bulk_insert(ApplicationLog, [{"message": "old", "created_at": days_ago(400)}], db=db)
    bulk_insert(User, [user(1, is_verified=True, status="deleted"), user(2, is_verified=True)], db=db)
    return db


def test_cleanup_whose_writes_were_not_confirmed_exits_non_zero_naming_them(old_data, through_proxy):
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("cleanup_old_data", stdout=out)
    job = Job.objects.get()
    # One write each for the sessions and users deleted; the logs archived are copied, then deleted.
    assert through_proxy.writes == 4
    assert str(raised.value) == (
        f"cleanup (job #{job.pk}): write concern not met for 4 write(s): {SAID}; "
        "the documents were written but not confirmed as asked."
    )
    lines = out.getvalue().splitlines()
    said = {line.split(": ")[0]: (line.split(" in ")[0], line.partition("s; ")[2]) for line in lines}
    assert said["expired_sessions"] == ("expired_sessions: deleted 1, modified 0, archived 0", wrote(1))
    assert said["archive_old_logs"] == ("archive_old_logs: deleted 0, modified 0, archived 1", wrote(2))
    assert said["deleted_users"] == ("deleted_users: deleted 1, modified 0, archived 0", wrote(1))
    assert said["temporary_files"] == ("temporary_files: deleted 0, modified 0, archived 0", "")
    assert f"Write concern not met for 4 write(s): {SAID}." in lines
    assert f"Job #{job.pk}: partially failed." in lines
    assert job.status == Job.Status.PARTIAL
    assert job.details["write_concern_errors"] == [TIMED_OUT] * 4
    assert job.message.splitlines()[-1] == f"Write concern not met for 4 write(s): {SAID}."
    assert (job.counts["deleted"], job.counts["archived"]) == (3, 1)
    assert [doc["token"] for doc in old_data.user_sessions.find()] == ["new"]
    assert old_data.application_logs_archive.count_documents({}) == 1


def test_the_job_page_lists_what_the_server_said(old_data, through_proxy, admin_client):
    with pytest.raises(CommandError):
        call_command("cleanup_old_data", stdout=io.StringIO())
    job = Job.objects.get()
    page = admin_client.get(reverse("bulkadmin:job", args=[job.pk])).content.decode()
    assert "<h2>Write concern not met (4 writes)</h2>" in page
    table = page[page.index('id="write-concern-errors"') :].split("</table>")[0]
    row = '<tr data-code="64"><td>64</td><td>WriteConcernFailed</td><td>waiting for replication timed out</td>'
    assert table.count("<tr") == 5  # the header and one row per write
    assert table.count(row) == 4
    assert table.count("&#x27;provenance&#x27;: &#x27;clientSupplied&#x27;}}</code></td></tr>") == 4
    assert 'class="status-partial">Partially failed</strong>' in page


def test_a_clean_run_shows_no_write_concern_section(old_data, admin_client):
    call_command("cleanup_old_data", stdout=io.StringIO())
    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED
    assert "write_concern_errors" not in job.details
    assert 'id="job-write-concern"' not in admin_client.get(reverse("bulkadmin:job", args=[job.pk])).content.decode()


@pytest.fixture
def feed(settings):
    for server in serve():
        settings.BULKADMIN_SYNC_SOURCES = {"partners": users_source(f"{server.url}/users")}
        yield server


def test_sync_whose_writes_were_not_confirmed_exits_non_zero_naming_them(db, feed, through_proxy):
    partner = {"id": 1, "name": "Partner 1", "email": "p1@partner.example"}
    feed.pages("/users", [[partner]])
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("sync_external", "partners", stdout=out)
    job = Job.objects.get()
    assert through_proxy.writes == 2  # the record, then its sync stamp
    assert str(raised.value) == (
        f"sync (job #{job.pk}): write concern not met for 2 write(s): {SAID}; "
        "the documents were written but not confirmed as asked."
    )
    assert (job.status, job.counts["created"]) == (Job.Status.PARTIAL, 1)
    assert job.details["write_concern_errors"] == [TIMED_OUT] * 2
    assert f"Job #{job.pk}: partially failed." in out.getvalue()
    assert db.users.count_documents({"email": "p1@partner.example"}) == 1
