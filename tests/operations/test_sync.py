"""The sync operation against a real HTTP server on 127.0.0.1: paging, retries, failures,
rejected records, idempotent re-runs and flagging missing documents."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.operations.feeds import Pagination, RetryPolicy
from bulkadmin.operations.sync import Source, SyncFailed, sync_source
from project.collections import User
from tests.factories import NOW, user
from tests.feed_server import Reply, serve

LATER = NOW + dt.timedelta(hours=1)
FAST = RetryPolicy(timeout=2.0, retries=2, backoff=0.01, max_wait=30.0)


@pytest.fixture
def feed():
    yield from serve()


def record(number: int, **fields) -> dict:
    return {"id": number, "name": f"Partner {number}", "email": f"p{number}@partner.example", **fields}


def source_for(feed, **changes) -> Source:
    source = Source(
        name="partners",
        model=User,
        url_env="BULKADMIN_TEST_UNSET_URL",
        default_url=f"{feed.url}/users",
        records_path="data",
        fields={"name": "name", "email": "email", "updated_at": "external_updated_at"},
        pagination=Pagination(style="page"),
        updated_since_param="updated_since",
        policy=FAST,
    )
    return dataclasses.replace(source, **changes)


def sync(feed, waits: list | None = None, **options):
    sleep = waits.append if waits is not None else None
    return sync_source(source=options.pop("source", None) or source_for(feed), now=NOW, sleep=sleep, **options)


def stored(db) -> dict:
    return {doc["external_id"]: doc for doc in db.users.find({"external_id": {"$ne": None}})}


def five_records(feed) -> None:
    feed.pages("/users", [[record(1), record(2)], [record(3), record(4)], [record(5)]])


def test_a_paged_feed_is_upserted_by_key_with_last_sync(db, feed):
    five_records(feed)
    result = sync(feed)
    assert (
        result.counts.records,
        result.counts.pages,
        result.counts.created,
        result.counts.updated,
        result.counts.unchanged,
    ) == (5, 4, 5, 0, 0)
    docs = stored(db)
    assert sorted(docs) == [1, 2, 3, 4, 5]
    assert (docs[3]["name"], docs[3]["email"], docs[3]["is_active"]) == ("Partner 3", "p3@partner.example", True)
    assert all(doc["last_sync"] == NOW for doc in docs.values())
    assert [request.query.get("page") for request in feed.requests] == ["1", "2", "3", "4"]


def test_a_rerun_counts_everything_unchanged_and_only_moves_last_sync(db, feed):
    five_records(feed)
    sync(feed)
    again = sync_source(source=source_for(feed), now=LATER)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged, again.counts.rejected) == (0, 0, 5, 0)
    assert db.users.count_documents({}) == 5
    assert {doc["last_sync"] for doc in stored(db).values()} == {LATER}


def test_a_changed_record_is_updated_and_the_rest_unchanged(db, feed):
    five_records(feed)
    sync(feed)
    feed.pages("/users", [[record(1), record(2, name="Renamed", updated_at="2026-06-01T10:00:00Z")], [record(3)]])
    result = sync(feed)
    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (0, 1, 2)
    assert stored(db)[2]["name"] == "Renamed"
    assert stored(db)[2]["external_updated_at"] == dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)


def test_a_429_is_retried_after_the_wait_its_retry_after_asks_for(db, feed):
    five_records(feed)
    feed.on(
        "/users", Reply({"error": "slow down"}, status=429, headers={"Retry-After": "3"}), {"data": [record(3)]}, page=2
    )
    waits: list[float] = []
    result = sync(feed, waits)
    assert waits == [3.0]
    assert (result.counts.records, result.counts.created) == (4, 4)
    assert [request.query.get("page") for request in feed.requests] == ["1", "2", "2", "3", "4"]


def test_a_500_then_success_is_retried_with_backoff(db, feed):
    five_records(feed)
    feed.on("/users", Reply({"error": "boom"}, status=500), Reply({"error": "boom"}, status=503), {"data": []}, page=3)
    waits: list[float] = []
    result = sync(feed, waits)
    assert waits == [0.01, 0.02]
    assert (result.counts.records, result.counts.created) == (4, 4)


def test_a_timeout_is_retried(db, feed):
    five_records(feed)
    feed.on("/users", Reply({"data": [record(1)]}, delay=1.5), {"data": [record(1)]}, page=1)
    source = source_for(feed, policy=dataclasses.replace(FAST, timeout=0.5))
    waits: list[float] = []
    result = sync(feed, waits, source=source)
    assert waits == [0.01]
    assert (result.counts.records, result.counts.created) == (4, 4)


def test_timeouts_on_every_attempt_fail_the_sync_naming_the_page(db, feed):
    five_records(feed)
    feed.on("/users", Reply({"data": []}, delay=1.5), page=2)
    source = source_for(feed, policy=dataclasses.replace(FAST, timeout=0.5, retries=1))
    with pytest.raises(SyncFailed) as failure:
        sync(feed, [], source=source)
    assert (failure.value.page, failure.value.status) == (2, None)
    assert "ReadTimeout" in failure.value.reason
    assert "after 2 attempt(s)" in failure.value.reason
    assert failure.value.result.counts.created == 2
    assert sorted(stored(db)) == [1, 2]


def test_broken_json_part_way_fails_keeps_earlier_pages_and_a_rerun_converges(db, feed):
    five_records(feed)
    feed.on("/users", Reply(b'{"data": [{"id": 3,'), page=2)
    with pytest.raises(SyncFailed) as failure:
        sync(feed, [])
    assert (failure.value.page, failure.value.status) == (2, 200)
    assert failure.value.reason.startswith("broken JSON: ")
    assert "page 2" in str(failure.value)
    assert sorted(stored(db)) == [1, 2]
    five_records(feed)
    result = sync(feed)
    assert (result.counts.created, result.counts.unchanged) == (3, 2)
    assert sorted(stored(db)) == [1, 2, 3, 4, 5]


def test_a_client_error_fails_at_once_without_retrying(db, feed):
    feed.on("/users", Reply({"error": "bad token"}, status=401))
    waits: list[float] = []
    with pytest.raises(SyncFailed) as failure:
        sync(feed, waits)
    assert (failure.value.page, failure.value.status, waits) == (1, 401, [])
    assert "bad token" in failure.value.reason
    assert len(feed.requests) == 1


def test_records_with_a_bad_field_or_no_key_are_rejected_and_reported(db, feed):
    bad_email = record(3, email="not-an-email")
    no_key = {"name": "Nobody", "email": "nobody@partner.example"}
    feed.pages("/users", [[record(1), record(2)], [bad_email, no_key, record(5)]])
    result = sync(feed)
    assert (result.counts.records, result.counts.created, result.counts.rejected) == (5, 3, 2)
    assert [(error.index, error.field) for error in result.errors] == [(2, "email"), (3, "id")]
    assert "not-an-email" in result.errors[0].message
    assert sorted(stored(db)) == [1, 2, 5]
    assert result.failed == 2


def test_a_dry_run_counts_and_writes_nothing(db, feed):
    five_records(feed)
    bulk_insert(User, [user(1, external_id=1, name="Old name", email="p1@partner.example")])
    result = sync(feed, dry_run=True)
    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (4, 1, 0)
    assert [doc["name"] for doc in db.users.find()] == ["Old name"]
    assert db.users.find_one()["last_sync"] is None


def test_mark_missing_flags_documents_absent_from_a_full_feed_and_never_deletes(db, feed):
    five_records(feed)
    sync(feed)
    bulk_insert(User, [user(99)])  # a local user, not from the source
    feed.pages("/users", [[record(1), record(2)], [record(3)]])
    result = sync(feed, mark_missing=True)
    assert (result.counts.unchanged, result.counts.marked_missing) == (3, 2)
    docs = stored(db)
    assert {key: doc["is_active"] for key, doc in docs.items()} == {1: True, 2: True, 3: True, 4: False, 5: False}
    assert db.users.find_one({"name": "User 99"})["is_active"] is True
    assert sync(feed, mark_missing=True).counts.marked_missing == 0
    five_records(feed)
    back = sync(feed, mark_missing=True)
    assert (back.counts.updated, back.counts.unchanged, back.counts.marked_missing) == (2, 3, 0)
    assert all(doc["is_active"] for doc in stored(db).values())


def test_mark_missing_refuses_an_incremental_sync(db, feed):
    with pytest.raises(InvalidSpec, match="mark_missing needs a full sync"):
        sync(feed, mark_missing=True, since=NOW)
    assert feed.requests == []


def test_since_is_sent_as_the_updated_since_parameter(db, feed):
    feed.on("/users", {"data": []})
    sync(feed, since=NOW)
    assert feed.requests[0].query["updated_since"] == "2026-06-15T12:00:00+00:00"


def test_next_link_pagination_follows_links_until_none(db, feed):
    feed.on("/users", {"results": [record(1)], "next": "/users?after=1"})
    feed.on("/users", {"results": [record(2)], "next": None}, after="1")
    source = source_for(feed, records_path="results", pagination=Pagination(style="next", next_path="next"))
    result = sync(feed, source=source)
    assert (result.counts.pages, result.counts.created) == (2, 2)


def test_a_next_link_pointing_back_fails_instead_of_looping(db, feed):
    feed.on("/users", {"results": [record(1)], "next": "/users?after=1"})
    feed.on("/users", {"results": [record(2)], "next": "/users?after=1"}, after="1")
    source = source_for(feed, records_path="results", pagination=Pagination(style="next", next_path="next"))
    with pytest.raises(SyncFailed, match="pagination loops") as failure:
        sync(feed, source=source)
    assert (failure.value.page, len(feed.requests)) == (3, 2)


def test_cursor_pagination_sends_the_cursor_until_it_is_empty(db, feed):
    feed.on("/users", {"items": [record(1)], "meta": {"cursor": "abc"}})
    feed.on("/users", {"items": [record(2)], "meta": {"cursor": ""}}, cursor="abc")
    pagination = Pagination(style="cursor", cursor_param="cursor", cursor_path="meta.cursor")
    result = sync(feed, source=source_for(feed, records_path="items", pagination=pagination))
    assert (result.counts.pages, result.counts.created) == (2, 2)


def test_the_url_and_auth_header_come_from_the_environment(db, feed, monkeypatch):
    feed.pages("/other", [[record(1)]])
    monkeypatch.setenv("PARTNER_URL", f"{feed.url}/other")
    monkeypatch.setenv("PARTNER_TOKEN", "Bearer s3cret")
    source = source_for(feed, url_env="PARTNER_URL", auth_env="PARTNER_TOKEN")
    assert sync(feed, source=source).counts.created == 1
    assert feed.requests[0].headers["Authorization"] == "Bearer s3cret"
