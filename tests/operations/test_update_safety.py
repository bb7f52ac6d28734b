"""Updates the model would reject never reach the server; the guide's unchanged-id `$set` runs."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert, bulk_update, bulk_write
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.operations import updates
from project.collections import User
from tests.factories import users


def test_guide_update_with_the_documents_own_id_in_set_runs(db):
    bulk_insert(User, users(2), db=db)
    first = db.users.find_one(sort=[("_id", 1)])
    data = {"id": first["_id"], "name": "Updated Name"}
    result = bulk_write(User, [{"update_one": {"filter": {"id": data["id"]}, "update": {"$set": data}}}], db=db)
    assert result.modified_count == 1
    assert db.users.find_one({"_id": first["_id"]})["name"] == "Updated Name"
    assert db.users.count_documents({"name": "Updated Name"}) == 1


def test_set_of_only_the_unchanged_id_changes_nothing(db):
    bulk_insert(User, users(1), db=db)
    before = db.users.find_one()
    result = bulk_update(User, [{"filter": {"id": before["_id"]}, "update": {"$set": {"id": before["_id"]}}}], db=db)
    assert result.matched == 1
    assert result.modified == 0
    assert db.users.find_one() == before


def test_a_changed_id_is_still_refused(db):
    bulk_insert(User, users(2), db=db)
    first, second = db.users.find().sort("_id", 1)
    with pytest.raises(Exception, match="id of a document"):
        bulk_update(User, [{"filter": {"id": first["_id"]}, "update": {"$set": {"id": second["_id"]}}}], db=db)
    assert db.users.find_one({"_id": first["_id"]}) == first


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"$currentDate": {"name": True}}, "name"),
        ({"$currentDate": {"tags": True}}, "tags"),
        ({"$inc": {"age": 1.5}}, "age"),
        ({"$mul": {"name": 2}}, "name"),
        ({"$push": {"name": "x"}}, "name"),
        ({"$pop": {"name": 1}}, "name"),
        ({"$set": {"tags.0": {"a": 1}}}, "tags.0"),
        ({"$set": {"name.x": 1}}, "name.x"),
        ({"$set": {"age.x": 1}}, "age.x"),
        ({"$set": {"tags.$[x]": "a"}}, "tags.$[x]"),
        ({"$set": {"tags.$[]": {"a": 1}}}, "tags.$[]"),
        ({"$set": {"name.$where": "1"}}, "name.$where"),
        ({"$inc": {"name": 1}}, "name"),
        ({"$push": {"tags": {"$each": ["a"], "$slice": "bad"}}}, "tags"),
    ],
)
def test_composer_updates_the_model_rejects_are_form_errors_and_nothing_changes(db, update, field):
    bulk_insert(User, users(3, tags=["a"]), db=db)
    before = list(db.users.find().sort("_id", 1))
    with pytest.raises(InvalidSpec) as caught:
        updates.preview(model=User, filter={}, update=update, db=db)
    assert caught.value.field == field
    with pytest.raises(InvalidSpec):
        updates.run_update(model=User, filter={}, update=update, db=db)
    assert list(db.users.find().sort("_id", 1)) == before


@pytest.mark.parametrize(
    "filter",
    [{"tags.0": {"x": {"$where": "1"}}}, {"tags.$[x]": "a"}, {"name": {"$regex": '^"(.*)*X'}}],
)
def test_composer_filters_that_failed_on_the_server_are_form_errors(db, filter):
    bulk_insert(User, users(2), db=db)
    with pytest.raises(InvalidSpec) as caught:
        updates.preview(model=User, filter=filter, db=db)
    assert caught.value.field == next(iter(filter))


def test_preview_of_inc_on_a_stored_text_value_is_a_form_error(db):
    bulk_insert(User, users(1), db=db)
    db.users.update_one({}, {"$set": {"total_spent": "lots"}})  # data written by something else
    with pytest.raises(InvalidSpec, match="not a number") as caught:
        updates.preview(model=User, filter={}, update={"$inc": {"total_spent": 1}}, db=db)
    assert caught.value.field == "total_spent"


def test_preview_shows_array_element_updates_like_the_server(db):
    bulk_insert(User, users(1, tags=["a", "b"]), db=db)
    update = {"$set": {"tags.$[]": "z"}}
    sample = updates.preview(model=User, filter={}, update=update, db=db).samples[0]
    bulk_update(User, [{"filter": {}, "update": update}], db=db)
    assert sample.after == db.users.find_one()
