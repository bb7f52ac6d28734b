"""Indexes bulkadmin declares (MongoDB manual: "TTL Indexes", "Unique Indexes")."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DocumentTooLarge, DuplicateKeyError, OperationFailure


def _index_on(coll, field: str) -> dict:
    [index] = [info for info in coll.index_information().values() if info["key"] == [(field, 1)]]
    return index


def test_ttl_index_shows_expire_after_seconds(coll):
    coll.create_index([("expires_at", ASCENDING)], expireAfterSeconds=3600)
    assert _index_on(coll, "expires_at")["expireAfterSeconds"] == 3600


def test_index_is_listed_under_the_name_create_index_returns(coll):
    name = coll.create_index([("expires_at", ASCENDING)], expireAfterSeconds=3600)
    assert coll.index_information()[name]["expireAfterSeconds"] == 3600


def test_indexes_are_listed_by_name_with_their_directions_and_dropped_by_name(coll):
    coll.create_index([("a", ASCENDING), ("b", DESCENDING)])
    coll.create_index([("c", ASCENDING)], name="by_c")
    listed = {name: info["key"] for name, info in coll.index_information().items()}
    assert listed == {"_id_": [("_id", 1)], "a_1_b_-1": [("a", 1), ("b", -1)], "by_c": [("c", 1)]}
    coll.drop_index("by_c")
    assert list(coll.index_information()) == ["_id_", "a_1_b_-1"]
    coll.drop_indexes()
    assert list(coll.index_information()) == ["_id_"]


def test_unique_index_is_listed_as_unique_and_refuses_duplicates(coll):
    coll.create_index([("email", ASCENDING)], unique=True)
    assert _index_on(coll, "email").get("unique") is True
    coll.insert_one({"email": "a@example.com"})
    with pytest.raises(DuplicateKeyError) as caught:
        coll.insert_one({"email": "a@example.com"})
    assert caught.value.code == 11000
    assert coll.count_documents({}) == 1


def test_compound_unique_index_allows_each_part_to_repeat(coll):
    coll.create_index([("a", ASCENDING), ("b", ASCENDING)], unique=True)
    coll.insert_many([{"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 2, "b": 1}])
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"a": 1, "b": 2})


def test_creating_an_index_that_exists_is_a_no_op(coll):
    first = coll.create_index([("email", ASCENDING)], unique=True)
    assert coll.create_index([("email", ASCENDING)], unique=True) == first


def test_unique_index_over_duplicates_fails_with_11000(coll):
    coll.insert_many([{"email": "a@example.com"}, {"email": "a@example.com"}])
    with pytest.raises(OperationFailure) as caught:
        coll.create_index([("email", ASCENDING)], unique=True)
    assert caught.value.code == 11000


def test_a_document_over_16_megabytes_is_refused(coll):
    with pytest.raises(DocumentTooLarge):
        coll.insert_one({"blob": "x" * (17 * 1024 * 1024)})
    assert coll.count_documents({}) == 0


def test_a_unique_index_holds_one_document_without_the_key(coll):
    coll.create_index([("email", ASCENDING)], unique=True)
    coll.insert_one({"name": "no email"})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"name": "no email either"})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"email": None})
    assert coll.count_documents({}) == 1


def test_a_compound_unique_index_holds_one_document_with_a_null_part(coll):
    coll.create_index([("tenant", ASCENDING), ("code", ASCENDING)], unique=True)
    coll.insert_many([{"tenant": "a", "code": None}, {"tenant": "b", "code": None}, {"tenant": "a", "code": "x"}])
    with pytest.raises(DuplicateKeyError) as caught:
        coll.insert_one({"tenant": "a"})
    assert caught.value.details["keyValue"] == {"tenant": "a", "code": None}
    assert coll.count_documents({}) == 3


def test_a_sparse_unique_index_holds_any_number_of_documents_without_the_key(coll):
    coll.create_index([("email", ASCENDING)], unique=True, sparse=True)
    coll.insert_many([{"name": "one"}, {"name": "two"}])
    assert coll.count_documents({}) == 2


def test_a_dropped_unique_index_no_longer_refuses_documents_without_the_key(coll):
    name = coll.create_index([("email", ASCENDING)], unique=True)
    coll.insert_one({"name": "no email"})
    coll.drop_index(name)
    coll.insert_one({"name": "no email either"})
    assert coll.count_documents({}) == 2
