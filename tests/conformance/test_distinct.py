"""`distinct` (MongoDB manual: "distinct"): the values a field or a dotted path reaches in the
documents its filter matches, each once; an array gives its elements (an array inside it stays
an array), null counts as a value and a missing field as none, numbers of every type are one
value when equal. The server returns them in MongoDB's order of values, which these tests do not
rely on."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import Decimal128, Int64


@pytest.fixture
def mixed(coll):
    coll.insert_many(
        [
            {"_id": 1, "v": 5, "t": "ab", "n": 1},
            {"_id": 2, "v": 5.0, "t": "b", "n": 2},
            {"_id": 3, "v": Decimal128("5"), "t": "ac", "n": 3},
            {"_id": 4, "v": "x", "t": "a", "n": 4},
            {"_id": 5, "v": {"a": 1, "b": [2]}, "t": "c", "n": 5},
            {"_id": 6, "v": None, "n": 6},
            {"_id": 7, "v": [1, [2], "x"], "t": "d", "n": 7},
            {"_id": 8, "t": "a", "n": 8},
            {"_id": 9, "v": dt.datetime(2026, 1, 2), "n": 9},
        ]
    )
    return coll


def _plain(value):
    """A number as a Python number (Decimal128("5") == 5), any other value as it is."""
    return float(value.to_decimal()) if isinstance(value, Decimal128) else value


def _same(found: list, expected: list) -> bool:
    """Whether `found` holds the values of `expected`, each once, in any order."""
    plain = [_plain(value) for value in found]
    return len(plain) == len(expected) and all(plain.count(value) == 1 for value in expected)


def test_distinct_returns_each_value_once_with_array_elements_and_null(mixed):
    expected = [None, 1, 5, "x", {"a": 1, "b": [2]}, [2], dt.datetime(2026, 1, 2, tzinfo=dt.UTC)]
    assert _same(mixed.distinct("v"), expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"t": {"$regex": "^a"}}, [5, "x"]),  # a filter matched outside SQL
        ({"n": {"$gte": 6}}, [None, 1, "x", [2], dt.datetime(2026, 1, 2, tzinfo=dt.UTC)]),
        ({"t": "zz"}, []),
        ({"$or": [{"t": "c"}, {"n": Int64(2)}]}, [5, {"a": 1, "b": [2]}]),
    ],
    ids=repr,
)
def test_distinct_reads_only_the_documents_its_filter_matches(mixed, query, expected):
    assert _same(mixed.distinct("v", query), expected)


def test_distinct_of_a_dotted_path_reaches_into_sub_documents_and_arrays_of_them(coll):
    coll.insert_many(
        [
            {"s": {"a": 1}},
            {"s": [{"a": 2}, {"a": [3, 4]}, {"b": 9}, 7]},
            {"s": [[{"a": 10}]]},
            {"s": 5},
            {"s": {"a": None}},
        ]
    )
    assert _same(coll.distinct("s.a"), [None, 1, 2, 3, 4])
