"""What the server sends back: every BSON type bulkadmin stores comes back as stored (Decimal128,
ObjectIds nested in arrays and sub-documents, datetimes, binary), replies over 16 MB are split
across getMore batches, cursor ids are int64, and the replies of `count`, `aggregate`,
`listIndexes`, `killCursors` and `findAndModify` have MongoDB's shape."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64, ObjectId
from pymongo import MongoClient, ReturnDocument, monitoring
from pymongo.database import Database

BIG = 5 * 2**20  # ~5 MB documents: three fit in a 16 MB reply, not four


class Replies(monitoring.CommandListener):
    """The commands a client sent and the replies it got, by command name."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.replies: dict[str, list[dict[str, Any]]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.replies.setdefault(event.command_name, []).append(dict(event.reply))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def watched(mongo_uri: str, db: Database) -> Iterator[tuple[Database, Replies]]:
    """The test's database through a client whose commands and replies are recorded."""
    listener = Replies()
    client: MongoClient = MongoClient(mongo_uri, event_listeners=[listener], tz_aware=True)
    yield client[db.name], listener
    client.close()


def test_nested_object_ids_datetimes_and_binary_come_back_as_stored(coll):
    refs = [ObjectId() for _ in range(3)]
    when = dt.datetime(2026, 3, 1, 12, 30, 45, 123000, tzinfo=dt.UTC)
    document = {
        "_id": ObjectId(),
        "refs": refs,
        "deep": {"owner": refs[0], "history": [{"by": refs[1], "at": when}, {"by": refs[2], "cost": 9.5}]},
        "at": when,
        "blob": b"\x00\x01\xff" * 10,
        "empty": [],
        "nothing": None,
    }
    coll.insert_one(document)
    back = coll.find_one({"_id": document["_id"]})
    assert back == document
    assert [type(value) for value in back["refs"]] == [ObjectId] * 3
    assert type(back["deep"]["history"][0]["by"]) is ObjectId
    assert bytes(back["blob"]) == b"\x00\x01\xff" * 10


def test_documents_of_5_mb_come_back_whole_across_get_more_batches(watched):
    database, replies = watched
    coll = database["big"]
    for number in range(5):
        coll.insert_one(
            {"_id": number, "pad": "x" * BIG, "ref": ObjectId(), "at": dt.datetime(2026, 1, 1 + number, tzinfo=dt.UTC)}
        )
    replies.sent.clear()
    found = list(coll.find().sort("_id", 1))
    assert [doc["_id"] for doc in found] == [0, 1, 2, 3, 4]
    assert all(len(doc["pad"]) == BIG and type(doc["ref"]) is ObjectId for doc in found)
    assert [doc["at"].day for doc in found] == [1, 2, 3, 4, 5]
    assert replies.sent.count("getMore") >= 1  # one reply cannot hold 25 MB
    for reply in replies.replies["find"] + replies.replies.get("getMore", []):
        batch = reply["cursor"].get("firstBatch", reply["cursor"].get("nextBatch"))
        assert 1 <= len(batch) <= 3
        assert type(reply["cursor"]["id"]) is Int64
    assert replies.replies["getMore"][-1]["cursor"]["id"] == 0


def test_empty_results_are_empty_replies(watched):
    database, replies = watched
    coll = database["no_matches"]
    assert list(coll.find({"x": 1})) == []
    assert list(coll.aggregate([{"$match": {"x": 1}}])) == []
    assert coll.count_documents({}) == 0
    assert coll.find_one({"_id": ObjectId()}) is None
    reply = replies.replies["find"][0]["cursor"]
    assert (reply["firstBatch"], reply["id"], type(reply["id"])) == ([], 0, Int64)


