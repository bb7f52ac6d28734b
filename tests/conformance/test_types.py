"""Every BSON type the models use comes back as it was written, on insert and on `$set`
(MongoDB manual: "BSON Types")."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from bson import ObjectId

WHEN = dt.datetime(2026, 6, 15, 12, 30, 45, 123000, tzinfo=dt.UTC)
VALUES = {
    "text": "Jörg ✓ 日本",
    "empty": "",
    "int32_max": 2**31 - 1,
    "int32_min": -(2**31),
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "zero": 0,
    "float": 0.1,
    "negative_float": -1.5e300,
    "true": True,
    "false": False,
    "date": WHEN,
    "object_id": ObjectId("0123456789abcdef01234567"),
    "list": ["a", 1, None, [2]],
    "sub_document": {"bio": "x", "nested": {"n": 1}},
    "none": None,
}


def _same(stored, value) -> bool:
    """Equal and of the same type, all the way down (True is not 1, 1 is not 1.0)."""
    if type(stored) is not type(value) and not (type(value) is int and type(stored).__name__ == "Int64"):
        return False  # (int64 values may come back as bson's Int64, an int)
    if isinstance(value, dict):
        return stored.keys() == value.keys() and all(_same(stored[k], value[k]) for k in value)
    if isinstance(value, list):
        return len(stored) == len(value) and all(_same(s, v) for s, v in zip(stored, value, strict=True))
    return stored == value


@pytest.mark.parametrize("name", VALUES)
def test_insert_round_trips(coll, name):
    coll.insert_one({"_id": 1, "v": VALUES[name]})
    assert _same(coll.find_one({"_id": 1})["v"], VALUES[name])


@pytest.mark.parametrize("name", VALUES)
def test_set_on_an_existing_document_round_trips(coll, name):
    coll.insert_one({"_id": 1, "v": "before", "other": 1})
    result = coll.update_one({"_id": 1}, {"$set": {"v": VALUES[name]}})
    assert result.modified_count == 1
    assert _same(coll.find_one({"_id": 1})["v"], VALUES[name])


def test_set_of_booleans_inside_a_sub_document_and_with_other_fields(coll):
    coll.insert_one({"_id": 1, "active": True, "profile": {"public": False}})
    coll.update_many({"_id": 1}, {"$set": {"active": False, "profile.public": True, "n": 2}})
    stored = coll.find_one({"_id": 1})
    assert _same(stored["active"], False) and _same(stored["profile"]["public"], True)


def test_datetimes_come_back_in_utc_with_millisecond_precision(coll):
    coll.insert_one({"_id": 1, "at": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)})
    assert coll.find_one({"_id": 1})["at"] == dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)


def test_datetime_range_filter_compares_dates(coll):
    coll.insert_many([{"_id": n, "at": WHEN + dt.timedelta(days=n)} for n in range(5)])
    assert sorted(d["_id"] for d in coll.find({"at": {"$lt": WHEN + dt.timedelta(days=2)}})) == [0, 1]


def test_nan_is_stored(coll):
    coll.insert_one({"_id": 1, "v": math.nan})
    assert math.isnan(coll.find_one({"_id": 1})["v"])


def test_infinity_is_stored(coll):
    coll.insert_one({"_id": 1, "v": math.inf, "w": -math.inf})
    stored = coll.find_one({"_id": 1})
    assert (stored["v"], stored["w"]) == (math.inf, -math.inf)
