"""Every value comes back exactly as written (type and value) through every write path:
insert, `$set`, `$setOnInsert` (upsert), `replace_one`, `find_one_and_update`, `$push`,
`$addToSet` with `$each`, and back out through find and aggregation; arithmetic operators
compute as MongoDB does (IEEE doubles, int64, Decimal128)."""

from __future__ import annotations

import datetime as dt
import math
import struct
import uuid

import pytest
from bson import Binary, Decimal128, Int64
from pymongo import ReturnDocument
from pymongo.errors import WriteError

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
VALUES = {
    "point_one_plus_point_two": 0.1 + 0.2,
    "one_third": 1 / 3,
    "money": 2198.0299999999997,
    "seventeen_digits": 123456.78901234567,
    "largest_double": 1.7976931348623157e308,
    "smallest_double": -1.7976931348623157e308,
    "subnormal": 5e-324,
    "smallest_normal": 2.2250738585072014e-308,
    "negative_zero": -0.0,
    "nan": math.nan,
    "infinity": math.inf,
    "negative_infinity": -math.inf,
    "beyond_2_53": 1e16 + 2,
    "int32_max": 2**31 - 1,
    "int32_min": -(2**31),
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "decimal": Decimal128("0.1"),
    "decimal_34_digits": Decimal128("1.234567890123456789012345678901234E+6000"),
    "decimal_negative_zero": Decimal128("-0"),
    "date_ms": WHEN,
    "bytes": b"\x00\x01\xff",
    "uuid": uuid.UUID("30313233-3435-3637-3839-616263646566"),
    "binary_subtype_5": Binary(b"\x01\x02", 5),
    "nested": {"a": [1, 0.1 + 0.2, {"b": 1 / 3, "d": Decimal128("2.50")}]},
    "mixed_array": [0.1 + 0.2, 2**40, "x", None, True, WHEN],
}
WRITES = ["insert", "set", "set_on_insert", "replace_one", "find_one_and_update", "push", "add_to_set_each"]


def identical(stored, value) -> bool:
    """Equal and of the same type all the way down; doubles by their bits (NaN equals NaN)."""
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(stored, Int64):
        return int(stored) == value
    if type(stored) is not type(value):
        return False
    if isinstance(value, float):
        return struct.pack("<d", stored) == struct.pack("<d", value)
    if isinstance(value, dict):
        return stored.keys() == value.keys() and all(identical(stored[k], value[k]) for k in value)
    if isinstance(value, list):
        return len(stored) == len(value) and all(identical(s, v) for s, v in zip(stored, value, strict=True))
    if isinstance(value, Decimal128):
        return str(stored) == str(value)
    return stored == value


def write(coll, how: str, value) -> object:
    """Store `value` in document 1's `v` by `how`; return what `v` should then hold."""
    if how == "insert":
        coll.insert_one({"_id": 1, "v": value})
    elif how == "set":
        coll.insert_one({"_id": 1, "v": "before", "other": 1})
        assert coll.update_one({"_id": 1}, {"$set": {"v": value}}).modified_count == 1
    elif how == "set_on_insert":
        assert coll.update_one({"_id": 1}, {"$setOnInsert": {"v": value}}, upsert=True).upserted_id == 1
    elif how == "replace_one":
        coll.insert_one({"_id": 1, "v": "before"})
        assert coll.replace_one({"_id": 1}, {"v": value}).modified_count == 1
    elif how == "find_one_and_update":
        coll.insert_one({"_id": 1, "v": "before"})
        assert coll.find_one_and_update({"_id": 1}, {"$set": {"v": value}})["v"] == "before"
    elif how == "push":
        coll.insert_one({"_id": 1, "v": ["first"]})
        coll.update_one({"_id": 1}, {"$push": {"v": value}})
        return ["first", value]
    elif how == "add_to_set_each":
        coll.insert_one({"_id": 1, "v": []})
        coll.update_one({"_id": 1}, {"$addToSet": {"v": {"$each": [value]}}})
        return [value]
    return value


@pytest.mark.parametrize("how", WRITES)
@pytest.mark.parametrize("name", VALUES)
def test_a_value_comes_back_exactly_through_every_write_path(coll, name, how):
    expected = write(coll, how, VALUES[name])
    assert identical(coll.find_one({"_id": 1})["v"], expected)
    assert identical(next(coll.aggregate([{"$match": {"_id": 1}}]))["v"], expected)


ARITHMETIC = [
    ("$inc", 0.1, 0.2, 0.1 + 0.2),
    ("$inc", 2198.0299999999997, 1000, 2198.0299999999997 + 1000),
    ("$inc", 1e308, 1e308, math.inf),
    ("$inc", 2**31 - 1, 1, 2**31),
    ("$inc", 2**62, 2**62 - 1, 2**63 - 1),
    ("$inc", 5, 2, 7),
    ("$inc", Decimal128("0.1"), Decimal128("0.2"), Decimal128("0.3")),
    ("$mul", 1 / 3, 3.0, 1 / 3 * 3.0),
    ("$mul", 0.1, 3, 0.1 * 3),
    ("$mul", 7, 6, 42),
    ("$min", 0.30000000000000004, 0.3, 0.3),
    ("$min", 5, 5.5, 5),
    ("$max", 1 / 3, 0.3333333333333333, 1 / 3),
    ("$max", 1.0, 1 / 3 + 1, 1 / 3 + 1),
    ("$max", Decimal128("1.5"), 2, 2),
]


