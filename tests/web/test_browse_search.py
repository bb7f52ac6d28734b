"""The browser's search: a prefix read from the index of indexed fields (in lower case where the
field is stored so), and a bounded scan of the others that the page owns up to."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.core.documents import Index
from bulkadmin.operations.browse import Part
from bulkadmin.web import search
from bulkadmin.web.fields import indexed_fields, lower_case_fields
from bulkadmin.web.search import plan_search, prefix_range
from project.collections import AnalyticsEvent, ApplicationLog, User
from tests.factories import days_ago, users

pytestmark = pytest.mark.django_db
USERS = "/admin/bulk/collections/users/"
LOGS = "/admin/bulk/collections/application_logs/"
PEOPLE = [
    ("Ada Lovelace", "Ada.Lovelace@example.com"),  # stored as ada.lovelace@example.com
    ("Adam Smith", "adam@example.com"),
    ("ada lower", "lower@example.com"),
    ("Grace Hopper", "ADA.HOPPER@example.com"),
    ("Adele Grace", "adele@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Bad Ada", "bad.ada@example.com"),
]


@pytest.fixture
def people(db):
    bulk_insert(User, [{"name": name, "email": email} for name, email in PEOPLE], db=db)
    return db.users


@pytest.fixture
def logs(db):
    """Eight log lines, oldest first: "disk full" is the 1st, 4th and 8th."""
    messages = ["disk full", "ok", "ok", "Disk FULL again", "ok", "ok", "ok", "disk full at 3am"]
    rows = [{"message": text, "created_at": days_ago(10 - n)} for n, text in enumerate(messages)]
    bulk_insert(ApplicationLog, rows, db=db)
    return db.application_logs


def names(response) -> list[str]:
    return sorted(row[1] for row in response.context["rows"])


def messages(response) -> list[str]:
    return [row[2] for row in response.context["rows"]]


def test_prefix_range_is_the_strings_starting_with_the_prefix():
    assert prefix_range("ada") == {"$gte": "ada", "$lt": "adb"}
    assert prefix_range("a\U0010ffff") == {"$gte": "a\U0010ffff", "$lt": "b"}
    assert prefix_range("\U0010ffff") == {"$gte": "\U0010ffff"}
    assert prefix_range("x\ud7ff") == {"$gte": "x\ud7ff", "$lt": "x\ue000"}  # past the surrogates


def test_users_name_and_email_are_indexed_and_email_is_stored_lower_cased():
    assert indexed_fields(User)[:2] == ["email", "name"]
    assert lower_case_fields(User) == ["email"]
    assert indexed_fields(ApplicationLog) == ["created_at"]


def test_indexed_fields_are_searched_as_index_ranges_the_lower_cased_one_in_lower_case():
    planned = plan_search(User, "AdA")
    assert planned.parts({"status": {"$in": ["active"]}}) == [
        Part({"status": {"$in": ["active"]}, "name": {"$gte": "AdA", "$lt": "AdB"}}),
        Part({"status": {"$in": ["active"]}, "email": {"$gte": "ada", "$lt": "adb"}}),
    ]
    assert planned.notes() == [
        "From indexes (case-sensitive): name starts with “AdA”; email starts with “ada” (stored in lower case)."
    ]


def test_an_indexed_field_is_first_looked_for_among_the_newest_documents_along_id():
    window = search.Window({"$gte": "the bound"})
    name, email = plan_search(User, "A.b").parts({}, window)
    assert name == Part(
        {"name": {"$gte": "A.b", "$lt": "A.c"}},
        newest={"name": {"$regex": "^A\\.b"}, "_id": {"$gte": "the bound"}},
    )
    assert email.newest == {"email": {"$regex": "^a\\.b"}, "_id": {"$gte": "the bound"}}


def test_pages_of_a_prefix_search_are_the_same_whether_the_newest_documents_fill_them_or_not(
    admin_client_, db, monkeypatch
):
    monkeypatch.setattr(search, "NEWEST_DOCUMENTS", 60)  # page 1 (51 asked) is within them, page 2 is not
    bulk_insert(User, users(120), db=db)
    first = admin_client_.get(USERS, {"q": "User"})
    assert [row[1] for row in first.context["rows"]] == [f"User {n}" for n in range(119, 69, -1)]
    second = admin_client_.get(USERS, {"q": "User", "page": 2})
    assert [row[1] for row in second.context["rows"]] == [f"User {n}" for n in range(69, 19, -1)]
    third = admin_client_.get(USERS, {"q": "User", "page": 3})
    assert [row[1] for row in third.context["rows"]] == [f"User {n}" for n in range(19, -1, -1)]
    assert (first.context["has_next"], second.context["has_next"], third.context["has_next"]) == (True, True, False)


def test_a_field_without_an_index_is_scanned_for_the_text_anywhere_within_the_window():
    planned = plan_search(ApplicationLog, "a.b")
    window = search.Window({"$gte": "the bound"})
    assert planned.parts({}, window) == [
        Part({"message": {"$regex": "(?i)a\\.b"}, "_id": {"$gte": "the bound"}}, windowed=True)
    ]
    assert planned.notes(window) == [
        "message is not indexed: searched for “a.b” anywhere in it, in any case, in the newest 10,000 documents only."
    ]


def test_prefix_search_finds_exactly_the_names_and_the_lower_cased_emails_starting_with_it(admin_client_, people):
    found = admin_client_.get(USERS, {"q": "Ada"})
    assert names(found) == ["Ada Lovelace", "Adam Smith", "Grace Hopper"]  # names by "Ada", emails by "ada"
    typed_upper = admin_client_.get(USERS, {"q": "ADA.H"})
    assert names(typed_upper) == ["Grace Hopper"]
    lower = admin_client_.get(USERS, {"q": "ada"})
    assert names(lower) == ["Ada Lovelace", "Adam Smith", "Grace Hopper", "ada lower"]
    assert names(admin_client_.get(USERS, {"q": "Ade"})) == ["Adele Grace"]
    assert names(admin_client_.get(USERS, {"q": "Lovelace"})) == []  # a prefix, not anywhere
    page = lower.content.decode()
    assert (
        "From indexes (case-sensitive): name starts with “ada”; email starts with “ada” (stored in lower case)." in page
    )


def test_prefix_search_with_a_chosen_value_and_a_sort(admin_client_, people):
    people.update_many({"name": {"$in": ["Adam Smith", "Alan Turing"]}}, {"$set": {"status": "dormant"}})
    found = admin_client_.get(USERS, {"q": "A", "status": "dormant", "sort": "email"})
    assert [row[1] for row in found.context["rows"]] == ["Adam Smith", "Alan Turing"]
    assert found.context["error"] == ""


def test_a_field_without_an_index_is_searched_in_the_newest_documents_and_the_page_says_so(
    admin_client_, logs, monkeypatch
):
    monkeypatch.setattr(search, "NEWEST_DOCUMENTS", 5)
    found = admin_client_.get(LOGS, {"q": "disk full"})
    assert messages(found) == ["disk full at 3am", "Disk FULL again"]  # the first line is older than the newest 5
    note = (
        "message is not indexed: searched for “disk full” anywhere in it, in any case, in the newest 5 documents only."
    )
    assert found.context["search_notes"] == [note] and note in found.content.decode()
    by_date = admin_client_.get(LOGS, {"q": "disk full", "sort": "created_at"})
    assert messages(by_date) == ["Disk FULL again", "disk full at 3am"]
    assert messages(admin_client_.get(LOGS, {"q": "nothing like it"})) == []


def test_a_collection_within_the_scan_size_is_searched_whole_and_says_so(admin_client_, logs):
    found = admin_client_.get(LOGS, {"q": "DISK"})
    assert messages(found) == ["disk full at 3am", "Disk FULL again", "disk full"]
    assert found.context["search_notes"] == [
        "message is not indexed: searched for “DISK” anywhere in it, in any case, "
        "in every document (there are at most 10,000)."
    ]


def test_an_indexed_and_a_scanned_field_searched_together(admin_client_, db, monkeypatch):
    monkeypatch.setattr(search, "NEWEST_DOCUMENTS", 3)
    monkeypatch.setattr(AnalyticsEvent, "indexes", (Index((("page", 1),)),))  # page indexed, action not
    events = [
        {"type": "page_view", "page": "/docs"},
        {"type": "user_action", "action": "open /docs"},  # older than the newest 3
        {"type": "page_view", "page": "/docs/install"},
        {"type": "page_view", "page": "/blog/docs"},
        {"type": "user_action", "action": "read /DOCS/faq"},
    ]
    bulk_insert(AnalyticsEvent, events, db=db)
    found = admin_client_.get("/admin/bulk/collections/analytics_events/", {"q": "/docs"})
    assert [(row[2], row[4]) for row in found.context["rows"]] == [
        ("—", "read /DOCS/faq"),
        ("/docs/install", "—"),
        ("/docs", "—"),
    ]
    assert found.context["search_notes"] == [
        "From indexes (case-sensitive): page starts with “/docs”.",
        "action is not indexed: searched for “/docs” anywhere in it, in any case, in the newest 3 documents only.",
    ]


def test_a_search_longer_than_the_limit_is_refused_with_a_message(admin_client_, people):
    response = admin_client_.get(USERS, {"q": "a" * 201})
    assert response.context["error"] == "Search for at most 200 characters (got 201)."
