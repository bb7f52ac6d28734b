"""Sync deadlines against a real HTTP server on 127.0.0.1 that trickles its replies: a request has
a wall-clock deadline for its complete response (retries included), a run has one for all its
pages, and passing either fails the sync naming the page and its URL."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bulkadmin.jobs.runs import sync_job
from bulkadmin.models import Job
from bulkadmin.operations.feeds import Feed, FetchFailed, Pagination, RetryPolicy
from bulkadmin.operations.sync import Source, SyncFailed, sync_source
from project.collections import User
from tests.factories import NOW
from tests.feed_server import Reply, serve

pytestmark = pytest.mark.slow  # deadlines of a second or two are waited out

# The case: a 2 s timeout and 3 retries never stop a server that sends a byte now and then.
PATIENT = RetryPolicy(timeout=2.0, retries=3, backoff=0.01, max_wait=1.0, request_deadline=2.0)
LONG_BODY = {"data": [{"id": n, "name": f"Partner {n}", "email": f"p{n}@partner.example"} for n in range(5)]}


@pytest.fixture
def feed():
    yield from serve()


def record(number: int) -> dict:
    return {"id": number, "name": f"Partner {number}", "email": f"p{number}@partner.example"}


def source_for(feed, policy: RetryPolicy) -> Source:
    return Source(
        name="partners",
        model=User,
        url_env="BULKADMIN_TEST_UNSET_URL",
        default_url=f"{feed.url}/users",
        records_path="data",
        fields={"name": "name", "email": "email"},
        pagination=Pagination(style="page"),
        policy=policy,
    )


def pages_of(feed, policy: RetryPolicy) -> list[int]:
    """Walk the feed, returning the page numbers read before it ends or fails."""
    read: list[int] = []
    with pytest.raises(FetchFailed) as failed:
        for page in Feed(url=f"{feed.url}/users", records_path="data", policy=policy).pages():
            read.append(page.number)
    read.append(failed.value)  # type: ignore[arg-type]
    return read


@pytest.mark.django_db
def test_a_trickling_page_fails_the_sync_by_its_request_deadline_naming_the_page(db, feed):
    feed.pages("/users", [[record(1), record(2)], [record(3)]])
    feed.on("/users", Reply(LONG_BODY, trickle=0.5), page="3")
    started = time.monotonic()
    with pytest.raises(SyncFailed) as failed:
        sync_source(source=source_for(feed, PATIENT), now=NOW)
    assert time.monotonic() - started < 5
    error = failed.value
    assert (error.page, error.status) == (3, None)
    assert error.url == f"{feed.url}/users?page=3"
    assert f"page 3 ({feed.url}/users?page=3)" in str(failed.value)
    assert "no complete response within 2 s (request deadline), 1 attempt(s)" in str(failed.value)
    assert (failed.value.result.counts.pages, failed.value.result.counts.created) == (2, 3)
    assert db.users.count_documents({}) == 3


def test_trickled_headers_are_bounded_too(feed):
    feed.on("/users", Reply(LONG_BODY, trickle=0.5, trickle_headers=True))
    started = time.monotonic()
    *read, error = pages_of(feed, PATIENT)
    assert time.monotonic() - started < 5
    assert (read, error.page) == ([], 1)
    assert error.reason == "no complete response within 2 s (request deadline), 1 attempt(s)"


def test_a_slow_page_that_completes_within_its_deadline_is_read(feed):
    feed.pages("/users", [[record(1)]])
    feed.on("/users", Reply({"data": [record(1)]}, trickle=0.01), page="1")  # ~0.6 s
    pages = list(Feed(url=f"{feed.url}/users", records_path="data", policy=PATIENT).pages())
    assert [len(page.records) for page in pages] == [1, 0]


def test_a_retry_wait_that_would_pass_the_deadline_fails_at_once(feed):
    feed.on("/users", Reply({"error": "busy"}, status=503, headers={"Retry-After": "10"}))
    policy = dataclasses.replace(PATIENT, max_wait=60.0)
    started = time.monotonic()
    *_, error = pages_of(feed, policy)
    assert time.monotonic() - started < 2
    assert error.reason.startswith("no complete response within 2 s (request deadline): 1 attempt(s)")
    assert len(feed.requests) == 1


@pytest.mark.django_db
def test_a_policy_without_a_request_deadline_takes_the_one_the_sync_is_given(db, feed):
    feed.on("/users", Reply(LONG_BODY, trickle=0.2))
    started = time.monotonic()
    source = source_for(feed, dataclasses.replace(PATIENT, request_deadline=None))
    with pytest.raises(SyncFailed) as failed:
        sync_source(source=source, now=NOW, request_deadline=1)
    assert time.monotonic() - started < 3
    assert failed.value.reason.startswith("no complete response within 1 s (request deadline)")
    assert db.users.count_documents({}) == 0


def test_a_run_deadline_stops_a_multi_page_feed_at_the_page_in_progress(feed):
    feed.pages("/users", [[record(n)] for n in range(1, 11)])
    for number in range(1, 11):
        feed.on("/users", Reply({"data": [record(number)]}, delay=0.4), page=str(number))
    policy = dataclasses.replace(PATIENT, request_deadline=30.0, run_deadline=1.0)
    started = time.monotonic()
    *read, error = pages_of(feed, policy)
    assert time.monotonic() - started < 2
    assert read == [1, 2]
    assert (error.page, error.url) == (3, f"{feed.url}/users?page=3")
    assert error.reason == "the run passed its deadline of 1 s (run deadline), 1 attempt(s)"


@pytest.mark.django_db
def test_a_sync_jobs_run_deadline_defaults_to_the_setting(db, feed, settings):
    settings.BULKADMIN_SYNC_RUN_DEADLINE = 0.5
    feed.on("/users", Reply({"data": [record(1)]}, delay=2))
    with pytest.raises(SyncFailed) as failed:
        sync_job(source=source_for(feed, dataclasses.replace(PATIENT, request_deadline=30.0)), mode="full")
    assert failed.value.page == 1
    assert failed.value.reason.startswith("the run passed its deadline of 0.5 s (run deadline)")
    assert Job.objects.get().status == Job.Status.FAILED


@pytest.mark.django_db
def test_a_sync_job_past_its_run_deadline_fails_naming_the_page(db, feed, settings, tmp_path):
    feed.pages("/users", [[record(n)] for n in range(1, 11)])
    for number in range(1, 11):
        feed.on("/users", Reply({"data": [record(number)]}, delay=0.3), page=str(number))
    policy = dataclasses.replace(PATIENT, request_deadline=30.0, run_deadline=1.5)
    started = time.monotonic()
    with pytest.raises(SyncFailed) as failed:
        sync_job(source=source_for(feed, policy), mode="full")
    assert time.monotonic() - started < 4
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    page = failed.value.page
    assert 2 <= page < 10
    assert f"page {page} ({feed.url}/users?page={page})" in job.message
    assert "the run passed its deadline of 1.5 s (run deadline)" in job.message
    assert db.users.count_documents({}) == page - 1 == failed.value.result.counts.created
