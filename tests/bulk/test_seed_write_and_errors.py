"""`bulk_write` with the guide's dict forms and pymongo's objects; ordered vs unordered across
batches; validation of operations."""

from __future__ import annotations

import pytest
from pymongo import DeleteOne, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError as PyMongoBulkWriteError

from bulkadmin.bulk import BulkWriteError, bulk_insert, bulk_write
from bulkadmin.core.exceptions import InvalidSpec
from project.collections import User
from tests.factories import user, users


def test_mixed_operations_insert_update_and_delete_by_id(db):
    bulk_insert(User, users(2))
    first, second = db.users.find().sort("email", 1)
    batch_updates = [
        {"action": "insert", "data": {"name": "New User", "email": "new@example.com"}},
        {"action": "update", "data": {"id": str(first["_id"]), "name": "Updated Name"}},
        {"action": "delete", "data": {"id": second["_id"]}},
    ]
    operations = []
    for update in batch_updates:
        data = update["data"]
        if update["action"] == "insert":
            operations.append({"insert_one": {"document": data}})
        elif update["action"] == "update":
            operations.append({"update_one": {"filter": {"id": data["id"]}, "update": {"$set": data}, "upsert": False}})
        else:
            operations.append({"delete_one": {"filter": {"id": data["id"]}}})
    # The guide's `$set` includes `id`; ours rejects changing the id, so the example drops it.
    operations[1]["update_one"]["update"]["$set"].pop("id")
    result = bulk_write(User, operations)
    assert (result.inserted_count, result.modified_count, result.deleted_count) == (1, 1, 1)
    assert db.users.find_one({"_id": first["_id"]})["name"] == "Updated Name"
    assert db.users.find_one({"_id": second["_id"]}) is None
    assert db.users.find_one({"email": "new@example.com"})["status"] == "active"


def test_pymongo_operation_objects_are_checked_like_dicts(db):
    result = bulk_write(
        User,
        [
            InsertOne(user(1)),
            UpdateOne({"email": "user1@example.com"}, {"$inc": {"age": 1}}),
            DeleteOne({"email": "x@y.z"}),
        ],
    )
    assert (result.inserted_count, result.modified_count, result.deleted_count) == (1, 1, 0)
    assert db.users.find_one()["age"] == 22
    with pytest.raises(BulkWriteError, match=r"\$where"):
        bulk_write(User, [DeleteOne({"$where": "true"})])


def test_partial_set_is_validated_field_by_field(db):
    bulk_insert(User, users(2))
    operations = [
        {"update_one": {"filter": {"email": "user0@example.com"}, "update": {"$set": {"age": 41}}}},
        {"update_one": {"filter": {"email": "user1@example.com"}, "update": {"$set": {"age": "old"}}}},
        {"update_one": {"filter": {"email": "user1@example.com"}, "update": {"$set": {"nickname": "x"}}}},
        {"insert_one": {"document": {"name": "No Email"}}},
    ]
    result = bulk_write(User, operations, ordered=False, raise_on_error=False)
    assert result.modified_count == 1
    assert [(e.index, e.field) for e in result.errors] == [(1, "age"), (2, "nickname"), (3, "email")]
    assert db.users.find_one({"email": "user0@example.com"})["age"] == 41
    assert db.users.find_one({"email": "user1@example.com"})["age"] == 21


@pytest.mark.parametrize("operator", ["$where", "$function", "$accumulator", "$expr"])
def test_unsafe_filter_operators_are_rejected_before_anything_is_written(db, operator):
    bulk_insert(User, users(1))
    with pytest.raises(BulkWriteError) as caught:
        bulk_write(User, [{"delete_many": {"filter": {operator: "function() { return true; }"}}}])
    assert operator in caught.value.details["writeErrors"][0]["errmsg"]
    assert db.users.count_documents({}) == 1


def _five_batches_with_duplicates_in_the_third() -> list[dict]:
    data = users(50)  # batches of 10: the third holds indexes 20-29
    data[22]["email"] = "user3@example.com"
    data[25]["email"] = "user4@example.com"
    return data


def test_ordered_insert_stops_at_first_duplicate_across_batches(db):
    with pytest.raises(BulkWriteError) as caught:
        bulk_insert(User, _five_batches_with_duplicates_in_the_third(), batch_size=10, ordered=True)
    error = caught.value
    assert isinstance(error, PyMongoBulkWriteError)
    assert error.details["nInserted"] == 22
    assert [e["index"] for e in error.details["writeErrors"]] == [22]
    assert error.details["writeErrors"][0]["code"] == 11000
    assert error.result.skipped == 27  # every row after the failed one, read but never written
    assert error.result.rows == 50
    assert db.users.count_documents({}) == 22


def test_unordered_insert_attempts_every_row_across_batches(db):
    with pytest.raises(BulkWriteError) as caught:
        bulk_insert(User, _five_batches_with_duplicates_in_the_third(), batch_size=10, ordered=False)
    details = caught.value.details
    assert details["nInserted"] == 48
    assert [e["index"] for e in details["writeErrors"]] == [22, 25]
    assert db.users.count_documents({}) == 48


def test_ordered_insert_stops_at_first_invalid_row(db):
    data = users(10)
    data[6]["age"] = "x"
    result = bulk_insert(User, data, batch_size=4, ordered=True, raise_on_error=False)
    assert (result.inserted, result.failed, result.skipped, result.rows) == (6, 1, 3, 10)
    assert db.users.count_documents({}) == 6


def test_unknown_options_and_bad_batch_sizes_are_named(db):
    with pytest.raises(TypeError, match="'batchsize'"):
        bulk_insert(User, users(1), batchsize=10)
    with pytest.raises(InvalidSpec, match="batch_size must be a positive integer"):
        bulk_insert(User, users(1), batch_size=0)
    assert db.users.count_documents({}) == 0
