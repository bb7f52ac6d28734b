"""The composed bulk update / delete operation and its undo, against a real server."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert, bulk_update
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.operations import undo, updates
from project.collections import User
from tests.factories import users


def test_preview_counts_matches_and_shows_samples_after_without_writing(db):
    bulk_insert(User, users(12), db=db)
    preview = updates.preview(model=User, filter={"age": {"$gte": 25}}, update={"$set": {"tier": "gold"}}, db=db)
    assert preview.count == 7
    assert len(preview.samples) == 5
    assert all(sample.after["tier"] == "gold" for sample in preview.samples)
    assert preview.samples[0].changed_keys == ["tier"]
    assert db.users.count_documents({"tier": "gold"}) == 0


def test_preview_applies_inc_push_and_unset_like_the_server(db):
    bulk_insert(User, users(1, tags=["a"], tier="gold"), db=db)
    update = {"$inc": {"age": 2}, "$push": {"tags": "b"}, "$unset": {"tier": ""}, "$mul": {"total_spent": 2}}
    sample = updates.preview(model=User, filter={}, update=update, db=db).samples[0]
    bulk_update(User, [{"filter": {}, "update": update}], db=db)
    stored = db.users.find_one()
    assert sample.after == stored


def test_preview_rejects_where_and_unknown_fields(db):
    with pytest.raises(InvalidSpec, match=r"\$where"):
        updates.preview(model=User, filter={"$where": "1"}, db=db)
    with pytest.raises(InvalidSpec, match="nickname"):
        updates.preview(model=User, filter={}, update={"$set": {"nickname": "x"}}, db=db)


def test_run_update_writes_by_id_in_batches_and_undo_restores_pre_images(db):
    bulk_insert(User, users(25), db=db)
    before = {doc["_id"]: doc for doc in db.users.find()}
    outcome = updates.run_update(
        model=User, filter={"age": {"$lt": 40}}, update={"$set": {"tier": "gold"}}, undo_key=7, batch_size=4, db=db
    )
    assert (outcome.rows, outcome.counts.matched, outcome.counts.modified) == (20, 20, 20)
    assert len(outcome.batches) == 5
    assert outcome.details["undo_records"] == 20 and outcome.details["undo_available"]
    assert db.users.count_documents({"tier": "gold"}) == 20
    restored = undo.undo_job_writes(model=User, job=7, batch_size=6, db=db)
    assert (restored.details["restored"], restored.counts.unchanged, restored.details["conflicts"]) == (20, 0, ())
    assert {doc["_id"]: doc for doc in db.users.find()} == before


def test_undo_leaves_documents_changed_since_and_lists_them_as_conflicts(db):
    bulk_insert(User, users(5), db=db)
    updates.run_update(model=User, filter={}, update={"$inc": {"age": 1}}, undo_key=3, db=db)
    changed = db.users.find_one({"email": "user2@example.com"})
    bulk_update(User, [{"filter": {"email": "user2@example.com"}, "update": {"$set": {"name": "Someone"}}}], db=db)
    outcome = undo.undo_job_writes(model=User, job=3, db=db)
    assert outcome.details["restored"] == 4
    assert outcome.details["conflicts"] == (str(changed["_id"]),)
    assert outcome.failed == 1
    assert db.users.find_one({"_id": changed["_id"]})["name"] == "Someone"
    assert sorted(doc["age"] for doc in db.users.find()) == [20, 21, 23, 23, 24]


def test_undo_of_a_float_inc_restores_every_document_exactly(db):
    spent = [2198.0299999999997, 0.1 + 0.2, 1 / 3, 123456.78901234567, 1e-300, 7.0, 0.0, 99.99, 1e15 + 0.3, 5e-324]
    bulk_insert(User, [{**user, "total_spent": spent[i]} for i, user in enumerate(users(10))], db=db)
    before = {doc["_id"]: doc for doc in db.users.find()}
    outcome = updates.run_update(model=User, filter={}, update={"$inc": {"total_spent": 1000}}, undo_key=5, db=db)
    assert outcome.counts.modified == 10
    assert sorted(doc["total_spent"] for doc in db.users.find()) == sorted(value + 1000 for value in spent)
    restored = undo.undo_job_writes(model=User, job=5, db=db)
    assert (restored.details["restored"], restored.details["conflicts"], restored.failed) == (10, (), 0)
    assert {doc["_id"]: doc for doc in db.users.find()} == before


def test_run_delete_keeps_pre_images_and_undo_reinserts_them(db):
    bulk_insert(User, users(10), db=db)
    before = {doc["_id"]: doc for doc in db.users.find()}
    outcome = updates.run_delete(model=User, filter={"age": {"$gte": 25}}, undo_key=9, batch_size=3, db=db)
    assert (outcome.rows, outcome.counts.deleted) == (5, 5)
    assert db.users.count_documents({}) == 5
    restored = undo.undo_job_writes(model=User, job=9, db=db)
    assert restored.details["restored"] == 5
    assert {doc["_id"]: doc for doc in db.users.find()} == before


def test_no_undo_data_is_kept_above_the_undo_limit(db):
    bulk_insert(User, users(5), db=db)
    outcome = updates.run_delete(model=User, filter={}, undo_key=4, undo_limit=3, db=db)
    assert outcome.counts.deleted == 5
    assert (outcome.details["undo_records"], outcome.details["undo_available"]) == (0, False)
    assert undo.undo_record_count(4, db=db) == 0
