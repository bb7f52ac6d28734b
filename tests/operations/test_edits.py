"""One document at a time (`operations.edits`): add, save and delete with the model's validation,
refused on a stale document, with undo data that restores the document exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import Decimal128, ObjectId

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.operations import document_jobs, edits, undo
from project.collections import User
from tests.factories import user

JOB = 7001


def _stored(db, **fields) -> dict:
    """One user stored as given (types kept: the undo must bring back exactly this)."""
    document = User.model_validate(user(1)).to_document() | fields
    db.users.insert_one(document)
    return db.users.find_one({"_id": document["_id"]})


def _undo(db, job: int = JOB):
    return undo.undo_job_writes(model=User, job=job, db=db)


def test_add_validates_with_the_model_and_stores_nothing_invalid(db):
    bad = User.model_validate(user(1)).to_document() | {"email": "not an email"}
    with pytest.raises(InvalidSpec) as refused:
        edits.add_document(model=User, document=bad, undo_key=JOB, db=db)
    assert refused.value.field == "email"
    assert db.users.count_documents({}) == 0
    assert db.bulkadmin_undo.count_documents({}) == 0


def test_add_then_undo_deletes_the_added_document(db):
    document = User.model_validate(user(1)).to_document()
    result = edits.add_document(model=User, document=document, undo_key=JOB, db=db)
    assert result.counts["inserted"] == 1 and result.details["undo_records"] == 1
    assert db.users.find_one() == document
    assert document_jobs.jobs_of(target="users", doc_id=document["_id"], db=db) == [JOB]
    undone = _undo(db)
    assert undone.details["deleted"] == 1
    assert db.users.count_documents({}) == 0


def test_add_of_a_duplicate_key_names_the_key_and_keeps_no_undo_data(db):
    _stored(db)
    twin = User.model_validate(user(1)).to_document()
    with pytest.raises(InvalidSpec, match="Another document already has this email") as refused:
        edits.add_document(model=User, document=twin, undo_key=JOB, db=db)
    assert refused.value.field == "email"
    assert db.users.count_documents({}) == 1
    assert db.bulkadmin_undo.count_documents({"job": JOB}) == 0
    assert document_jobs.jobs_of(target="users", doc_id=twin["_id"], db=db) == []


def test_save_replaces_and_undo_restores_the_document_exactly_types_included(db):
    loaded = _stored(
        db,
        external_id=5,
        total_spent=3.0,
        legacy={"price": Decimal128("1.10"), "ref": ObjectId(), "n": 1},
        last_login=dt.datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=dt.UTC),
    )
    changed = {**loaded, "name": "Renamed", "tier": "gold"}
    result = edits.save_document(model=User, loaded=loaded, document=changed, undo_key=JOB, db=db)
    assert result.counts["updated"] == 1
    assert [change["field"] for change in result.details["changes"]] == ["name", "tier"]
    assert db.users.find_one({"_id": loaded["_id"]})["name"] == "Renamed"
    assert _undo(db).counts["updated"] == 1
    restored = db.users.find_one({"_id": loaded["_id"]})
    assert restored == loaded and edits.fingerprint(restored) == edits.fingerprint(loaded)
    assert type(restored["total_spent"]) is float and type(restored["legacy"]["ref"]) is ObjectId
    assert restored["legacy"]["price"] == Decimal128("1.10")


def test_save_without_a_change_writes_nothing_and_keeps_no_undo_data(db):
    loaded = _stored(db)
    result = edits.save_document(model=User, loaded=loaded, document=dict(loaded), undo_key=JOB, db=db)
    assert result.counts["unchanged"] == 1 and result.counts["updated"] == 0
    assert result.details["undo_available"] is False
    assert db.bulkadmin_undo.count_documents({}) == 0


def test_save_of_a_document_changed_since_it_was_loaded_is_refused_naming_the_change(db):
    loaded = _stored(db)
    db.users.update_one({"_id": loaded["_id"]}, {"$set": {"age": 77}})
    with pytest.raises(edits.StaleDocument) as refused:
        edits.save_document(model=User, loaded=loaded, document={**loaded, "name": "Mine"}, undo_key=JOB, db=db)
    assert refused.value.changes == (edits.Change("age", "21", "77"),)
    assert "age: 21 → 77" in str(refused.value)
    stored = db.users.find_one({"_id": loaded["_id"]})
    assert stored["age"] == 77 and stored["name"] == "User 1"
    assert db.bulkadmin_undo.count_documents({}) == 0


def test_save_of_a_deleted_document_is_refused(db):
    loaded = _stored(db)
    db.users.delete_one({"_id": loaded["_id"]})
    with pytest.raises(edits.StaleDocument, match=r"\(deleted\)"):
        edits.save_document(model=User, loaded=loaded, document={**loaded, "name": "Mine"}, undo_key=JOB, db=db)
    assert db.users.count_documents({}) == 0


def test_save_cannot_change_the_id_or_store_an_invalid_value(db):
    loaded = _stored(db)
    with pytest.raises(InvalidSpec) as moved:
        edits.save_document(model=User, loaded=loaded, document={**loaded, "_id": ObjectId()}, undo_key=JOB, db=db)
    assert moved.value.field == "id"
    with pytest.raises(InvalidSpec) as invalid:
        edits.save_document(model=User, loaded=loaded, document={**loaded, "age": 400}, undo_key=JOB, db=db)
    assert invalid.value.field == "age"
    assert db.users.find_one({"_id": loaded["_id"]}) == loaded


def test_the_conditional_write_finds_only_the_document_as_loaded(db):
    loaded = _stored(db, tags=["a", "b"], profile={"bio": "hi", "avatar_url": None})
    condition = edits.write_filter(User, loaded)
    assert db.users.count_documents(condition) == 1
    for change in ({"tags": ["a"]}, {"profile.bio": "bye"}, {"tier": "gold"}):
        db.users.update_one({"_id": loaded["_id"]}, {"$set": change})
        assert db.users.count_documents(condition) == 0, change
        db.users.replace_one({"_id": loaded["_id"]}, loaded)


def test_delete_then_undo_puts_the_document_back_exactly(db):
    loaded = _stored(db, external_id="x-1", discount=0)
    result = edits.delete_document(model=User, loaded=loaded, undo_key=JOB, db=db)
    assert result.counts["deleted"] == 1
    assert db.users.count_documents({}) == 0
    assert document_jobs.jobs_of(target="users", doc_id=loaded["_id"], db=db) == [JOB]
    _undo(db)
    restored = db.users.find_one({"_id": loaded["_id"]})
    assert restored == loaded and edits.fingerprint(restored) == edits.fingerprint(loaded)
    assert type(restored["discount"]) is int


def test_delete_of_a_changed_document_is_refused_and_keeps_it(db):
    loaded = _stored(db)
    db.users.update_one({"_id": loaded["_id"]}, {"$set": {"tags": ["new"]}})
    with pytest.raises(edits.StaleDocument) as refused:
        edits.delete_document(model=User, loaded=loaded, undo_key=JOB, db=db)
    assert refused.value.changes == (edits.Change("tags", "[]", '["new"]'),)
    assert db.users.count_documents({}) == 1
    assert document_jobs.jobs_of(target="users", doc_id=loaded["_id"], db=db) == []


def test_undo_leaves_a_document_changed_after_the_edit_alone(db):
    loaded = _stored(db)
    edits.save_document(model=User, loaded=loaded, document={**loaded, "age": 30}, undo_key=JOB, db=db)
    db.users.update_one({"_id": loaded["_id"]}, {"$set": {"age": 31}})
    undone = _undo(db)
    assert undone.details["conflicts"] == (str(loaded["_id"]),)
    assert db.users.find_one({"_id": loaded["_id"]})["age"] == 31
