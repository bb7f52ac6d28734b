"""Hostile records in a sync feed: each is a rejected record naming its position and field; the
sync carries on and the other records are stored."""

from __future__ import annotations

import pytest

from tests.feed_server import serve
from tests.operations.test_sync import record, stored, sync


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
    assert (result.records, result.created, result.rejected) == (9, 3, 6), result.errors
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