def test_count_aggregate_and_list_indexes_replies(watched):
    database, replies = watched
    coll = database["shapes"]
    coll.insert_many(
        [{"_id": number, "kind": "ab"[number % 2], "ref": ObjectId(str(number) * 24)} for number in range(7)]
    )
    coll.create_index("kind", name="by_kind")
    assert database.command("count", "shapes", query={"kind": "a"})["n"] == 4
    grouped = list(coll.aggregate([{"$group": {"_id": "$kind", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]))
    assert grouped == [{"_id": "a", "n": 4}, {"_id": "b", "n": 3}]
    assert [doc["ref"] for doc in coll.aggregate([{"$match": {"_id": 3}}])] == [ObjectId("3" * 24)]
    keys = [index["key"] for index in coll.index_information().values()]
    assert sorted(keys) == [[("_id", 1)], [("kind", 1)]]
    for name in ("aggregate", "listIndexes"):
        for reply in replies.replies[name]:
            assert type(reply["cursor"]["id"]) is Int64 and reply["cursor"]["id"] == 0


def test_a_cursor_closed_early_is_killed(watched):
    database, replies = watched
    coll = database["killed"]
    coll.insert_many([{"_id": number} for number in range(10)])
    cursor = coll.find().sort("_id", 1).batch_size(2)
    assert next(cursor) == {"_id": 0}
    cursor_id = replies.replies["find"][0]["cursor"]["id"]
    assert cursor_id != 0 and type(cursor_id) is Int64
    cursor.close()
    assert replies.replies["killCursors"][0]["cursorsKilled"] == [cursor_id]
    assert [doc["_id"] for doc in coll.find().sort("_id", 1).batch_size(3)] == list(range(10))


@pytest.mark.parametrize("value", [False, 0, 0.0, "0"], ids=repr)
def test_find_and_modify_returns_a_field_named_id_as_stored(coll, value):
    doc_id = coll.insert_one({"n": 1}).inserted_id
    fields = {"id": value, "sub": {"id": value}, "list": [{"id": value}]}
    after = coll.find_one_and_update({"_id": doc_id}, {"$set": fields}, return_document=ReturnDocument.AFTER)
    found = coll.find_one({"_id": doc_id})
    for returned in (after, found):
        assert [returned["id"], returned["sub"]["id"], returned["list"][0]["id"]] == [value] * 3
        assert {type(returned["id"]), type(returned["sub"]["id"]), type(returned["list"][0]["id"])} == {type(value)}
    before = coll.find_one_and_update({"_id": doc_id}, {"$set": {"n": 2}})
    assert (before["id"], type(before["id"]), type(before["sub"]["id"])) == (value, type(value), type(value))


def test_decimal128_comes_back_as_stored_in_finds_and_find_and_modify(coll):
    document = {
        "_id": 1,
        "price": Decimal128("1234.5600"),
        "prices": [Decimal128("0.1")],
        "deep": {"c": Decimal128("9")},
    }
    coll.insert_one(document)
    assert coll.find_one({"_id": 1}) == document
    assert coll.find_one_and_update({"_id": 1}, {"$set": {"n": 1}}) == document


def test_find_and_modify_returns_nested_object_ids_and_datetimes(coll):
    refs = [ObjectId(), ObjectId()]
    when = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    doc_id = coll.insert_one({"refs": refs, "deep": {"ref": refs[0], "at": when, "id": 0}}).inserted_id
    before = coll.find_one_and_update({"_id": doc_id}, {"$set": {"n": 1}})
    assert before == {"_id": doc_id, "refs": refs, "deep": {"ref": refs[0], "at": when, "id": 0}}
    assert [type(ref) for ref in before["refs"]] == [ObjectId, ObjectId] and type(before["deep"]["id"]) is int
    assert coll.find_one_and_delete({"_id": doc_id})["n"] == 1
    assert coll.find_one_and_update({"_id": doc_id}, {"$set": {"n": 2}}) is None


def test_a_uuid_stored_as_binary_comes_back_as_a_uuid(coll):
    value = Binary.from_uuid(uuid.uuid4())
    doc_id = coll.insert_one({"u": value}).inserted_id
    assert coll.find_one({"_id": doc_id})["u"] == value.as_uuid()


def test_an_object_id_inside_a_sub_document_is_found(coll):
    ref = ObjectId()
    doc_id = coll.insert_one({"deep": {"owner": ref}}).inserted_id
    assert coll.find_one({"deep.owner": ref}, {"_id": 1}) == {"_id": doc_id}
