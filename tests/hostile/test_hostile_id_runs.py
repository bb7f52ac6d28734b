"""Composed updates and deletes under attack: filters on `_id`, compound `_id`s, documents
inserted or deleted between batches, a cancel mid-run, rejected results and the undo limit
crossed mid-run. Counts are exact and undo covers exactly what was written."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from bulkadmin.operations import undo, updates
from bulkadmin.operations.progress import Cancelled
from tests.hostile.test_hostile_id_batches import Item, stored

pytestmark = pytest.mark.django_db


def object_ids(db, count: int) -> list[ObjectId]:
    ids = sorted(ObjectId() for _ in range(count))
    db.items.insert_many([{"_id": oid, "n": number, "status": "new"} for number, oid in enumerate(ids)])
    return ids


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_filters_on_id_touch_exactly_their_documents(db, batch_size):
    ids = object_ids(db, 9)
    cases: list[tuple[dict[str, Any], list[ObjectId]]] = [
        ({"id": ids[4]}, ids[4:5]),
        ({"id": {"$in": [ids[1], ids[7], ObjectId()]}}, [ids[1], ids[7]]),
        ({"id": {"$gt": ids[5]}}, ids[6:]),
        ({"id": {"$gte": ids[2], "$lt": ids[5]}}, ids[2:5]),
        ({"id": {"$ne": ids[0]}, "n": {"$lt": 3}}, ids[1:3]),
        ({"id": {"$nin": ids[:7]}}, ids[7:]),
        ({"$or": [{"id": ids[0]}, {"n": {"$gte": 8}}]}, [ids[0], ids[8]]),
        ({"$and": [{"id": {"$gt": ids[0]}}, {"id": {"$lt": ids[3]}}]}, ids[1:3]),
    ]
    for number, (query, expected) in enumerate(cases):
        before = stored(db)
        outcome = updates.run_update(
            model=Item,
            filter=query,
            update={"$set": {"status": f"s{number}"}},
            undo_key=200 + number,
            batch_size=batch_size,
            db=db,
        )
        assert (outcome.rows, outcome.counts.modified) == (len(expected), len(expected)), query
        assert sorted(d["_id"] for d in db.items.find({"status": f"s{number}"})) == expected, query
        assert undo.undo_job_writes(model=Item, job=200 + number, db=db).details["restored"] == len(expected)
        assert stored(db) == before, query


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_compound_ids_are_updated_once_and_restored(db, batch_size):
    ids = [{"a": 1, "b": 2}, {"a": 1, "b": 3}, {"a": 2}, {"z": [1, 2]}]
    db.items.insert_many([{"_id": doc_id, "n": number} for number, doc_id in enumerate(ids)])
    before = stored(db)
    outcome = updates.run_update(
        model=Item, filter={}, update={"$inc": {"n": 1}}, undo_key=21, batch_size=batch_size, db=db
    )
    assert (outcome.rows, outcome.counts.modified, outcome.details["undo_records"]) == (4, 4, 4), outcome.errors
    assert sorted(doc["n"] for doc in db.items.find()) == [1, 2, 3, 4]
    assert undo.undo_job_writes(model=Item, job=21, db=db).details["restored"] == 4
    assert stored(db) == before


def test_documents_inserted_and_deleted_between_batches(db):
    ids = object_ids(db, 10)
    late = ObjectId()  # above every _id read so far: it matches, and is reached
    calls = []

    def meddle(done: int, total: int | None = None) -> None:
        calls.append(done)
        if len(calls) == 2:
            db.items.insert_one({"_id": late, "n": 50})
            db.items.delete_one({"_id": ids[9]})
            db.items.insert_one({"_id": ObjectId("0" * 24), "n": 60})  # below: never reached

    outcome = updates.run_update(
        model=Item, filter={}, update={"$inc": {"n": 1}}, undo_key=22, batch_size=3, progress=meddle, db=db
    )
    assert (outcome.rows, outcome.counts.modified, outcome.details["undo_records"]) == (10, 10, 10)
    assert sorted(doc["n"] for doc in db.items.find()) == [*range(1, 10), 51, 60]
    restored = undo.undo_job_writes(model=Item, job=22, db=db)
    assert restored.details["restored"] == 10
    assert sorted(doc["n"] for doc in db.items.find()) == [*range(9), 50, 60]


def test_a_cancel_mid_run_counts_and_undoes_what_was_written(db):
    object_ids(db, 10)
    before = stored(db)

    def stop_after_two_batches(done: int, total: int | None = None) -> None:
        if done >= 6:
            raise Cancelled("stop")

    with pytest.raises(Cancelled) as stop:
        updates.run_update(
            model=Item,
            filter={},
            update={"$inc": {"n": 1}},
            undo_key=23,
            batch_size=3,
            progress=stop_after_two_batches,
            db=db,
        )
    partial = stop.value.result
    assert (partial.rows, partial.counts.modified, partial.details["undo_records"]) == (6, 6, 6)
    assert sorted(doc["n"] for doc in db.items.find()) == [*range(1, 7), 6, 7, 8, 9]
    assert undo.undo_job_writes(model=Item, job=23, db=db).details["restored"] == 6
    assert stored(db) == before


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_results_over_the_cap_are_rejected_by_position_and_the_rest_written(db, batch_size):
    ids = object_ids(db, 6)
    db.items.update_many({"_id": {"$in": [ids[1], ids[4]]}}, {"$set": {"n": 95}})
    before = stored(db)
    outcome = updates.run_update(
        model=Item, filter={}, update={"$inc": {"n": 10}}, undo_key=24, batch_size=batch_size, db=db
    )
    assert (outcome.rows, outcome.counts.modified, outcome.counts["rejected"]) == (6, 4, 2)
    assert [(error.index, error.field) for error in outcome.errors] == [(1, "n"), (4, "n")]
    assert sorted(doc["n"] for doc in db.items.find()) == [10, 12, 13, 15, 95, 95]
    assert outcome.details["undo_records"] == 4
    assert undo.undo_job_writes(model=Item, job=24, db=db).details["restored"] == 4
    assert stored(db) == before


def test_the_undo_limit_crossed_mid_run_drops_all_undo_data(db):
    object_ids(db, 7)
    update = {"$inc": {"n": 1}}
    outcome = updates.run_update(model=Item, filter={}, update=update, undo_key=25, batch_size=2, undo_limit=5, db=db)
    assert (outcome.rows, outcome.counts.modified) == (7, 7)
    assert (outcome.details["undo_records"], outcome.details["undo_available"]) == (0, False)
    assert undo.undo_record_count(25, db=db) == 0


def test_exactly_the_undo_limit_keeps_undo_data(db):
    object_ids(db, 6)
    before = stored(db)
    outcome = updates.run_update(
        model=Item,
        filter={},
        update={"$push": {"tags": "x"}, "$set": {"status": "s"}},
        undo_key=26,
        batch_size=4,
        undo_limit=6,
        db=db,
    )
    assert (outcome.rows, outcome.counts.modified, outcome.details["undo_records"]) == (6, 6, 6)
    assert undo.undo_job_writes(model=Item, job=26, db=db).details["restored"] == 6
    assert stored(db) == before


def test_moving_documents_out_of_the_filter_touches_each_once(db):
    object_ids(db, 11)
    outcome = updates.run_update(
        model=Item, filter={"status": "new"}, update={"$set": {"status": "old"}, "$inc": {"n": 1}}, batch_size=2, db=db
    )
    assert (outcome.rows, outcome.counts.modified) == (11, 11)
    assert sorted(doc["n"] for doc in db.items.find()) == list(range(1, 12))
