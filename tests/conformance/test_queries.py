"""Query semantics bulkadmin relies on (MongoDB manual: "Query for Null or Missing Fields",
`$in`, `$ne`, `$exists`): `find`, `count_documents` and `update_many` agree."""

from __future__ import annotations

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError


@pytest.fixture
def nulls(coll):
    coll.insert_many([{"_id": 1, "x": None}, {"_id": 2}, {"_id": 3, "x": 5}, {"_id": 4, "x": False}])
    return coll


def _matches(coll, query) -> list[int]:
    found = sorted(d["_id"] for d in coll.find(query))
    assert coll.count_documents(query) == len(found)
    return found


def test_equality_to_null_matches_null_and_missing(nulls):
    assert _matches(nulls, {"x": None}) == [1, 2]
    assert _matches(nulls, {"x": {"$eq": None}}) == [1, 2]


def test_ne_null_excludes_null_and_missing(nulls):
    assert _matches(nulls, {"x": {"$ne": None}}) == [3, 4]
    assert _matches(nulls, {"x": {"$ne": None}, "_id": {"$gt": 0}}) == [3, 4]
    assert _matches(nulls, {"$or": [{"x": {"$ne": None}}, {"_id": 2}]}) == [2, 3, 4]


def test_update_many_with_ne_null_touches_only_present_values(nulls):
    assert nulls.update_many({"x": {"$ne": None}}, {"$set": {"flag": True}}).matched_count == 2
    assert sorted(d["_id"] for d in nulls.find({"flag": True})) == [3, 4]


def test_exists_counts_a_null_value_as_present(nulls):
    assert _matches(nulls, {"x": {"$exists": True}}) == [1, 3, 4]
    assert _matches(nulls, {"x": {"$exists": False}}) == [2]


def test_in_resolves_keys_by_value_and_type(coll):
    coll.insert_many([{"_id": 1, "key": "a"}, {"_id": 2, "key": "b"}, {"_id": 3, "key": 7}, {"_id": 4, "key": "7"}])
    assert _matches(coll, {"key": {"$in": ["a", "c"]}}) == [1]
    assert _matches(coll, {"key": {"$in": [7]}}) == [3]  # no matching across types
    assert _matches(coll, {"key": {"$in": ["7", "b"]}}) == [2, 4]
    assert _matches(coll, {"_id": {"$in": [1, 4, 99]}}) == [1, 4]


def test_find_with_in_resolves_object_id_keys(coll):
    oid = ObjectId()
    coll.insert_many([{"_id": 1, "key": oid}, {"_id": 2, "key": ObjectId()}])
    assert sorted(d["_id"] for d in coll.find({"key": {"$in": [oid]}})) == [1]


def test_count_with_in_of_object_ids_agrees_with_find(coll):
    oid = ObjectId()
    coll.insert_many([{"_id": 1, "key": oid}, {"_id": 2, "key": ObjectId()}])
    assert coll.count_documents({"key": {"$in": [oid]}}) == 1


def test_in_with_compound_keys_through_or(coll):
    coll.insert_many([{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}])
    query = {"$or": [{"a": 1, "b": "y"}, {"a": 2, "b": "x"}]}
    assert sorted((d["a"], d["b"]) for d in coll.find(query)) == [(1, "y"), (2, "x")]


@pytest.fixture
def mixed_ids(coll):
    """ObjectId `_id`s with an int and two strings among them (one that sorts like a hex id)."""
    oids = [ObjectId() for _ in range(5)]
    coll.insert_many([{"_id": oid, "n": number} for number, oid in enumerate(oids)])
    coll.insert_many([{"_id": 5, "n": 10}, {"_id": "abc", "n": 11}, {"_id": str(oids[2])[:3], "n": 12}])
    return coll, oids


def test_an_object_id_range_stays_inside_object_ids(mixed_ids):
    coll, oids = mixed_ids
    assert [d["_id"] for d in coll.find({"_id": {"$gt": oids[1]}}).sort("_id", 1)] == oids[2:]
    assert [d["_id"] for d in coll.find({"_id": {"$lte": oids[1]}}).sort("_id", 1)] == oids[:2]
    assert [d["_id"] for d in coll.find({"_id": {"$gt": oids[0], "$lt": oids[3]}, "n": {"$gte": 2}})] == oids[2:3]


def test_update_and_delete_by_object_id_in_and_range(mixed_ids):
    coll, oids = mixed_ids
    assert coll.update_many({"_id": {"$in": oids[:3]}}, {"$inc": {"n": 100}}).modified_count == 3
    assert sorted(d["n"] for d in coll.find({"n": {"$gte": 100}})) == [100, 101, 102]
    assert coll.update_many({"_id": {"$gte": oids[3]}}, {"$set": {"late": True}}).matched_count == 2
    assert coll.delete_many({"_id": {"$lt": oids[2]}}).deleted_count == 2
    assert coll.count_documents({}) == 6


def test_object_id_type_tests_on_id(mixed_ids):
    coll, oids = mixed_ids
    assert sorted(d["_id"] for d in coll.find({"_id": {"$type": "objectId"}})) == oids
    others = [d["_id"] for d in coll.find({"_id": {"$not": {"$type": "objectId"}}})]
    assert sorted(others, key=str) == sorted([5, "abc", str(oids[2])[:3]], key=str)
    assert coll.find_one({"_id": {"$not": {"$type": "objectId"}}, "n": {"$lt": 10}}) is None


