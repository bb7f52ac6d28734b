"""An update with `upsert: True` creates only documents the model accepts: the document MongoDB
would insert (filter equalities + update + defaults) is validated first."""

from __future__ import annotations

import datetime as dt

import pytest

from bulkadmin.bulk import BulkWriteError, bulk_insert, bulk_update, bulk_write
from project.collections import PageStats, User, UserSession
from tests.factories import NOW, user


def test_upsert_without_a_required_field_is_a_rejected_row(db):
    spec = {"filter": {"token": "t1"}, "update": {"$set": {"user_id": None}}, "upsert": True}
    with pytest.raises(BulkWriteError) as caught:
        bulk_update(UserSession, [spec])
    [error] = caught.value.result.errors
    assert (error.index, error.code, error.field) == (0, 121, "expires_at")
    assert "upsert would create" in error.message
    assert db.user_sessions.count_documents({}) == 0


def test_bulk_write_upsert_that_would_create_a_user_without_name_or_email_is_rejected(db):
    operation = {"update_one": {"filter": {"external_id": 7}, "update": {"$set": {"age": 3}}, "upsert": True}}
    result = bulk_write(User, [operation], raise_on_error=False)
    [error] = result.errors
    assert error.code == 121
    assert sorted(e.field for e in error.field_errors) == ["email", "name"]
    assert result.details()["writeErrors"][0]["code"] == 121
    assert db.users.count_documents({}) == 0


def test_invalid_upsert_is_rejected_even_when_a_document_matches(db):
    """Whether the filter matches is only known at write time, so the row is judged on what it
    could create; the rest of the batch is written."""
    bulk_insert(User, [user(1, external_id=7)])
    specs = [
        {"filter": {"external_id": 7}, "update": {"$set": {"age": 3}}, "upsert": True},
        {"filter": {"external_id": 8}, "update": {"$set": {"age": 4}}},
    ]
    result = bulk_update(User, specs, ordered=False, raise_on_error=False)
    assert [e.index for e in result.errors] == [0]
    assert db.users.find_one({"external_id": 7})["age"] == 21


def test_filter_equalities_and_set_on_insert_complete_the_created_document(db):
    specs = [
        {
            "filter": {"$and": [{"token": "t1"}, {"expires_at": {"$eq": NOW}}]},
            "update": {"$set": {"user_id": None}},
            "upsert": True,
        },
        {
            "filter": {"token": "t2"},
            "update": {"$setOnInsert": {"expires_at": NOW}, "$currentDate": {"created_at": True}},
            "upsert": True,
        },
    ]
    result = bulk_update(UserSession, specs)
    assert (result.upserted, result.failed) == (2, 0)
    stored = {d["token"]: d for d in db.user_sessions.find()}
    assert stored["t1"]["expires_at"] == NOW
    assert stored["t2"]["expires_at"] == NOW


def test_upsert_with_inc_beyond_a_constraint_is_rejected(db):
    specs = [
        {"filter": {"page": "/a"}, "update": {"$inc": {"view_count": 2}}, "upsert": True},
        {"filter": {"page": "/b"}, "update": {"$inc": {"view_count": -1}}, "upsert": True},
        {"filter": {"page": "/c"}, "update": {"$max": {"view_count": 5}}, "upsert": True},
    ]
    result = bulk_update(PageStats, specs, ordered=False, raise_on_error=False)
    assert [(e.index, e.field) for e in result.errors] == [(1, "view_count")]
    assert {d["page"]: d["view_count"] for d in db.page_stats.find()} == {"/a": 2, "/c": 5}


def test_valid_upsert_still_creates_a_valid_user(db):
    spec = {
        "filter": {"email": "new@example.com"},
        "update": {"$set": {"name": "New"}, "$push": {"tags": "vip"}, "$unset": {"tier": ""}},
        "upsert": True,
    }
    result = bulk_update(User, [spec])
    created = db.users.find_one({"_id": result.upserted_ids[0]})
    assert User.from_document(created).tags == ["vip"]
    assert isinstance(created["created_at"], dt.datetime)
