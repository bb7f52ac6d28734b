"""Filters on dotted paths match in finds, counts, updates and deletes as MongoDB matches them:
a path goes through sub-documents and the sub-documents of arrays, never through a scalar; a
numeric component also takes an array's element at that index; null matches where the path
reaches a missing field."""

from __future__ import annotations

import math

from bson import Decimal128

NUMBERED = [
    {"a": 7},
    {"a": [7]},
    {"a": {"0": 7}},
    {"a": [[7]]},
    {"a": [{"0": 7}]},
    {"a": {"0": [7]}},
    {"a": [{"0": {"0": 7}}]},
    {"a": [[{"0": 7}]]},
    {"a": [5, 7]},
]

NULLS = [
    {"a": 4},
    {"a": None},
    {},
    {"a": {}},
    {"a": {"b": None}},
    {"a": {"b": "hi"}},
    {"a": []},
    {"a": [1, "s"]},
    {"a": [[]]},
    {"a": [{"b": 3}, {}]},
    {"a": [{"b": 3}, {"b": 1}]},
    {"a": [5, {"b": 5}]},
    {"a": [{"b": None}, {"b": 3}]},
]


def _found(coll, docs: list[dict], query: dict) -> list[int]:
    """The numbers of `docs` (stored with `n`) that `query` finds; counts must say the same."""
    coll.delete_many({})
    coll.insert_many([{"n": number, **doc} for number, doc in enumerate(docs)])
    found = sorted(doc["n"] for doc in coll.find(query))
    assert coll.count_documents(query) == len(found)
    assert [n for n in range(len(docs)) if coll.count_documents({"$and": [{"n": n}, query]})] == found
    return found


def test_numeric_components_index_arrays_and_name_fields(coll):
    assert _found(coll, NUMBERED, {"a.0": 7}) == [1, 2, 4, 5]
    assert _found(coll, NUMBERED, {"a.0": {"$ne": 7}}) == [0, 3, 6, 7, 8]
    assert _found(coll, NUMBERED, {"a.0.0": 7}) == [3, 4, 5, 6, 7]
    assert _found(coll, NUMBERED, {"a.1": {"$gt": 6}}) == [8]


def test_null_matches_where_the_path_reaches_a_missing_field_or_null(coll):
    assert _found(coll, NULLS, {"a.b": None}) == [0, 1, 2, 3, 4, 9, 12]
    assert _found(coll, NULLS, {"a.b": {"$ne": None}}) == [5, 6, 7, 8, 10, 11]
    assert _found(coll, NULLS, {"a.b": {"$in": [None, 5]}}) == [0, 1, 2, 3, 4, 9, 11, 12]
    assert _found(coll, NULLS, {"a.b": {"$exists": False}}) == [0, 1, 2, 3, 6, 7, 8]
    assert _found(coll, NULLS, {"$or": [{"a.b": 3}, {"a": 4}]}) == [0, 9, 10, 12]


def test_dotted_paths_compare_decimals_infinities_and_nan_as_numbers(coll):
    docs = [
        {"x": {"a": Decimal128("2")}},
        {"x": [{"a": math.inf}]},
        {"x": {"a": math.nan}},
        {"x": [{"a": Decimal128("NaN")}, {"a": "2"}]},
        {"x": {"a": 1}, "y": math.nan},
    ]
    assert _found(coll, docs, {"x.a": {"$gt": 1}}) == [0, 1]
    assert _found(coll, docs, {"x.a": 2}) == [0]
    assert _found(coll, docs, {"x.a": math.nan}) == [2, 3]
    assert _found(coll, docs, {"x.a": {"$lte": Decimal128("1")}}) == [4]
    assert _found(coll, docs, {"x.a": {"$in": ["2", Decimal128("1")]}}) == [3, 4]


def test_updates_and_deletes_match_dotted_paths_as_finds_do(coll):
    coll.insert_many([{"n": 0, "x": 1}, {"n": 1, "x": {"a": 1}}, {"n": 2, "x": [{"a": 1}]}, {"n": 3, "x": True}])
    assert coll.update_many({"x.a": 1}, {"$set": {"hit": True}}).modified_count == 2
    assert sorted(doc["n"] for doc in coll.find({"hit": True})) == [1, 2]
    assert coll.delete_many({"x.a": {"$ne": 1}}).deleted_count == 2
    assert sorted(doc["n"] for doc in coll.find()) == [1, 2]
