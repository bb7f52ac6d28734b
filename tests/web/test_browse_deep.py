"""Deep pages of the collection browser on the embedded server: keyset links and page numbers
read from page marks give exactly the pages a skip gives, in both orders, filtered, and after
documents before a mark were inserted or deleted; `_id`s other than ObjectIds are read with skip."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs.browsing import MARK_TAKERS
from bulkadmin.operations.browse import marks as page_marks
from bulkadmin.operations.browse import pages as paging
from project.collections import User
from tests.factories import users

pytestmark = pytest.mark.django_db
URL = "/admin/bulk/collections/users/"
PER_PAGE = paging.PER_PAGE


@pytest.fixture
def thousand(db, settings):
    """1,000 users (every third dormant), with a page mark every 3 pages (150 documents): 6 marks."""
    settings.BULKADMIN_BROWSE_MARK_PAGES = 3
    rows = [{**row, "status": "dormant" if n % 3 == 0 else "active"} for n, row in enumerate(users(1000))]
    bulk_insert(User, rows, db=db)
    return db.users


def names(response) -> list[str]:
    return [row[1] for row in response.context["rows"]]


def skipped(collection, number: int, direction: int = -1, filter: dict | None = None) -> list[str]:
    """Page `number` read straight from MongoDB with skip: what every way of reading it must give."""
    cursor = collection.find(filter or {}).sort("_id", direction).skip((number - 1) * PER_PAGE).limit(PER_PAGE)
    return [document["name"] for document in cursor]


def test_keyset_links_on_the_embedded_server_give_the_same_pages_as_skip(admin_client_, thousand, monkeypatch):
    monkeypatch.setattr(paging, "SKIP_PAGES", 1)
    response, seen = admin_client_.get(URL), []
    for number in range(1, 21):
        assert response.context["page_number"] == number
        seen.append(names(response))
        after = response.context["next_after"]
        if number < 20:
            assert after == str(thousand.find_one({"name": seen[-1][-1]})["_id"])
            response = admin_client_.get(URL, {"page": number + 1, "after": after})
    assert seen == [skipped(thousand, number) for number in range(1, 21)]
    assert not response.context["has_next"] and len(seen[-1]) == 50
    for number in range(19, 0, -1):
        response = admin_client_.get(URL, {"page": number, "before": response.context["previous_before"] or "x"})
        assert names(response) == seen[number - 1] and response.context["has_next"]
        if number == 2:
            assert response.context["previous_before"] == ""  # page 1 is read with skip


@pytest.mark.parametrize("sort", ["", "id"])
def test_typed_page_numbers_read_from_marks_give_the_skip_pages_in_both_orders(admin_client_, thousand, sort):
    direction = 1 if sort == "id" else -1
    for number in range(1, 22):
        response = admin_client_.get(URL, {"page": number, "sort": sort})
        assert names(response) == skipped(thousand, number, direction), number
        assert response.context["has_next"] == (number < 20)
        marked = response.context["positions_age"]
        assert (marked == "just now") == (4 <= number <= 21), number
    page = admin_client_.get(URL, {"page": 17, "sort": sort}).content.decode()
    assert "Pages this deep are counted from positions taken just now." in page


def test_only_the_marks_pages_ask_for_are_taken_and_kept(admin_client_, thousand):
    key = page_marks._key(thousand, {}, -1, 3 * PER_PAGE)
    admin_client_.get(URL, {"page": 8})
    assert cache.get(key).ids == {2: thousand.find_one({"name": "User 699"})["_id"]}
    admin_client_.get(URL, {"page": 14})
    assert cache.get(key).ids[4] == thousand.find_one({"name": "User 399"})["_id"] and len(cache.get(key).ids) == 2
    beyond = admin_client_.get(URL, {"page": 25})  # mark 8 would be past the end
    assert beyond.context["rows"] == [] and cache.get(key).missing_from == 8


@pytest.mark.parametrize("direction", [1, -1])
def test_a_mark_taken_from_the_mark_below_it_is_the_one_taken_from_the_start(thousand, direction):
    """On MongoDB a mark is one skip on from the nearest mark below it (an `_id` range)."""
    collection, usable = thousand, lambda value: True
    for number in (8, 14, 20, 17):
        chained = page_marks.page_start(
            collection,
            {},
            direction,
            number,
            per_page=PER_PAGE,
            mark_pages=3,
            estimate=lambda: None,
            takers=MARK_TAKERS,
            usable=usable,
        )
        assert chained is not None and chained.skip == ((number - 1) % 3) * PER_PAGE
        query = {"_id": chained.condition(direction)}
        cursor = collection.find(query).sort("_id", direction).skip(chained.skip).limit(PER_PAGE)
        assert [document["name"] for document in cursor] == skipped(collection, number, direction)
    key = page_marks._key(collection, {}, direction, 3 * PER_PAGE)
    assert sorted(cache.get(key).ids) == [2, 4, 5, 6]


def test_a_filtered_listing_has_marks_of_its_own(admin_client_, thousand):
    active = {"status": {"$in": ["active"]}}
    assert thousand.count_documents(active) == 666
    for number in (1, 3, 4, 7, 10, 13, 14):
        response = admin_client_.get(URL, {"page": number, "status": "active"})
        assert names(response) == skipped(thousand, number, -1, active), number
    assert names(admin_client_.get(URL, {"page": 12})) == skipped(thousand, 12)


def test_marks_are_taken_again_after_documents_before_them_are_deleted_or_inserted(admin_client_, thousand, db):
    assert names(admin_client_.get(URL, {"page": 11})) == skipped(thousand, 11)
    newest = [document["_id"] for document in thousand.find({}, {"_id": 1}).sort("_id", -1).limit(7)]
    thousand.delete_many({"_id": {"$in": newest}})
    after_delete = admin_client_.get(URL, {"page": 11})
    assert names(after_delete) == skipped(thousand, 11) and names(after_delete)[0] == "User 492"
    bulk_insert(User, users(60, start=1000), db=db)
    after_insert = admin_client_.get(URL, {"page": 11})
    assert names(after_insert) == skipped(thousand, 11) and names(after_insert)[0] == "User 552"


def test_marks_older_than_their_age_limit_are_taken_again(admin_client_, thousand, db, monkeypatch):
    assert names(admin_client_.get(URL, {"page": 9, "sort": "id"})) == skipped(thousand, 9, 1)
    oldest = [document["_id"] for document in thousand.find({}, {"_id": 1}).sort("_id", 1).limit(5)]
    thousand.delete_many({"_id": {"$in": oldest}})
    bulk_insert(User, users(5, start=1000), db=db)  # the same size: the estimate cannot tell
    stale = admin_client_.get(URL, {"page": 9, "sort": "id"})
    assert names(stale)[0] == "User 400" and skipped(thousand, 9, 1)[0] == "User 405"
    monkeypatch.setattr(page_marks, "MAX_AGE", -1.0)
    assert names(admin_client_.get(URL, {"page": 9, "sort": "id"}))[0] == "User 405"


def ids_skipped(collection, number: int) -> list[str]:
    cursor = collection.find({}, {"_id": 1}).sort("_id", -1).skip((number - 1) * PER_PAGE).limit(PER_PAGE)
    return [str(document["_id"]) for document in cursor]


def test_integer_ids_are_paged_with_skip_on_the_embedded_server(admin_client_, db, settings, monkeypatch):
    settings.BULKADMIN_BROWSE_MARK_PAGES = 3
    monkeypatch.setattr(paging, "SKIP_PAGES", 1)
    db.page_stats.insert_many([{"_id": n, "page": f"/p{n}", "view_count": n} for n in range(700)])
    url = "/admin/bulk/collections/page_stats/"
    for number in (2, 5, 9, 14):
        response = admin_client_.get(url, {"page": number})
        assert [row[0] for row in response.context["rows"]] == ids_skipped(db.page_stats, number)
        assert response.context["next_after"] == "" and response.context["positions_age"] == ""
        assert response.context["has_next"] == (number < 14)


def test_forced_keyset_paging_bounds_pages_by_any_id(admin_client_, db, settings, monkeypatch):
    settings.BULKADMIN_BROWSE_MARK_PAGES, settings.BULKADMIN_BROWSE_PAGING = 3, "keyset"
    monkeypatch.setattr(paging, "SKIP_PAGES", 1)
    db.page_stats.insert_many([{"_id": f"p{n:04}", "page": f"/p{n}", "view_count": n} for n in range(700)])
    url = "/admin/bulk/collections/page_stats/"
    response = admin_client_.get(url, {"page": 9})
    assert response.context["rows"][0][0] == "p0299" and response.context["positions_age"] == "just now"
    following = admin_client_.get(url, {"page": 10, "after": response.context["next_after"]})
    assert [row[0] for row in following.context["rows"]] == ids_skipped(db.page_stats, 10)


def test_a_mark_that_takes_long_is_taken_in_the_background_and_the_page_reloads_until_it_arrives(
    admin_client_, thousand, monkeypatch
):
    gate, calls, take = threading.Event(), [], page_marks._take

    def slow_take(*args):  # a skip that takes long, as on a server whose file is not in memory yet
        calls.append(args[4])
        gate.wait(10)
        return take(*args)

    monkeypatch.setattr(page_marks, "_take", slow_take)
    monkeypatch.setattr(page_marks, "WAIT_SECONDS", 0.05)
    refresh = '<meta http-equiv="refresh" content="2">'
    first = admin_client_.get(URL, {"page": 11})
    assert first.context["rows"] == [] and first.context["reload_seconds"] == 2
    assert "Finding where page 11 starts" in first.content.decode() and refresh in first.content.decode()
    again = admin_client_.get(URL, {"page": 11})
    assert again.context["reload_seconds"] == 2 and calls == [3]  # the mark on its way is not taken twice
    gate.set()
    for _ in range(200):
        shown = admin_client_.get(URL, {"page": 11})
        if shown.context["rows"]:
            break
        time.sleep(0.05)
    assert names(shown) == skipped(thousand, 11)
    assert shown.context["reload_seconds"] is None and refresh not in shown.content.decode()
    assert calls == [3] and names(admin_client_.get(URL, {"page": 12})) == skipped(thousand, 12)
