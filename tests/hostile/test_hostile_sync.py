"""Hostile records in a sync feed: each is a rejected record naming its position and field; the
sync carries on and the other records are stored."""

from __future__ import annotations

import pytest

from bulkadmin.operations.feeds import Pagination
from tests.feed_server import serve
from tests.operations.test_sync import record, source_for, stored, sync


@pytest.fixture
def feed():
    yield from serve()


def test_overflowing_dates_and_ids_beyond_int64_are_rejected_records_and_the_sync_goes_on(db, feed):
    feed.pages(
        "/users",
        [
            [record(1), record(2, updated_at="9999-12-31T23:59:59-14:00"), record(3)],
            [record(2**64), record(4, updated_at="0001-01-01T00:00:00+14:00"), record(-(2**63) - 1)],
            [record(5, updated_at=float("inf")), record(6, name="\udc80"), record(7)],
        ],
    )
    result = sync(feed)
    assert (result.counts.records, result.counts.created, result.counts.rejected) == (9, 3, 6), result.errors
    assert sorted(stored(db)) == [1, 3, 7]
    where = [(error.index, error.field) for error in result.errors]
    assert where == [
        (1, "external_updated_at"),
        (3, "external_id"),
        (4, "external_updated_at"),
        (5, "external_id"),
        (6, "external_updated_at"),
        (7, "name"),
    ]


def test_mark_missing_never_flags_a_record_hidden_by_pages_shifting(db, feed):
    feed.pages("/users", [[record(1), record(2)], [record(3), record(4)], [record(5)]])
    sync(feed)
    # Record 1 is deleted at the source after page 1 was read: record 3 moves up to page 1, so
    # page 2 now starts with record 4 and record 3 is read on neither page of this pass.
    feed.on("/users", {"data": [record(1), record(2)]}, {"data": [record(2), record(3)]}, page="1")
    feed.on("/users", {"data": [record(4), record(5)]}, page="2")
    feed.on("/users", {"data": []}, page="3")
    result = sync(feed, mark_missing=True)
    assert stored(db)[3]["is_active"] is True
    assert result.counts.marked_missing == 0
    assert "read twice" in result.details["missing_check"]
    again = sync(feed, mark_missing=True)  # record 1 is really gone: flagged now
    assert again.counts.marked_missing == 1 and stored(db)[1]["is_active"] is False


def test_mark_missing_with_cursor_paging_trusts_the_snapshot(db, feed):
    feed.pages("/users", [[record(1), record(2)]])
    sync(feed)
    feed.on("/users", {"data": [record(2)], "next_cursor": ""})
    cursor = sync(feed, mark_missing=True, source=source_for(feed, pagination=Pagination(style="cursor")))
    assert cursor.counts.marked_missing == 1 and "snapshot" in cursor.details["missing_check"]
    assert [request.query.get("cursor") for request in feed.requests[-1:]] == [None]
