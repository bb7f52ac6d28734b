"""Skips and limits MongoDB refuses, as they reach the server through pymongo: `count_documents`
sends its `skip` and `limit` as `$skip` and `$limit` stages unchecked, and `find` checks their
types but not a negative skip. A stage's value must be a whole number of any numeric type (2.0
and Decimal128("1") are whole) that 64 bits hold, not negative, and a limit is above 0."""

from __future__ import annotations

import math

import pytest
from bson import Decimal128, Int64
from pymongo.errors import OperationFailure

REFUSED = [
    ({"skip": -1}, 5107200, "invalid argument to $skip stage: Expected a non-negative number in: $skip: -1"),
    ({"skip": 2.5}, 5107200, "invalid argument to $skip stage: Expected an integer: $skip: 2.5"),
    ({"skip": "2"}, 5107200, 'invalid argument to $skip stage: Expected a number in: $skip: "2"'),
    ({"skip": True}, 5107200, "invalid argument to $skip stage: Expected a number in: $skip: true"),
    ({"skip": None}, 5107200, "invalid argument to $skip stage: Expected a number in: $skip: null"),
    ({"skip": math.nan}, 5107200, "invalid argument to $skip stage: Expected an integer, but found NaN in: $skip"),
    ({"skip": 1e30}, 5107200, "invalid argument to $skip stage: Cannot represent as a 64-bit integer: $skip"),
    ({"skip": Decimal128("1.5")}, 5107200, "invalid argument to $skip stage: Cannot represent as a 64-bit integer"),
    ({"limit": 0}, 15958, "the limit must be positive"),
    ({"limit": -1}, 5107201, "invalid argument to $limit stage: Expected a non-negative number in: $limit: -1"),
    ({"limit": 2.5}, 5107201, "invalid argument to $limit stage: Expected an integer: $limit: 2.5"),
    ({"limit": "2"}, 5107201, 'invalid argument to $limit stage: Expected a number in: $limit: "2"'),
    ({"limit": math.inf}, 5107201, "invalid argument to $limit stage: Cannot represent as a 64-bit integer: $limit"),
    ({"skip": 1, "limit": 0}, 15958, "the limit must be positive"),
]
TAKEN = [
    ({"skip": 2.0}, 3),
    ({"skip": Int64(1)}, 4),
    ({"skip": Decimal128("1")}, 4),
    ({"skip": 0}, 5),
    ({"skip": 2**63 - 1}, 0),
    ({"limit": 2.0}, 2),
    ({"limit": Int64(3)}, 3),
    ({"limit": Decimal128("4")}, 4),
    ({"skip": 4, "limit": 2**63 - 1}, 1),
]
FILTERS = [{}, {"v": {"$gte": 0}}, {"v": {"$type": "int"}}]  # read in SQL, by nx-27017, by both


@pytest.fixture
def five(coll):
    coll.insert_many([{"_id": number, "v": number} for number in range(5)])
    return coll


@pytest.mark.parametrize("query", FILTERS, ids=repr)
@pytest.mark.parametrize(("bounds", "code", "message"), REFUSED, ids=[repr(bounds) for bounds, _, _ in REFUSED])
def test_count_documents_refuses_a_skip_or_limit_mongodb_refuses(five, query, bounds, code, message):
    with pytest.raises(OperationFailure) as refused:
        five.count_documents(query, **bounds)
    assert refused.value.code == code
    assert refused.value.details["errmsg"].startswith(message)


@pytest.mark.parametrize(("bounds", "code", "message"), REFUSED, ids=[repr(bounds) for bounds, _, _ in REFUSED])
def test_an_aggregation_refuses_the_skip_or_limit_stage_mongodb_refuses(five, bounds, code, message):
    stages = [{"$skip": bounds["skip"]}] if "skip" in bounds else []
    stages += [{"$limit": bounds["limit"]}] if "limit" in bounds else []
    with pytest.raises(OperationFailure) as refused:
        list(five.aggregate([{"$match": {}}, *stages, {"$project": {"v": 1}}]))
    assert refused.value.code == code
    assert refused.value.details["errmsg"].startswith(message)


@pytest.mark.parametrize("query", FILTERS, ids=repr)
@pytest.mark.parametrize(("bounds", "expected"), TAKEN, ids=[repr(bounds) for bounds, _ in TAKEN])
def test_a_whole_skip_or_limit_of_any_numeric_type_is_taken(five, query, bounds, expected):
    assert five.count_documents(query, **bounds) == expected
    stages = [{"$skip": bounds["skip"]}] if "skip" in bounds else []
    stages += [{"$limit": bounds["limit"]}] if "limit" in bounds else []
    assert len(list(five.aggregate([{"$match": query}, *stages]))) == expected


def test_find_refuses_a_negative_skip(five):
    with pytest.raises(OperationFailure) as refused:
        list(five.find({}, skip=-1))
    assert refused.value.code == 51024
    assert refused.value.details["errmsg"] == "BSON field 'skip' value must be >= 0, actual value '-1'"


def test_the_find_command_refuses_a_negative_limit_pymongo_would_send_as_a_single_batch(five):
    assert [doc["_id"] for doc in five.find({}, limit=-2).sort("_id", 1)] == [0, 1]
    with pytest.raises(OperationFailure) as refused:
        five.database.command("find", five.name, limit=-2)
    assert refused.value.code == 51024
    assert refused.value.details["errmsg"] == "BSON field 'limit' value must be >= 0, actual value '-2'"
