"""Validity that depends on the stored value: an update and a cleanup update rule validate each
document's result with the model and reject the ones it would make invalid, by `_id` and field."""

from __future__ import annotations

from bulkadmin.bulk import bulk_insert
from bulkadmin.operations import updates
from bulkadmin.operations.cleanup import Rule, run_cleanup
from project.collections import User
from tests.factories import NOW, users


def test_an_update_keeps_the_documents_it_leaves_valid_and_rejects_the_others(db):
    bulk_insert(User, [*users(3), {"name": "Old", "email": "old@example.com", "age": 145}], db=db)
    result = updates.run_update(model=User, filter={}, update={"$inc": {"age": 10}}, db=db)
    assert (result.counts.modified, result.counts.rejected, result.rows) == (3, 1, 4)
    assert db.users.find_one({"email": "old@example.com"})["age"] == 145
    assert sorted(doc["age"] for doc in db.users.find({"email": {"$ne": "old@example.com"}})) == [30, 31, 32]
    assert result.errors[0].field == "age" and "would be 155" in result.errors[0].message


def test_without_the_check_the_python_api_writes_what_it_is_told(db):
    bulk_insert(User, [{"name": "Old", "email": "old@example.com", "age": 145}], db=db)
    result = updates.run_update(model=User, filter={}, update={"$inc": {"age": 1}}, validate_results=False, db=db)
    assert (result.counts.modified, result.counts.rejected) == (1, 0)


def test_a_cleanup_update_rule_does_not_store_what_the_model_rejects(db):
    bulk_insert(User, [*users(2), {"name": "Old", "email": "old@example.com", "age": 149}], db=db)
    rule = Rule("age_all", User, {}, action="update", update={"$inc": {"age": 5}})
    result = run_cleanup(rules=[rule], now=NOW, db=db)
    (outcome,) = result.details["rules"]
    old = db.users.find_one({"email": "old@example.com"})
    assert (outcome.modified, old["age"]) == (2, 149)
    assert f"_id {old['_id']}: age would become invalid" in outcome.error
    assert db.users.count_documents({"age": {"$gt": 150}}) == 0


def test_a_stored_value_the_update_cannot_apply_to_rejects_that_document_only(db):
    bulk_insert(User, users(4), db=db)
    db.users.update_one({"email": "user2@example.com"}, {"$set": {"age": "forty"}})  # written around the model
    result = updates.run_update(model=User, filter={}, update={"$inc": {"age": 1}}, undo_key=7, batch_size=2, db=db)
    assert (result.rows, result.counts.modified, result.counts.rejected, result.details["undo_records"]) == (4, 3, 1, 3)
    bad = db.users.find_one({"email": "user2@example.com"})
    assert bad["age"] == "forty"
    assert sorted(doc["age"] for doc in db.users.find({"_id": {"$ne": bad["_id"]}})) == [21, 22, 24]
    (error,) = result.errors
    assert (error.index, error.field) == (2, "age")
    assert f"_id {bad['_id']}: age cannot be updated" in error.message


def test_a_cleanup_update_rule_skips_a_document_it_cannot_apply_to(db):
    bulk_insert(User, users(3), db=db)
    db.users.update_one({"email": "user1@example.com"}, {"$set": {"age": "old"}})
    rule = Rule("age_all", User, {}, action="update", update={"$inc": {"age": 1}})
    (outcome,) = run_cleanup(rules=[rule], now=NOW, db=db).details["rules"]
    assert outcome.modified == 2 and "age cannot be updated" in outcome.error
    assert db.users.find_one({"email": "user1@example.com"})["age"] == "old"
