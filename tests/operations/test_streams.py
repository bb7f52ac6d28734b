"""Batches of matching documents for writes by `_id`: every match met once, in `_id` order, fresh,
whatever the `_id`s' types; and read one batch ahead of the caller."""

from __future__ import annotations

import threading

import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure

from bulkadmin.core.streams import by_id, id_key, matching_batches, read_ahead


def _ids(batches) -> list:
    return [doc["_id"] for batch in batches for doc in batch]


def test_object_ids_come_in_keyset_batches_each_once(db):
    coll = db["streamed"]
    coll.insert_many([{"n": n, "even": n % 2 == 0} for n in range(1_003)])
    expected = sorted(d["_id"] for d in coll.find({"even": True}))
    batches = list(matching_batches(coll, {"even": True}, 100, fields=("n",)))
    assert [len(batch) for batch in batches] == [100] * 5 + [2]
    assert _ids(batches) == expected
    assert all(set(doc) == {"_id", "n"} for batch in batches for doc in batch)


def test_a_batch_is_read_when_it_is_reached(db):
    coll = db["streamed"]
    coll.insert_many([{"n": n} for n in range(10)])
    batches = matching_batches(coll, {}, 4, fields=None)
    first = next(batches)
    coll.update_many({"n": {"$gte": 4}}, {"$set": {"changed": True}})
    later = [doc for batch in batches for doc in batch]
    assert [doc["n"] for doc in first] == [0, 1, 2, 3]
    assert [doc.get("changed") for doc in later] == [True] * 6


def test_writes_that_take_documents_out_of_the_filter_lose_none(db):
    coll = db["streamed"]
    coll.insert_many([{"active": True} for _ in range(250)])
    touched = 0
    for batch in matching_batches(coll, {"active": True}, 40):
        ids = [doc["_id"] for doc in batch]
        touched += coll.update_many({"_id": {"$in": ids}}, {"$set": {"active": False}}).modified_count
    assert touched == 250
    assert coll.count_documents({"active": True}) == 0


def test_ids_of_other_and_mixed_types_are_all_met(db):
    coll = db["streamed"]
    oids = [ObjectId() for _ in range(7)]
    coll.insert_many([{"_id": oid} for oid in oids] + [{"_id": n} for n in range(5)] + [{"_id": "k1"}, {"_id": "k2"}])
    seen = _ids(matching_batches(coll, {}, 3, fields=None))
    assert len(seen) == len(set(seen)) == 14
    assert set(seen) == {*oids, *range(5), "k1", "k2"}
    assert _ids(matching_batches(coll, {"_id": {"$in": [1, "k2", oids[3]]}}, 2)) != []
    assert sorted(map(str, _ids(matching_batches(coll, {"_id": {"$in": [1, "k2", oids[3]]}}, 2)))) == sorted(
        [str(oids[3]), "1", "k2"]
    )


def test_id_keys_are_equal_where_mongodb_ids_are():
    assert id_key({"a": 1, "b": 2}) == id_key({"a": 1, "b": 2}) != id_key({"b": 2, "a": 1})
    assert id_key(True) != id_key(1) and id_key(1) == id_key(1.0) and id_key(0) != id_key(False)
    oid = ObjectId()
    assert id_key(oid) == oid and id_key(str(oid)) != id_key(oid)
    found = by_id([{"_id": {"a": 1}, "n": 1}, {"_id": 1, "n": 2}, {"_id": True, "n": 3}])
    assert [found[id_key(value)]["n"] for value in ({"a": 1}, 1.0, True)] == [1, 2, 3]


def test_read_ahead_reads_the_next_batch_while_the_caller_works_and_no_further():
    produced: list[int] = []
    ready = [threading.Event() for _ in range(4)]

    def source():
        for number in range(4):
            produced.append(number)
            ready[number].set()
            yield number

    batches = read_ahead(source())
    assert next(batches) == 0
    assert ready[1].wait(10)  # read while the caller holds batch 0
    assert produced == [0, 1]  # one ahead, no more
    assert list(batches) == [1, 2, 3]


def test_read_ahead_closes_its_source_when_the_caller_stops():
    closed = threading.Event()

    def source():
        try:
            yield from range(10)
        finally:
            closed.set()

    for batch in read_ahead(source()):
        if batch == 2:
            break
    assert closed.is_set()


def test_read_ahead_raises_a_read_error_where_the_caller_asks_for_that_batch():
    def source():
        yield 1
        raise OperationFailure("the server went away")

    batches = read_ahead(source())
    assert next(batches) == 1
    with pytest.raises(OperationFailure, match="went away"):
        next(batches)
