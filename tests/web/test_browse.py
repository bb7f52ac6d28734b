"""The collection browser at any size: estimated totals, paging without counting, sorting by
indexed columns, chosen columns, jumping to a page or a document, and the document view."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert
from project.collections import ApplicationLog, PageStats, User
from tests.factories import users

pytestmark = pytest.mark.django_db
URL = "/admin/bulk/collections/users/"


@pytest.fixture
def many(db):
    """120 users: ages 20..79 twice, inserted in order (so newest first is User 119 first)."""
    bulk_insert(User, users(120), db=db)
    return db.users


def names(response) -> list[str]:
    return [row[1] for row in response.context["rows"]]


def test_dashboard_shows_estimated_sizes_and_says_so(admin_client_, many):
    response = admin_client_.get("/admin/bulk/")
    rows = {row["name"]: row for row in response.context["collections"]}
    assert (rows["users"]["count"], rows["users"]["count_text"]) == (120, "120")
    page = response.content.decode()
    assert "Documents (estimated)" in page
    assert '<td class="count estimated" data-collection="users">120</td>' in page


def test_unfiltered_pages_use_the_estimate_and_a_next_link_only_when_more_exist(admin_client_, many):
    first = admin_client_.get(URL)
    assert (first.context["total"], first.context["pages"], first.context["estimated"]) == (120, 3, True)
    assert "About 120 documents (estimated); page 1 of about 3." in first.content.decode()
    assert names(first)[:2] == ["User 119", "User 118"] and first.context["has_next"]
    third = admin_client_.get(URL, {"page": 3})
    assert names(third) == [f"User {n}" for n in range(19, -1, -1)] and not third.context["has_next"]
    beyond = admin_client_.get(URL, {"page": 9})
    assert beyond.context["rows"] == [] and "No documents on page 9" in beyond.content.decode()


def test_filtered_pages_have_no_total_until_counted_and_say_page_n(admin_client_, many, settings):
    settings.BULKADMIN_INLINE_COUNT_LIMIT = 0
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    response = admin_client_.get(URL, {"q": "user1"})
    assert response.context["total"] is None and response.context["pages"] is None
    assert response.context["count"].pending and not response.context["count"].ready
    page = response.content.decode()
    assert "Page 1." in page and "counting matches in the background" in page
    assert len(response.context["rows"]) == 31  # User 1, 10..19, 100..119


def test_sorting_by_an_indexed_column_both_ways_and_refusing_unindexed_ones(admin_client_, many):
    many.update_many({}, {"$set": {"status": "active"}})
    many.update_one({"email": "user5@example.com"}, {"$set": {"status": "young"}})
    many.update_one({"email": "user6@example.com"}, {"$set": {"status": "dormant"}})
    ascending = admin_client_.get(URL, {"sort": "status"})
    assert ascending.context["sort"] == "status"
    assert [row[4] for row in ascending.context["rows"]][:2] == ["active", "active"]
    descending = admin_client_.get(URL, {"sort": "-status"})
    assert [row[4] for row in descending.context["rows"]][:2] == ["young", "dormant"]
    headers = {header["name"]: header for header in descending.context["headers"]}
    assert headers["status"]["sortable"] and (headers["status"]["arrow"], headers["status"]["param"]) == ("▼", "status")
    assert headers["email"]["sortable"] and not headers["age"]["sortable"]
    unindexed = admin_client_.get(URL, {"sort": "age"})
    assert unindexed.context["sort"] == "-id" and names(unindexed)[0] == "User 119"


def test_sort_by_email_pages_in_email_order(admin_client_, many):
    emails = sorted(f"user{n}@example.com" for n in range(120))
    second = admin_client_.get(URL, {"sort": "email", "page": 2})
    assert [row[2] for row in second.context["rows"]] == emails[50:100]


def test_keyset_paging_gives_the_same_pages_as_skip(admin_client_, many, settings, monkeypatch):
    from bulkadmin.operations.browse import pages as paging

    monkeypatch.setattr(paging, "SKIP_PAGES", 1)
    settings.BULKADMIN_BROWSE_PAGING = "skip"
    by_skip = [names(admin_client_.get(URL, {"page": n})) for n in (1, 2, 3)]
    settings.BULKADMIN_BROWSE_PAGING = "keyset"
    first = admin_client_.get(URL)
    after = first.context["next_after"]
    assert after == str(many.find_one({"name": "User 70"})["_id"])
    second = admin_client_.get(URL, {"page": 2, "after": after})
    third = admin_client_.get(URL, {"page": 3, "after": second.context["next_after"]})
    assert [names(first), names(second), names(third)] == by_skip
    back = admin_client_.get(URL, {"page": 2, "before": third.context["previous_before"]})
    assert names(back) == by_skip[1] and back.context["has_next"]
    assert f"after={after}" in first.content.decode()


def test_jump_to_a_page_number_keeps_the_search(admin_client_, many):
    response = admin_client_.get(URL, {"q": "user", "page": 2})
    assert response.context["page_number"] == 2 and len(response.context["rows"]) == 50
    assert 'name="q" value="user"' in response.content.decode()


def test_jump_to_a_document_by_id_or_by_key(admin_client_, many):
    stored = many.find_one({"email": "user7@example.com"})
    by_id = admin_client_.get(URL, {"go": str(stored["_id"])})
    assert by_id.status_code == 302 and by_id["Location"] == f"{URL}documents/{stored['_id']}/"
    by_key = admin_client_.get(URL, {"go": "  USER7@example.com "})
    assert by_key["Location"] == f"{URL}documents/{stored['_id']}/"
    missing = admin_client_.get(URL, {"go": "nobody@example.com"})
    assert missing.status_code == 404
    assert "No document of users has the id or email &#x27;nobody@example.com&#x27;." in missing.content.decode()


def test_columns_are_chosen_per_collection_and_remembered(admin_client_, many):
    default = admin_client_.get(URL)
    assert default.context["columns"] == ["id", "name", "email", "age", "status", "tier", "total_spent", "is_active"]
    chosen = admin_client_.get(URL, {"columns": "1", "cols": ["email", "last_login", "nope"]})
    assert chosen.context["columns"] == ["id", "email", "last_login"]
    assert admin_client_.get(URL).context["columns"] == ["id", "email", "last_login"]
    other = admin_client_.get("/admin/bulk/collections/page_stats/")
    assert other.context["columns"] == ["id", "page", "view_count", "last_updated"]
    reset = admin_client_.get(URL, {"columns": "1"})
    assert reset.context["columns"] == default.context["columns"]


def test_header_is_sticky_and_rows_link_to_their_document(admin_client_, many):
    page = admin_client_.get(URL).content.decode()
    stored = many.find_one({"name": "User 119"})
    assert 'class="bulk-sticky"' in page and "position: sticky" in page
    assert f'href="{URL}documents/{stored["_id"]}/" class="bulk-doc-link">{stored["_id"]}</a>' in page


def test_document_with_a_text_id(admin_client_, db):
    db.page_stats.insert_one({"_id": "home", "page": "/", "view_count": 3})
    bulk_insert(PageStats, [{"page": "/docs"}], db=db)
    response = admin_client_.get("/admin/bulk/collections/page_stats/documents/home/")
    assert response.context["label"] == "/" and '"_id": "home"' in response.context["stored"]


def test_a_read_over_the_time_limit_says_so_instead_of_waiting(admin_client_, db, settings):
    """The log messages are not indexed: their search scans a window of 10,000 documents, which
    takes far more than 1 ms (an indexed search could answer within it)."""
    logs = [{"level": "info", "message": f"request {number} served"} for number in range(20_000)]
    bulk_insert(ApplicationLog, logs, db=db)
    settings.BULKADMIN_USER_READ_MAX_TIME_MS = 1
    response = admin_client_.get("/admin/bulk/collections/application_logs/", {"q": "nothing like this"})
    assert response.status_code == 200 and response.context["rows"] == []
    assert "The query took longer than 0.001 s and was stopped: narrow it" in response.context["error"]


def test_a_search_over_several_fields_offers_its_first_twenty_pages(admin_client_, many):
    response = admin_client_.get(URL, {"q": "user", "page": 21})
    assert "A search shows its first 20 pages" in response.context["error"]
    assert len(admin_client_.get(URL, {"q": "user", "page": 3}).context["rows"]) == 20
