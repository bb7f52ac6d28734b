"""`bulk_upsert`: key resolution with one read per batch, exact created / updated / unchanged."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert, bulk_upsert
from bulkadmin.core.exceptions import InvalidSpec
from project.collections import User
from tests.factories import user, users


def test_merge_counts_created_updated_unchanged_and_sets_only_given_fields(db):
    bulk_insert(User, users(3))
    rows = [
        {"email": "user0@example.com", "age": 99},  # updated
        {"email": "USER1@example.com", "age": 21},  # unchanged (email normalised, same age)
        {"email": "new@example.com", "name": "New"},  # created
    ]
    result = bulk_upsert(User, rows)
    assert (result.created, result.updated, result.unchanged, result.failed) == (1, 1, 1, 0)
    assert result.rows == result.created + result.updated + result.unchanged
    assert db.users.count_documents({}) == 4
    assert db.users.find_one({"email": "user0@example.com"})["name"] == "User 0"  # untouched by merge
    assert db.users.find_one({"email": "user0@example.com"})["age"] == 99
    assert result.upserted_ids[2] == db.users.find_one({"email": "new@example.com"})["_id"]


def test_merge_rejects_a_new_row_missing_required_fields(db):
    result = bulk_upsert(User, [{"email": "a@example.com"}], raise_on_error=False)
    assert [(e.index, e.field) for e in result.errors] == [(0, "name")]
    assert db.users.count_documents({}) == 0


def test_replace_rewrites_whole_documents_and_keeps_ids(db):
    bulk_insert(User, [user(1, age=30, tier="gold")])
    original = db.users.find_one()
    result = bulk_upsert(
        User,
        [{"name": "Replaced", "email": "user1@example.com", "created_at": original["created_at"]}],
        mode="replace",
    )
    assert (result.created, result.updated) == (0, 1)
    replaced = db.users.find_one()
    assert replaced["_id"] == original["_id"]
    assert (replaced["name"], replaced["age"], replaced["tier"]) == ("Replaced", None, None)
    again = bulk_upsert(
        User,
        [{"name": "Replaced", "email": "user1@example.com", "created_at": original["created_at"]}],
        mode="replace",
    )
    assert again.unchanged == 1


def test_delete_mode_removes_by_key_and_counts_missing_as_unchanged(db):
    bulk_insert(User, users(3))
    result = bulk_upsert(User, [{"email": "user1@example.com"}, {"email": "nobody@example.com"}], mode="delete")
    assert (result.deleted, result.unchanged) == (1, 1)
    assert db.users.count_documents({}) == 2


def test_duplicate_keys_within_a_batch_apply_in_order(db):
    rows = [
        user(1, age=30),
        {"email": "user1@example.com", "age": 31},
        {"email": "user1@example.com", "age": 31},
    ]
    result = bulk_upsert(User, rows, batch_size=10)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert db.users.find_one()["age"] == 31


def test_dry_run_counts_without_writing(db):
    bulk_insert(User, users(2))
    result = bulk_upsert(User, [{"email": "user0@example.com", "age": 50}, user(9)], dry_run=True)
    assert (result.created, result.updated, result.dry_run) == (1, 1, True)
    assert db.users.count_documents({}) == 2
    assert db.users.find_one({"email": "user0@example.com"})["age"] == 20


def test_pre_images_are_handed_over_before_writes(db):
    bulk_insert(User, users(2))
    seen = []
    bulk_upsert(User, [{"email": "user0@example.com", "age": 70}, user(5)], on_pre_images=seen.extend)
    assert [(doc["email"], doc["age"]) for doc in seen] == [("user0@example.com", 20)]


def test_concurrent_insert_of_same_key_is_retried_as_update(db):
    """A document that appears between the key read and the insert is updated, not duplicated."""
    from bulkadmin.bulk.upserts import UpsertPlan

    plan = UpsertPlan(User, key_fields=("email",), mode="merge", ordered=True)
    steps = plan.batch(plan.prepare([(0, user(1, age=40))]))
    find = next(steps)
    existing = list(db.users.find(find.filter))
    write = steps.send(existing)  # nothing exists yet: the plan asks to insert
    db.users.insert_one(User(**user(1, age=20)).to_document())  # another client wins the race
    try:
        outcome = db.users.bulk_write(write.requests, ordered=True).bulk_api_result
    except Exception as error:  # pymongo's BulkWriteError carries the outcome
        outcome = error.details
    retry_find = steps.send(outcome)
    retry_write = steps.send(list(db.users.find(retry_find.filter)))
    db.users.bulk_write(retry_write.requests)
    with pytest.raises(StopIteration):
        steps.send({"nModified": 1, "nMatched": 1, "writeErrors": []})
    result = plan.finish(0.0)
    assert (result.created, result.updated, result.failed) == (0, 1, 0)
    assert db.users.count_documents({}) == 1
    assert db.users.find_one()["age"] == 40


def test_unknown_key_field_is_reported(db):
    with pytest.raises(InvalidSpec, match="nickname"):
        bulk_upsert(User, [user(1)], key_fields=["nickname"])


def test_merge_sets_only_the_sub_fields_it_is_given(db):
    bulk_insert(User, [user(1, profile={"bio": "old", "avatar_url": "https://example.com/a.png"}), user(2)])
    rows = [
        {"email": "user1@example.com", "profile": {"bio": "new"}},  # keeps avatar_url
        {"email": "user2@example.com", "profile": {"bio": "first"}},  # profile was null: set whole
        {"email": "user3@example.com", "name": "Three", "profile": {"bio": "created"}},
    ]
    result = bulk_upsert(User, rows)
    assert (result.updated, result.created) == (2, 1)
    profiles = {d["email"]: d["profile"] for d in db.users.find()}
    assert profiles == {
        "user1@example.com": {"bio": "new", "avatar_url": "https://example.com/a.png"},
        "user2@example.com": {"bio": "first", "avatar_url": None},
        "user3@example.com": {"bio": "created", "avatar_url": None},
    }
    assert bulk_upsert(User, rows).unchanged == 3


def test_merge_names_an_invalid_sub_field(db):
    bulk_insert(User, [user(1)])
    result = bulk_upsert(User, [{"email": "user1@example.com", "profile": {"bio": 5, "nope": 1}}], raise_on_error=False)
    assert sorted(e.field for e in result.errors[0].field_errors) == ["profile.bio", "profile.nope"]


def test_merge_of_booleans_stores_booleans(db):
    """`$set` of a boolean on an existing document stays a boolean (not 0 / 1) on every server."""
    bulk_insert(User, [user(1), user(2, is_verified=True)])
    rows = [
        {"email": "user1@example.com", "is_active": False, "is_verified": True},
        {"email": "user2@example.com", "is_verified": False},
    ]
    assert bulk_upsert(User, rows).updated == 2
    stored = {d["email"]: (d["is_active"], d["is_verified"]) for d in db.users.find()}
    assert stored == {"user1@example.com": (False, True), "user2@example.com": (True, False)}
    assert all(type(value) is bool for pair in stored.values() for value in pair)