@pytest.mark.parametrize(("operator", "stored", "operand", "expected"), ARITHMETIC)
def test_arithmetic_operators_compute_as_mongodb_does(coll, operator, stored, operand, expected):
    coll.insert_one({"_id": 1, "v": stored})
    coll.update_one({"_id": 1}, {operator: {"v": operand}})
    assert identical(coll.find_one({"_id": 1})["v"], expected)


def test_inc_keeps_an_int_an_int_and_refuses_to_overflow_int64(coll):
    coll.insert_one({"_id": 1, "n": 1, "big": 2**63 - 1})
    coll.update_one({"_id": 1}, {"$inc": {"n": 1}})
    assert type(coll.find_one({"_id": 1})["n"]) is int
    with pytest.raises(WriteError) as caught:
        coll.update_one({"_id": 1}, {"$inc": {"big": 1}})
    assert "overflow" in str(caught.value).lower()
    assert coll.find_one({"_id": 1})["big"] == 2**63 - 1


def test_operators_apply_to_dotted_paths(coll):
    coll.insert_one({"_id": 1, "profile": {"score": 0.1, "tags": ["a"], "gone": 1}})
    coll.update_one(
        {"_id": 1},
        {
            "$inc": {"profile.score": 0.2},
            "$push": {"profile.tags": "b"},
            "$unset": {"profile.gone": ""},
            "$max": {"profile.best": 3},
        },
    )
    assert coll.find_one({"_id": 1})["profile"] == {"score": 0.1 + 0.2, "tags": ["a", "b"], "best": 3}


def test_an_update_that_changes_nothing_is_not_counted_as_modified(coll):
    coll.insert_one({"_id": 1, "v": 1.5, "w": 1})
    assert coll.update_one({"_id": 1}, {"$set": {"v": 1.5}}).modified_count == 0
    assert coll.update_one({"_id": 1}, {"$set": {"w": 1.0}}).modified_count == 1  # int to double
    assert type(coll.find_one({"_id": 1})["w"]) is float


def test_all_elements_operator_applies_to_every_element(coll):
    coll.insert_one({"_id": 1, "scores": [0.1, 2, 1 / 3], "items": [{"n": 1}, {"n": 2}]})
    coll.update_one({"_id": 1}, {"$inc": {"scores.$[]": 0.2, "items.$[].n": 10}})
    stored = coll.find_one({"_id": 1})
    assert identical(stored["scores"], [0.1 + 0.2, 2.2, 1 / 3 + 0.2])
    assert stored["items"] == [{"n": 11}, {"n": 12}]


def test_the_positional_operator_updates_the_element_the_query_matched(coll):
    coll.insert_one({"_id": 1, "a": [1, 2, 3], "items": [{"n": 1, "v": 0.1}, {"n": 2, "v": 0.2}]})
    coll.update_one({"_id": 1, "a": 2}, {"$inc": {"a.$": 10}})
    coll.update_one({"_id": 1, "items.n": 2}, {"$inc": {"items.$.v": 0.1}, "$max": {"items.$.n": 5}})
    stored = coll.find_one({"_id": 1})
    assert stored["a"] == [1, 12, 3]
    assert identical(stored["items"], [{"n": 1, "v": 0.1}, {"n": 5, "v": 0.2 + 0.1}])
    assert set(stored) == {"_id", "a", "items"}


def test_array_filters_update_the_elements_they_match(coll):
    coll.insert_one({"_id": 1, "a": [1, 2, 3], "items": [{"k": 1, "v": "x"}, {"k": 2, "v": "y"}]})
    coll.update_one({"_id": 1}, {"$inc": {"a.$[big]": 10}}, array_filters=[{"big": {"$gte": 2}}])
    coll.update_one({"_id": 1}, {"$set": {"items.$[e].v": "z"}}, array_filters=[{"e.k": 1}])
    stored = coll.find_one({"_id": 1})
    assert stored["a"] == [1, 12, 13]
    assert stored["items"] == [{"k": 1, "v": "z"}, {"k": 2, "v": "y"}]


def test_two_operators_on_one_path_are_refused_and_nothing_changes(coll):
    coll.insert_one({"_id": 1, "a": 1, "n": None})
    with pytest.raises(WriteError) as caught:
        coll.update_one({"_id": 1}, {"$set": {"a": 5}, "$inc": {"a": 1}})
    assert caught.value.code == 40
    with pytest.raises(WriteError) as caught:
        coll.update_one({"_id": 1}, {"$set": {"n.b": 1}})  # null is a value: no field inside it
    assert caught.value.code == 28
    assert coll.find_one({"_id": 1}) == {"_id": 1, "a": 1, "n": None}


def test_a_replacement_keeps_the_id_as_stored_and_cannot_change_it(coll):
    coll.insert_many([{"_id": 7, "a": 1}, {"_id": 8, "a": 1}])
    after = coll.find_one_and_replace({"_id": 7}, {"b": 2}, return_document=ReturnDocument.AFTER)
    assert after == {"_id": 7, "b": 2} and type(after["_id"]) is int
    assert coll.replace_one({"_id": 8}, {"_id": 8, "c": 3}).modified_count == 1
    with pytest.raises(WriteError) as caught:
        coll.replace_one({"_id": 8}, {"_id": 88, "c": 4})
    assert caught.value.code == 66
    assert list(coll.find().sort("_id", 1)) == [{"_id": 7, "b": 2}, {"_id": 8, "c": 3}]
