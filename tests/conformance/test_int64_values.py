"""A 64-bit integer stays a 64-bit integer (BSON type 0x12) and a 32-bit one stays 32-bit (0x10)
through every write path and operator, read back as raw BSON: the type byte the server sent is
asserted, not what pymongo made of it. Arithmetic follows MongoDB: an int64 operand makes an
int64, an int32 result too large for 32 bits becomes an int64, `$mul` of a missing field is a
zero of the multiplier's type; filters, counts, sorts and unique indexes compare by value."""

from __future__ import annotations

import pytest
from bson import Int64
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, WriteError

from tests.bson_types import DOUBLE, INT32, INT64, type_codes
from tests.conformance.conftest import on_embedded_server_xfail
from tests.conformance.test_exact_values import WRITES, write

INT64_VALUES = {
    "zero": Int64(0),
    "small": Int64(5),
    "minus_one": Int64(-1),
    "int32_max": Int64(2**31 - 1),
    "int32_min": Int64(-(2**31)),
    "past_int32_max": Int64(2**31),
    "past_int32_min": Int64(-(2**31) - 1),
    "int64_max": Int64(2**63 - 1),
    "int64_min": Int64(-(2**63)),
}


def raw(coll: Collection) -> Collection:
    """`coll` returning documents as raw BSON."""
    return coll.with_options(codec_options=CodecOptions(document_class=RawBSONDocument))


def stored(coll: Collection, field: str = "v") -> tuple[object, object]:
    """Document 1's `field` as (its type byte(s), its value), read from the raw reply."""
    document = raw(coll).find_one({"_id": 1})
    return type_codes(document.raw)[field], document[field]


def expected_codes(value: object) -> object:
    """The type bytes `write` leaves in `v` for `value` (an int64, maybe inside an array)."""
    if isinstance(value, list):
        return [2 if isinstance(item, str) else INT64 for item in value]  # "first" is a string
    return INT64


@pytest.mark.parametrize("how", WRITES)
@pytest.mark.parametrize("name", INT64_VALUES)
def test_an_int64_comes_back_an_int64_through_every_write_path(coll, name, how):
    expected = write(coll, how, INT64_VALUES[name])
    assert stored(coll) == (expected_codes(expected), expected)
    [aggregated] = raw(coll).aggregate([{"$match": {"_id": 1}}])
    assert type_codes(aggregated.raw)["v"] == expected_codes(expected)


def test_int32_and_int64_side_by_side_keep_their_types_inside_documents_and_arrays(coll):
    coll.insert_one({"_id": 1, "v": {"a": [Int64(5), 5, {"b": Int64(-7), "c": -7}], "d": Int64(2**40), "e": 2**31 - 1}})
    assert stored(coll)[0] == {"a": [INT64, INT32, {"b": INT64, "c": INT32}], "d": INT64, "e": INT32}
    coll.update_one({"_id": 1}, {"$set": {"w": 1}})  # the document written back whole
    assert stored(coll)[0] == {"a": [INT64, INT32, {"b": INT64, "c": INT32}], "d": INT64, "e": INT32}


ARITHMETIC = [
    ("$inc", 5, Int64(1), INT64, 6),
    ("$inc", Int64(5), 1, INT64, 6),
    ("$inc", Int64(5), Int64(-5), INT64, 0),
    ("$inc", 5, 1, INT32, 6),
    ("$inc", 2**31 - 1, 1, INT64, 2**31),
    ("$inc", -(2**31), -1, INT64, -(2**31) - 1),
    ("$inc", Int64(2**62), Int64(2**62 - 1), INT64, 2**63 - 1),
    ("$inc", Int64(5), 0.5, DOUBLE, 5.5),
    ("$mul", 7, Int64(6), INT64, 42),
    ("$mul", Int64(7), 6, INT64, 42),
    ("$mul", 7, 6, INT32, 42),
    ("$mul", 2**16, 2**16, INT64, 2**32),
    ("$mul", Int64(3), 0.5, DOUBLE, 1.5),
    ("$min", 9, Int64(5), INT64, 5),
    ("$min", 5, Int64(5), INT32, 5),  # equal: nothing written
    ("$min", Int64(5), 9, INT64, 5),
    ("$max", 5, Int64(9), INT64, 9),
    ("$max", Int64(9), 9, INT64, 9),
    ("$max", Int64(5), 9, INT32, 9),
]


@pytest.mark.parametrize(("operator", "before", "operand", "code", "after"), ARITHMETIC)
def test_arithmetic_gives_the_integer_type_mongodb_gives(coll, operator, before, operand, code, after):
    coll.insert_one({"_id": 1, "v": before})
    coll.update_one({"_id": 1}, {operator: {"v": operand}})
    assert stored(coll) == (code, after)


