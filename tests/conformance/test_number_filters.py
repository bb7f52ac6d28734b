"""A filter comparing a field with a plain number selects, in `find`, an aggregation's `$match`,
`count_documents`, `update_many` and `delete_many` alike, the documents MongoDB's rules select: numbers of every
type (int32, Int64, double, Decimal128) compare by value, ±Infinity lie beyond every finite
number, NaN is in no range and equals no plain number, and no other type (text, a boolean, null)
is a number. An array matches when one of its elements does (each bound of a range may be met by
another element). The expected documents are written out by hand."""

from __future__ import annotations

import math

import pytest
from bson import Decimal128, Int64

VALUES = {
    "int32_5": 5,
    "int64_5": Int64(5),
    "double_5": 5.0,
    "decimal_5": Decimal128("5.0"),
    "int32_1": 1,
    "int64_big": Int64(2**40),
    "double_2_5": 2.5,
    "decimal_2_5": Decimal128("2.5"),
    "decimal_minus_7": Decimal128("-7"),
    "infinity": math.inf,
    "minus_infinity": -math.inf,
    "decimal_infinity": Decimal128("Infinity"),
    "nan": math.nan,
    "decimal_nan": Decimal128("NaN"),
    "text_5": "5",
    "true": True,
    "null": None,
    "array_1_5": [1, Decimal128("5")],
}
EVERY = frozenset([*VALUES, "missing"])
FIVES = {"int32_5", "int64_5", "double_5", "decimal_5"}
HALVES = {"double_2_5", "decimal_2_5"}
ABOVE_FIVE = {"int64_big", "infinity", "decimal_infinity"}
BELOW_ZERO = {"decimal_minus_7", "minus_infinity"}

CASES = [
    ({"v": 5}, FIVES | {"array_1_5"}),
    ({"v": {"$eq": Int64(5)}}, FIVES | {"array_1_5"}),
    ({"v": 1}, {"int32_1", "array_1_5"}),
    ({"v": 2.5}, HALVES),
    ({"v": {"$ne": 5}}, EVERY - FIVES - {"array_1_5"}),
    ({"v": {"$ne": 2.5}}, EVERY - HALVES),
    ({"v": {"$gt": 5}}, ABOVE_FIVE),
    ({"v": {"$gte": 5}}, FIVES | ABOVE_FIVE | {"array_1_5"}),
    ({"v": {"$lt": 2.5}}, BELOW_ZERO | {"int32_1", "array_1_5"}),
    ({"v": {"$lte": 2.5}}, BELOW_ZERO | HALVES | {"int32_1", "array_1_5"}),
    ({"v": {"$lt": 0}}, BELOW_ZERO),
    ({"v": {"$gt": 2**40 - 1}}, ABOVE_FIVE),
    ({"v": {"$gte": 2**40 + 0.5}}, {"infinity", "decimal_infinity"}),
    ({"v": {"$gt": 1, "$lt": 5}}, HALVES | {"array_1_5"}),
    ({"v": {"$gt": 1.5, "$lte": Int64(5)}}, HALVES | FIVES | {"array_1_5"}),
    ({"v": {"$in": [1, 5]}}, FIVES | {"int32_1", "array_1_5"}),
    ({"v": {"$in": [2.5, "5"]}}, HALVES | {"text_5"}),
    ({"v": {"$in": [7, None]}}, {"null", "missing"}),
    ({"v": {"$nin": [1, 5]}}, EVERY - FIVES - {"int32_1", "array_1_5"}),
    ({"v": {"$nin": [2.5, True]}}, EVERY - HALVES - {"true"}),
    ({"$or": [{"v": 5}, {"v": {"$lt": 0}}]}, FIVES | BELOW_ZERO | {"array_1_5"}),
    ({"$nor": [{"v": {"$gte": 1}}]}, EVERY - FIVES - ABOVE_FIVE - HALVES - {"int32_1", "array_1_5"}),
    ({"v": {"$gt": 1}, "w": "x"}, FIVES | ABOVE_FIVE | HALVES | {"array_1_5"}),
]


@pytest.fixture(params=["unindexed", "indexed"])
def numbers(request, coll):
    """Every value of `VALUES` in `v` (and one document without it), each with `w: "x"`;
    `v` indexed or not."""
    if request.param == "indexed":
        coll.create_index("v")
    coll.insert_many([{"_id": name, "v": value, "w": "x"} for name, value in VALUES.items()])
    coll.insert_one({"_id": "missing", "w": "x"})
    return coll


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[repr(query) for query, _ in CASES])
def test_find_count_update_and_delete_select_the_numbers_mongodb_selects(numbers, query, expected):
    assert {doc["_id"] for doc in numbers.find(query)} == expected
    assert {doc["_id"] for doc in numbers.aggregate([{"$match": query}])} == expected
    assert numbers.count_documents(query) == len(expected)
    assert numbers.update_many(query, {"$set": {"seen": True}}).matched_count == len(expected)
    assert {doc["_id"] for doc in numbers.find({"seen": True})} == expected
    assert numbers.delete_many(query).deleted_count == len(expected)
    assert {doc["_id"] for doc in numbers.find()} == EVERY - expected


def test_find_one_and_a_sorted_page_read_the_numbers_a_count_counts(numbers):
    assert numbers.find_one({"v": 5}, sort=[("_id", -1)])["_id"] == "int64_5"
    assert numbers.find_one({"v": 5, "_id": {"$gt": "i"}}, sort=[("_id", 1)])["_id"] == "int32_5"
    page = numbers.find({"v": {"$gt": 2}}, {"_id": 1}).sort("_id", 1).skip(1).limit(3)
    assert [doc["_id"] for doc in page] == ["decimal_2_5", "decimal_5", "decimal_infinity"]


BOOLEAN_CASES = [
    ({"v": True}, {"true", "array_true"}),
    ({"v": {"$eq": False}}, {"false", "array_0_false"}),
    ({"v": 1}, {"one"}),
    ({"v": 0}, {"array_0_false"}),
    ({"v": {"$ne": True}}, {"one", "false", "array_0_false"}),
    ({"v": {"$in": [True, 0]}}, {"true", "array_true", "array_0_false"}),
    ({"v": {"$nin": [False]}}, {"true", "one", "array_true"}),
]


@pytest.mark.parametrize(("query", "expected"), BOOLEAN_CASES, ids=[repr(query) for query, _ in BOOLEAN_CASES])
def test_a_boolean_equals_itself_alone_never_1_or_0(coll, query, expected):
    coll.create_index("v")
    values = {"true": True, "one": 1, "false": False, "array_true": [True], "array_0_false": [0, False]}
    coll.insert_many([{"_id": name, "v": value} for name, value in values.items()])
    assert {doc["_id"] for doc in coll.find(query)} == expected
    assert coll.count_documents(query) == len(expected)
    assert coll.update_many(query, {"$set": {"seen": True}}).matched_count == len(expected)
