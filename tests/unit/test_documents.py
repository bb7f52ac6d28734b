"""MongoModel: `id` <-> `_id`, stored forms, field-path translation."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId

from bulkadmin.core.documents import MongoModel, storage_path, to_storage
from bulkadmin.core.exceptions import InvalidSpec
from project.collections import User


def test_id_is_generated_and_stored_as_underscore_id():
    user = User(name="A", email="a@example.com")
    document = user.to_document()
    assert isinstance(document["_id"], ObjectId)
    assert "id" not in document
    assert User.from_document(document).id == user.id


def test_id_accepts_hex_strings_and_rejects_other_text():
    oid = ObjectId()
    assert User(_id=str(oid), name="A", email="a@example.com").id == oid
    with pytest.raises(ValueError, match="not a valid ObjectId"):
        User(id="123", name="A", email="a@example.com")


def test_storage_path_translates_model_names_and_checks_nested_fields():
    assert storage_path(User, "id") == "_id"
    assert storage_path(User, "profile.bio") == "profile.bio"
    with pytest.raises(InvalidSpec, match="profile.nope") as caught:
        storage_path(User, "profile.nope")
    assert caught.value.field == "profile.nope"
    with pytest.raises(InvalidSpec, match="'nickname'"):
        storage_path(User, "nickname")


def test_to_storage_makes_utc_millisecond_datetimes():
    naive = dt.datetime(2026, 1, 2, 3, 4, 5, 678901)
    assert to_storage(naive) == dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    plus_two = dt.datetime(2026, 1, 2, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert to_storage({"a": [plus_two]}) == {"a": [dt.datetime(2026, 1, 2, 3, 0, tzinfo=dt.UTC)]}
    assert to_storage(dt.date(2026, 1, 2)) == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def test_extra_fields_are_rejected():
    class Thing(MongoModel):
        collection = "things"
        name: str

    with pytest.raises(ValueError, match="colour"):
        Thing(name="x", colour="red")