def test_operators_on_a_missing_field_keep_the_operand_type(coll):
    coll.insert_one({"_id": 1})
    coll.update_one({"_id": 1}, {"$inc": {"a": Int64(3)}, "$mul": {"b": Int64(4)}, "$max": {"c": Int64(5)}})
    coll.update_one({"_id": 1}, {"$min": {"d": Int64(6)}, "$mul": {"e": 4}})
    document = raw(coll).find_one({"_id": 1})
    assert type_codes(document.raw) == {"_id": INT32, "a": INT64, "b": INT64, "c": INT64, "d": INT64, "e": INT32}
    assert [document[field] for field in "abcde"] == [3, 0, 5, 6, 0]


def test_an_upsert_and_find_one_and_update_keep_int64(coll):
    coll.update_one({"_id": 1}, {"$inc": {"v": Int64(2)}, "$setOnInsert": {"w": Int64(3)}}, upsert=True)
    assert type_codes(raw(coll).find_one({"_id": 1}).raw) == {"_id": INT32, "v": INT64, "w": INT64}
    after = raw(coll).find_one_and_update(
        {"_id": 1}, {"$inc": {"v": 1}, "$push": {"list": Int64(4)}}, return_document=ReturnDocument.AFTER
    )
    assert type_codes(after.raw) == {"_id": INT32, "v": INT64, "w": INT64, "list": [INT64]}
    assert (after["v"], after["list"]) == (3, [4])


def test_an_int64_id_keeps_its_type_and_is_found_by_value(coll):
    coll.insert_one({"_id": Int64(7), "v": 1})
    document = raw(coll).find_one({"_id": 7})
    assert type_codes(document.raw) == {"_id": INT64, "v": INT32}
    coll.replace_one({"_id": Int64(7)}, {"v": Int64(2)})
    assert type_codes(raw(coll).find_one({"_id": Int64(7)}).raw) == {"_id": INT64, "v": INT64}


def test_setting_the_same_number_as_another_integer_type_is_a_change(coll):
    coll.insert_one({"_id": 1, "v": 5})
    assert coll.update_one({"_id": 1}, {"$set": {"v": Int64(5)}}).modified_count == 1
    assert stored(coll) == (INT64, 5)
    assert coll.update_one({"_id": 1}, {"$set": {"v": Int64(5)}}).modified_count == 0


def test_filters_counts_and_sorts_compare_int64_by_value(coll):
    coll.insert_many([{"_id": 1, "v": Int64(5)}, {"_id": 2, "v": 5}, {"_id": 3, "v": 5.0}, {"_id": 4, "v": Int64(3)}])
    assert [doc["_id"] for doc in coll.find({"v": 5})] == [1, 2, 3]
    assert [doc["_id"] for doc in coll.find({"v": {"$lt": Int64(5)}})] == [4]
    assert [doc["_id"] for doc in coll.find({"v": {"$in": [Int64(3), 6]}})] == [4]
    assert coll.count_documents({"v": {"$gte": 4}}) == 3
    assert coll.count_documents({"v": Int64(5)}) == 3
    assert [doc["_id"] for doc in coll.find().sort([("v", 1), ("_id", 1)])] == [4, 1, 2, 3]


def test_a_unique_index_takes_int64_and_int32_of_one_value_for_one_key(coll):
    coll.create_index("v", unique=True)
    coll.insert_one({"_id": 1, "v": Int64(5)})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": 2, "v": 5})
    assert stored(coll) == (INT64, 5)


def test_inc_past_int64_is_refused_and_the_int64_kept(coll):
    coll.insert_one({"_id": 1, "v": Int64(2**63 - 1), "w": Int64(-(2**63))})
    with pytest.raises(WriteError):
        coll.update_one({"_id": 1}, {"$inc": {"v": 1}})
    with pytest.raises(WriteError):
        coll.update_one({"_id": 1}, {"$inc": {"w": Int64(-1)}})
    assert stored(coll) == (INT64, 2**63 - 1)


@on_embedded_server_xfail(
    "nx-27017: $project and $group read values with SQLite's json_extract, which reads an int64 "
    "that 32 bits could hold as a double"
)
def test_aggregation_stages_computed_from_fields_keep_int64(coll):
    coll.insert_one({"_id": 1, "v": Int64(5)})
    [projected] = raw(coll).aggregate([{"$project": {"v": 1}}])
    [grouped] = raw(coll).aggregate([{"$group": {"_id": "$v"}}])
    assert (type_codes(projected.raw)["v"], type_codes(grouped.raw)["_id"]) == (INT64, INT64)


def test_distinct_keeps_int64(coll):
    coll.insert_many([{"_id": 1, "v": Int64(5), "w": [Int64(6)]}, {"_id": 2, "v": {"a": Int64(7)}}])
    assert [type(value) for value in coll.distinct("v")] == [Int64, dict]
    assert [type(value) for value in coll.distinct("w")] == [Int64]
    assert [type(value) for value in coll.distinct("v.a")] == [Int64]
