"""The guide's update, upsert and delete examples, with exact counts and stored documents."""

from __future__ import annotations

import datetime as dt

from bulkadmin.bulk import bulk_delete, bulk_insert, bulk_update
from project.collections import User
from tests.factories import days_ago, user


def test_basic_bulk_update_sets_status_by_age(db):
    bulk_insert(User, [user(i, age=age) for i, age in enumerate([18, 29, 30, 31, 45])])
    updates = [
        {"filter": {"age": {"$lt": 30}}, "update": {"$set": {"status": "young"}}},
        {"filter": {"age": {"$gte": 30}}, "update": {"$set": {"status": "mature"}}},
    ]
    result = bulk_update(User, updates)
    assert result.matched_count == 5
    assert result.modified_count == 5
    assert db.users.count_documents({"status": "young"}) == 2
    assert db.users.count_documents({"status": "mature"}) == 3
    assert bulk_update(User, updates).modified_count == 0  # already set: matched, not modified


def test_tier_update_applies_every_entry_to_many_documents(db):
    spent = [0, 99.99, 100, 499.99, 500, 999.99, 1000, 5000]
    bulk_insert(User, [user(i, total_spent=amount) for i, amount in enumerate(spent)])
    updates = [
        {
            "filter": {"total_spent": {"$gte": 1000}},
            "update": {"$set": {"tier": "platinum", "discount": 0.15}},
        },
        {
            "filter": {"total_spent": {"$gte": 500, "$lt": 1000}},
            "update": {"$set": {"tier": "gold", "discount": 0.10}},
        },
        {
            "filter": {"total_spent": {"$gte": 100, "$lt": 500}},
            "update": {"$set": {"tier": "silver", "discount": 0.05}},
        },
        {"filter": {"total_spent": {"$lt": 100}}, "update": {"$set": {"tier": "bronze", "discount": 0.0}}},
    ]
    result = bulk_update(User, updates)
    assert result.modified_count == 8
    tiers = {doc["total_spent"]: (doc["tier"], doc["discount"]) for doc in db.users.find()}
    assert tiers == {
        0: ("bronze", 0.0),
        99.99: ("bronze", 0.0),
        100: ("silver", 0.05),
        499.99: ("silver", 0.05),
        500: ("gold", 0.10),
        999.99: ("gold", 0.10),
        1000: ("platinum", 0.15),
        5000: ("platinum", 0.15),
    }


def test_upserts_are_counted_as_upserts_and_modifications(db):
    bulk_insert(User, [user(1, external_id=1), user(2, external_id=2)])
    external_users = [
        {"id": 1, "name": "Renamed One", "email": "user1@example.com"},
        {"id": 2, "name": "User 2", "email": "user2@example.com"},
        {"id": 3, "name": "Three", "email": "three@example.com"},
        {"id": 4, "name": "Four", "email": "four@example.com"},
    ]
    synced_at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    upserts = [
        {
            "filter": {"external_id": data["id"]},
            "update": {"$set": {"name": data["name"], "email": data["email"], "last_sync": synced_at}},
            "upsert": True,
        }
        for data in external_users
    ]
    result = bulk_update(User, upserts)
    assert result.upserted_count == 2
    assert result.modified_count == 2  # last_sync changes on both existing users
    assert sorted(result.upserted_ids) == [2, 3]  # global indexes of the entries that upserted
    assert db.users.count_documents({}) == 4
    created = db.users.find_one({"external_id": 3})
    assert created["_id"] == result.upserted_ids[2]
    assert created["name"] == "Three"
    assert created["last_sync"] == synced_at
    assert db.users.find_one({"external_id": 1})["name"] == "Renamed One"


def test_basic_bulk_delete_removes_inactive_and_long_absent_users(db):
    old_date = days_ago(365)
    bulk_insert(
        User,
        [
            user(1, is_active=False),
            user(2, last_login=days_ago(400)),
            user(3, last_login=days_ago(10)),
            user(4, is_active=False, last_login=days_ago(500)),
            user(5),
        ],
    )
    deletes = [{"filter": {"is_active": False}}, {"filter": {"last_login": {"$lt": old_date}}}]
    result = bulk_delete(User, deletes)
    assert result.deleted_count == 3
    assert sorted(doc["email"] for doc in db.users.find()) == ["user3@example.com", "user5@example.com"]


def test_conditional_delete_of_unverified_inactive_and_soft_deleted_users(db):
    bulk_insert(
        User,
        [
            user(1, is_verified=False, created_at=days_ago(31)),  # deleted: unverified, old
            user(2, is_verified=False, created_at=days_ago(29)),  # kept: unverified, recent
            user(3, is_verified=True, created_at=days_ago(90)),  # kept
            user(4, is_verified=True, is_active=False, last_login=days_ago(366)),  # deleted
            user(5, is_verified=True, is_active=False, last_login=days_ago(364)),  # kept
            user(6, is_verified=True, status="deleted"),  # deleted
        ],
    )
    thirty_days_ago, one_year_ago = days_ago(30), days_ago(365)
    deletes = [
        {"filter": {"is_verified": False, "created_at": {"$lt": thirty_days_ago}}},
        {"filter": {"is_active": False, "last_login": {"$lt": one_year_ago}}},
        {"filter": {"status": "deleted"}},
    ]
    assert bulk_delete(User, deletes).deleted_count == 3
    assert sorted(doc["name"] for doc in db.users.find()) == ["User 2", "User 3", "User 5"]


def test_filter_values_are_typed_by_the_model(db):
    bulk_insert(User, [user(1, last_login=days_ago(400)), user(2, last_login=days_ago(1))])
    cutoff = days_ago(365).isoformat()  # a string, as a form or JSON would send it
    result = bulk_update(User, [{"filter": {"last_login": {"$lt": cutoff}}, "update": {"$set": {"age": "70"}}}])
    assert result.modified_count == 1
    assert db.users.find_one({"email": "user1@example.com"})["age"] == 70


def test_documents_created_by_upserts_get_the_model_defaults(db):
    upsert = {
        "filter": {"external_id": 7},
        "update": {"$set": {"name": "Seven", "email": "s@example.com"}},
        "upsert": True,
    }
    result = bulk_update(User, [upsert])
    created = db.users.find_one({"_id": result.upserted_ids[0]})
    assert User.from_document(created).status == "active"  # the stored document is a valid User
    assert (created["external_id"], created["is_active"], created["tags"], created["tier"]) == (7, True, [], None)
    assert isinstance(created["created_at"], dt.datetime)
    assert "_id" in created
