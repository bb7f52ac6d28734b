"""Filters on dates match to the millisecond, in every command (MongoDB stores dates in ms)."""

from __future__ import annotations

import datetime as dt

NOON = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)


def at(ms: int) -> dt.datetime:
    return NOON + ms * MS


def seed(coll) -> None:
    coll.insert_many([{"_id": ms, "at": at(ms)} for ms in (-2000, -100, 0, 5, 499, 500, 501, 700, 1500)])


def test_find_and_count_compare_dates_to_the_millisecond(coll):
    seed(coll)
    cutoff = {"at": {"$lt": at(500)}}
    assert sorted(doc["_id"] for doc in coll.find(cutoff)) == [-2000, -100, 0, 5, 499]
    assert coll.count_documents(cutoff) == 5
    assert [doc["_id"] for doc in coll.find({"at": at(5)})] == [5]
    assert sorted(doc["_id"] for doc in coll.find({"at": {"$gt": NOON, "$lte": at(501)}})) == [5, 499, 500, 501]
    assert coll.count_documents({"at": {"$ne": at(0)}}) == 8


def test_updates_and_deletes_touch_only_the_documents_before_the_cutoff(coll):
    seed(coll)
    updated = coll.update_many({"at": {"$lt": at(500)}}, {"$set": {"old": True}})
    assert (updated.matched_count, updated.modified_count) == (5, 5)
    assert sorted(doc["_id"] for doc in coll.find({"old": True})) == [-2000, -100, 0, 5, 499]
    deleted = coll.delete_many({"at": {"$lt": at(0)}})
    assert deleted.deleted_count == 2
    assert sorted(doc["_id"] for doc in coll.find()) == [0, 5, 499, 500, 501, 700, 1500]


def test_a_date_filter_with_a_sort_and_a_limit_reads_in_order(coll):
    seed(coll)
    found = coll.find({"at": {"$gte": NOON}}).sort("at", -1).limit(3)
    assert [doc["_id"] for doc in found] == [1500, 700, 501]


def test_a_date_filter_beside_a_number_range_is_answered_by_find_update_and_delete(coll):
    """Such a filter is translated with the counts' SQL, whose number comparisons call a SQL
    function: every connection of the server must have it, not only the counts'."""
    coll.insert_many([{"_id": ms, "at": at(ms), "age": ms % 50} for ms in (0, 5, 499, 500, 501, 700)])
    cutoff = {"age": {"$lt": 30}, "at": {"$lt": at(600)}}
    assert sorted(doc["_id"] for doc in coll.find(cutoff)) == [0, 5, 500, 501]
    assert coll.count_documents(cutoff) == 4
    assert coll.update_many(cutoff, {"$set": {"young": True}}).modified_count == 4
    assert coll.delete_many(cutoff).deleted_count == 4
    assert sorted(doc["_id"] for doc in coll.find()) == [499, 700]