@pytest.fixture
def hex_strings(coll):
    """ObjectId `_id`s among strings of 24 hex digits, one sorting below them and one above
    (MongoDB: a string is never of type objectId, and an ObjectId range holds ObjectIds only)."""
    oids = sorted(ObjectId() for _ in range(3))
    coll.insert_many([{"_id": oid, "n": number} for number, oid in enumerate(oids)])
    coll.insert_many([{"_id": "0" * 24, "n": 10}, {"_id": "f" * 24, "n": 11}])
    return coll, oids


def test_strings_of_hex_digits_are_not_object_ids(hex_strings):
    coll, oids = hex_strings
    assert sorted(d["_id"] for d in coll.find({"_id": {"$type": "objectId"}})) == oids
    assert sorted(d["_id"] for d in coll.find({"_id": {"$not": {"$type": "objectId"}}})) == ["0" * 24, "f" * 24]
    assert [d["_id"] for d in coll.find({"_id": {"$gt": oids[0]}}).sort("_id", 1)] == oids[1:]
    assert [d["_id"] for d in coll.find({"_id": {"$lte": oids[1]}}).sort("_id", 1)] == oids[:2]
    assert list(coll.find({"_id": {"$in": [ObjectId("f" * 24)]}})) == []
    assert coll.delete_many({"_id": {"$lt": oids[2]}}).deleted_count == 2
    assert sorted(d["n"] for d in coll.find()) == [2, 10, 11]


def test_writes_by_in_of_object_ids_and_integers_touch_those_documents(coll):
    """The documents with integer `_id`s are written, not those stored at that position."""
    oids = sorted(ObjectId() for _ in range(3))
    coll.insert_many([{"_id": oid, "n": number} for number, oid in enumerate(oids)] + [{"_id": 1, "n": 3}])
    assert coll.update_many({"_id": {"$in": [oids[2], 1]}}, {"$inc": {"n": 100}}).modified_count == 2
    assert sorted(d["n"] for d in coll.find()) == [0, 1, 102, 103]
    assert coll.delete_many({"_id": {"$in": [oids[1], 2]}}).deleted_count == 1
    assert sorted(d["_id"] for d in coll.find({}, {"_id": 1}) if isinstance(d["_id"], ObjectId)) == [oids[0], oids[2]]
    assert coll.delete_many({"_id": {"$in": [oids[0], 1]}}).deleted_count == 2
    assert [d["_id"] for d in coll.find()] == [oids[2]]


def test_counts_of_object_id_conditions_agree_with_find(mixed_ids):
    coll, oids = mixed_ids
    for query in ({"_id": oids[0]}, {"_id": {"$in": oids[:2]}}, {"_id": {"$gt": oids[2]}}):
        assert coll.count_documents(query) == len(list(coll.find(query))), query


def test_object_id_conditions_on_other_fields_match_object_ids_as_stored(coll):
    ref, other = ObjectId(), ObjectId()
    coll.insert_many([
        {"_id": 1, "owner": ref, "deep": {"owner": ref}, "refs": [ref], "rows": [{"by": ref}]},
        {"_id": 2, "owner": other, "deep": {"owner": other}, "refs": [other, 5], "rows": [{"by": other}]},
        {"_id": 3, "owner": str(ref), "deep": {"owner": str(ref)}, "refs": [str(ref)], "rows": [{"by": str(ref)}]},
        {"_id": 4},
    ])  # fmt: skip
    for field in ("owner", "deep.owner", "refs", "rows.by"):
        assert _found(coll, {field: ref}) == [1], field
        assert _found(coll, {field: {"$eq": ref}}) == [1], field
        assert _found(coll, {field: {"$in": [ref, ObjectId()]}}) == [1], field
        assert _found(coll, {field: {"$ne": ref}}) == [2, 3, 4], field
        assert _found(coll, {field: {"$nin": [ref]}}) == [2, 3, 4], field
    assert _found(coll, {"deep.owner": {"$ne": ref, "$exists": True}}) == [2, 3]
    assert coll.distinct("deep.owner", {"refs": ref}) == [ref]
    assert coll.find_one_and_update({"rows.by": ref}, {"$set": {"seen": True}}, projection={"_id": 1}) == {"_id": 1}
    assert coll.update_many({"deep.owner": {"$in": [ref, other]}}, {"$set": {"seen": True}}).modified_count == 1
    assert coll.delete_many({"refs": other}).deleted_count == 1
    assert _found(coll, {"seen": True}) == [1]


def _found(coll, query) -> list[int]:
    return sorted(d["_id"] for d in coll.find(query))


def test_embedded_document_ids_are_found_by_equality_in_field_order(coll):
    ids = [{"a": 1, "b": 2}, {"a": 1, "b": 3}, {"z": [1, 2]}]
    coll.insert_many([{"_id": doc_id, "n": number} for number, doc_id in enumerate(ids)])
    coll.insert_one({"_id": str(ids[0]), "n": 9})  # the text of the first `_id` is another `_id`
    assert coll.find_one({"_id": {"a": 1, "b": 3}}) == {"_id": {"a": 1, "b": 3}, "n": 1}
    assert coll.find_one({"_id": {"b": 3, "a": 1}}) is None
    assert sorted(d["n"] for d in coll.find({"_id": {"$in": [ids[0], ids[2]]}})) == [0, 2]
    assert sorted(d["n"] for d in coll.find({"_id": {"$nin": [ids[0]]}})) == [1, 2, 9]
    assert coll.update_one({"_id": ids[2]}, {"$inc": {"n": 10}}).modified_count == 1
    assert coll.delete_one({"_id": ids[0]}).deleted_count == 1
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": {"a": 1, "b": 3}})
    assert sorted(d["n"] for d in coll.find()) == [1, 9, 12]
