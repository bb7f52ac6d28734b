"""Write results and write errors: their shape, codes and indexes (MongoDB manual: "Write
Errors", `db.collection.bulkWrite()`, "Unique Indexes")."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

DUPLICATE_KEY = 11000


@pytest.fixture
def unique_email(coll):
    coll.create_index([("email", ASCENDING)], unique=True)
    coll.insert_one({"email": "a@example.com"})
    return coll


def test_bulk_write_error_details_have_the_documented_fields(unique_email):
    with pytest.raises(BulkWriteError) as caught:
        unique_email.bulk_write([InsertOne({"email": "b@example.com"}), InsertOne({"email": "a@example.com"})])
    details = caught.value.details
    assert {"nInserted", "nUpserted", "nMatched", "nModified", "nRemoved", "upserted", "writeErrors"} <= set(details)
    assert details["nInserted"] == 1
    [error] = details["writeErrors"]
    assert (error["index"], error["code"]) == (1, DUPLICATE_KEY)
    assert isinstance(error["errmsg"], str) and error["errmsg"]


def test_duplicate_key_error_names_the_key_pattern_and_value(unique_email):
    with pytest.raises(BulkWriteError) as caught:
        unique_email.bulk_write([InsertOne({"email": "a@example.com"})])
    [error] = caught.value.details["writeErrors"]
    assert error["keyPattern"] == {"email": 1}
    assert error["keyValue"] == {"email": "a@example.com"}


def test_duplicate_key_message_starts_with_e11000(unique_email):
    with pytest.raises(DuplicateKeyError) as caught:
        unique_email.insert_one({"email": "a@example.com"})
    assert str(caught.value.details["errmsg"]).startswith("E11000 duplicate key error")


def test_ordered_bulk_write_stops_at_the_first_error(unique_email):
    requests = [InsertOne({"email": f"{n}@example.com"}) for n in range(3)]
    requests.insert(1, InsertOne({"email": "a@example.com"}))
    with pytest.raises(BulkWriteError) as caught:
        unique_email.bulk_write(requests, ordered=True)
    details = caught.value.details
    assert details["nInserted"] == 1
    assert [e["index"] for e in details["writeErrors"]] == [1]
    assert unique_email.count_documents({}) == 2


def test_unordered_bulk_write_attempts_every_operation(unique_email):
    requests = [InsertOne({"email": "a@example.com"}), InsertOne({"email": "x@example.com"})]
    requests.append(InsertOne({"email": "x@example.com"}))
    with pytest.raises(BulkWriteError) as caught:
        unique_email.bulk_write(requests, ordered=False)
    details = caught.value.details
    assert details["nInserted"] == 1
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(0, DUPLICATE_KEY), (2, DUPLICATE_KEY)]


def test_an_update_that_duplicates_a_unique_key_fails_with_11000(unique_email):
    unique_email.insert_one({"email": "b@example.com"})
    with pytest.raises(BulkWriteError) as caught:
        unique_email.bulk_write([UpdateOne({"email": "b@example.com"}, {"$set": {"email": "a@example.com"}})])
    [error] = caught.value.details["writeErrors"]
    assert (error["index"], error["code"]) == (0, DUPLICATE_KEY)
    assert unique_email.count_documents({"email": "b@example.com"}) == 1


def test_set_of_the_same_value_matches_but_modifies_nothing(coll):
    coll.insert_one({"_id": 1, "name": "Ann", "age": 30})
    result = coll.bulk_write([UpdateOne({"_id": 1}, {"$set": {"name": "Ann", "age": 30}})])
    assert (result.matched_count, result.modified_count) == (1, 0)
    result = coll.bulk_write([UpdateOne({"_id": 1}, {"$set": {"age": 31}})])
    assert (result.matched_count, result.modified_count) == (1, 1)


def test_upserts_report_their_index_and_id(coll):
    coll.insert_one({"key": "old"})
    result = coll.bulk_write(
        [
            UpdateOne({"key": "old"}, {"$set": {"seen": True}}, upsert=True),
            UpdateOne({"key": "new"}, {"$set": {"seen": True}}, upsert=True),
        ]
    )
    assert (result.matched_count, result.modified_count, result.upserted_count) == (1, 1, 1)
    [(index, upserted_id)] = result.upserted_ids.items()
    assert index == 1
    created = coll.find_one({"_id": upserted_id})
    assert (created["key"], created["seen"]) == ("new", True)  # the filter's equality is part of it


def test_set_on_insert_applies_only_when_an_upsert_inserts(coll):
    coll.insert_one({"key": "old", "origin": "first"})
    for key in ("old", "new"):
        coll.update_one({"key": key}, {"$set": {"seen": True}, "$setOnInsert": {"origin": "upsert"}}, upsert=True)
    assert {d["key"]: d["origin"] for d in coll.find()} == {"old": "first", "new": "upsert"}


def test_inc_on_an_upsert_creates_the_field_with_the_increment(coll):
    coll.update_one({"page": "/"}, {"$inc": {"views": 3}}, upsert=True)
    assert coll.find_one({"page": "/"})["views"] == 3


def test_mul_on_an_upsert_creates_a_zero(coll):
    coll.update_one({"page": "/"}, {"$mul": {"views": 3}}, upsert=True)
    assert coll.find_one({"page": "/"})["views"] == 0


def test_delete_many_reports_the_deleted_count(coll):
    coll.insert_many([{"n": n} for n in range(5)])
    assert coll.delete_many({"n": {"$gte": 3}}).deleted_count == 2
    assert coll.count_documents({}) == 3


def test_an_insert_over_16_mib_fails_alone_and_stores_nothing(coll):
    too_large = {"n": 1, "text": "x" * (16 * 1024 * 1024)}
    with pytest.raises(BulkWriteError) as raised:
        coll.insert_many([{"n": 0}, too_large, {"n": 2}], ordered=False)
    assert [error["index"] for error in raised.value.details["writeErrors"]] == [1]
    assert raised.value.details["nInserted"] == 2
    assert sorted(doc["n"] for doc in coll.find()) == [0, 2]
    coll.insert_one({"n": 3, "text": "x" * (16 * 1024 * 1024 - 100)})
    assert coll.count_documents({}) == 3
