"""Undo data of composed updates kept one record per batch: the digests computed from the
pre-images match what the server stored, for every operator, so undo restores every document
(and still reports documents changed since as conflicts)."""

from __future__ import annotations

import datetime as dt
import zlib

import pytest
from bson import Binary, Int64, decode_all

from bulkadmin.core.safety import translate_update
from bulkadmin.operations import undo, undo_batches, updates
from bulkadmin.operations.simulate import is_exact
from project.collections import User

WHEN = dt.datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=dt.UTC)


def seed(db, count: int = 7) -> dict:
    rows = [
        {
            "name": f"U{i}",
            "email": f"u{i}@example.com",
            "age": Int64(30 + i) if i % 2 else 30 + i,
            "total_spent": 10.5 * i,
            "tags": ["a"],
            "profile": {"bio": f"b{i % 3}", "avatar_url": None},
            "created_at": WHEN,
            "external_id": 2**31 - 3,
        }
        for i in range(count)
    ]
    db.users.insert_many(rows)
    return {doc["_id"]: doc for doc in db.users.find()}


UPDATES = [
    {"$inc": {"age": 1}, "$mul": {"total_spent": 1.5}},
    {"$set": {"tier": "gold", "last_login": WHEN + dt.timedelta(microseconds=999), "profile.bio": "there"}},
    {"$unset": {"profile": ""}, "$set": {"discount": 0.25, "tags": ["x", "y"]}},
    {"$inc": {"age": 1}, "$set": {"external_id": 2**40}},  # an int64
    {"$push": {"tags": "b"}, "$currentDate": {"last_sync": True}},
    {"$min": {"age": 31}, "$addToSet": {"tags": "a"}},
    {"$pull": {"tags": "zz"}},
]


@pytest.mark.parametrize("update", UPDATES, ids=lambda update: "+".join(update))
def test_undo_restores_every_document_whatever_the_update(db, update, monkeypatch):
    before = seed(db)
    read_back = []
    record_after = undo_batches.record_after
    monkeypatch.setattr(undo_batches, "record_after", lambda **kw: read_back.append(1) or record_after(**kw))
    outcome = updates.run_update(model=User, filter={}, update=update, undo_key=5, batch_size=3, db=db)
    assert (outcome.counts.matched, outcome.details["undo_records"], outcome.details["undo_available"]) == (7, 7, True)
    assert db.bulkadmin_undo.count_documents({"job": 5}) == 3  # one record per batch
    # digests are computed from the pre-images for $set/$unset/$inc/$mul, else read back
    assert bool(read_back) == (not is_exact(translate_update(User, update)))
    changed = sum(db.users.find_one({"_id": doc_id}) != doc for doc_id, doc in before.items())
    restored = undo.undo_job_writes(model=User, job=5, batch_size=4, db=db)
    assert (restored.details["restored"], restored.counts.unchanged, restored.details["conflicts"]) == (
        changed,
        7 - changed,
        (),
    )
    assert {doc["_id"]: doc for doc in db.users.find()} == before


def test_documents_changed_after_the_update_are_conflicts_not_overwritten(db):
    before = seed(db)
    updates.run_update(model=User, filter={}, update={"$inc": {"age": 1}}, undo_key=6, batch_size=2, db=db)
    touched = next(iter(before))
    db.users.update_one({"_id": touched}, {"$set": {"name": "Someone"}})
    restored = undo.undo_job_writes(model=User, job=6, db=db)
    assert (restored.details["restored"], restored.details["conflicts"]) == (6, (str(touched),))
    assert db.users.find_one({"_id": touched})["name"] == "Someone"
    assert {k: v for k, v in before.items() if k != touched} == {
        doc["_id"]: doc for doc in db.users.find({"_id": {"$ne": touched}})
    }


def test_batch_records_are_split_under_the_size_limit(db, monkeypatch):
    before = seed(db)
    monkeypatch.setattr(undo_batches, "MAX_RECORD_BYTES", 400)
    updates.run_update(model=User, filter={}, update={"$set": {"tier": "gold"}}, undo_key=8, batch_size=7, db=db)
    assert db.bulkadmin_undo.count_documents({"job": 8}) > 1
    assert undo.undo_record_count(8, db=db) == 7
    assert undo.undo_job_writes(model=User, job=8, db=db).details["restored"] == 7
    assert {doc["_id"]: doc for doc in db.users.find()} == before


def test_digest_ignores_key_order_integer_width_and_microseconds():
    one = {"a": 1, "b": {"x": WHEN, "y": [1, 2]}}
    other = {"b": {"y": [Int64(1), 2], "x": WHEN.replace(microsecond=123000)}, "a": Int64(1)}
    assert undo_batches.digest(one) == undo_batches.digest(other)
    assert undo_batches.digest(one) != undo_batches.digest({**one, "a": 1.5})
    assert undo_batches.digest(None) == undo_batches.GONE


def test_pre_images_are_compressed_and_records_written_before_compression_still_undo(db):
    before = seed(db)
    updates.run_update(model=User, filter={}, update={"$set": {"tier": "gold"}}, undo_key=9, batch_size=3, db=db)
    records = list(db.bulkadmin_undo.find({"job": 9}))
    assert [record["packing"] for record in records] == ["zlib"] * 3
    # `doc_ids` (for finding the jobs that touched a document) only where the server indexes arrays
    assert all(("doc_ids" in record) == undo_batches.indexed_by_document(db) for record in records)
    for record in records:  # as records were kept before: raw BSON, with their documents' ids
        raw = zlib.decompress(bytes(record["before"]))
        ids = [document["_id"] for document in decode_all(raw)]
        db.bulkadmin_undo.update_one(
            {"_id": record["_id"]}, {"$set": {"before": Binary(raw), "doc_ids": ids}, "$unset": {"packing": ""}}
        )
    assert db.bulkadmin_undo.count_documents({"job": 9, "packing": {"$exists": True}}) == 0
    restored = undo.undo_job_writes(model=User, job=9, db=db)
    assert (restored.details["restored"], restored.details["conflicts"]) == (7, ())
    assert {doc["_id"]: doc for doc in db.users.find()} == before
