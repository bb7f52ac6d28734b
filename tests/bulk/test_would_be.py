"""A dry run's would-be documents come back from their temporary database exactly as a read of
the server returns them, under keys equal as MongoDB compares them."""

from __future__ import annotations

import datetime as dt

from bson import Decimal128, Int64, ObjectId

from bulkadmin.bulk.key_values import canonical_key
from bulkadmin.bulk.would_be import WouldBe


def test_documents_come_back_with_their_types():
    document = {
        "_id": ObjectId(),
        "count": Int64(1 << 40),
        "small": 7,
        "price": Decimal128("0.10"),
        "at": dt.datetime(2020, 1, 1, 12, 30, 0, 123000, tzinfo=dt.UTC),
        "nested": {"b": [1, 2.5, None, True], "a": "é"},
    }
    with WouldBe() as documents:
        documents.put({canonical_key([1]): document, canonical_key(["gone"]): None})
        found = documents.get([canonical_key([1.0]), canonical_key(["gone"]), canonical_key([True])])
    back = found[canonical_key([Decimal128("1")])]
    assert back == document and list(back["nested"]) == ["b", "a"]
    assert [type(back[name]) for name in ("count", "small", "price")] == [Int64, int, Decimal128]
    assert back["at"].tzinfo is not None and back["at"].utcoffset() == dt.timedelta(0)
    assert found[canonical_key(["gone"])] is None and len(found) == 2  # true is not 1


def test_keys_equal_as_mongodb_compares_them():
    assert canonical_key([1]) == canonical_key([1.0]) == canonical_key([Int64(1)]) == canonical_key([Decimal128("1")])
    assert canonical_key([True]) != canonical_key([1]) and canonical_key(["1"]) != canonical_key([1])
    utc = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    assert canonical_key([utc]) == canonical_key([utc.astimezone(dt.timezone(dt.timedelta(hours=1)))])
    assert canonical_key([{"a": 1, "b": 2}]) != canonical_key([{"b": 2, "a": 1}])


def test_a_long_key_is_found_by_its_digest():
    key = canonical_key(["x" * 10_000])
    with WouldBe() as documents:
        assert documents.get([key]) == {} and not documents.opened  # nothing written: no database
        documents.put({key: {"_id": 1}})
        assert documents.get([key, canonical_key(["x" * 9_999])]) == {key: {"_id": 1}}
    assert not documents.opened
