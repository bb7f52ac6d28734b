"""MongoModel: `id` <-> `_id`, stored forms, field-path translation."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from bson import ObjectId

from bulkadmin.core.documents import MongoModel, storage_path, to_storage
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.storable import MAX_DEPTH, check_depth, check_storable
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


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_date_leaving_the_calendar_in_utc_is_named_not_an_overflow(text):
    with pytest.raises(InvalidSpec, match="outside the dates MongoDB stores") as caught:
        to_storage({"events": [{"at": dt.datetime.fromisoformat(text)}]})
    assert caught.value.field == "events.0.at"
    with pytest.raises(InvalidSpec) as caught:
        User(name="A", email="a@example.com", created_at=text).to_document()
    assert caught.value.field == "created_at"


def test_depth_is_checked_without_recursion_at_any_depth():
    deep: dict = {}
    for _ in range(20_000):
        deep = {"n": deep}
    with pytest.raises(InvalidSpec, match="nested deeper than 100 levels") as caught:
        check_depth({"data": deep})
    assert caught.value.field == "data" + ".n" * 99
    at_limit: dict = {}
    for _ in range(MAX_DEPTH - 1):
        at_limit = {"n": at_limit}
    check_depth(at_limit)  # 100 levels, none deeper: accepted
    with pytest.raises(InvalidSpec):
        check_depth({"x": at_limit})
    check_depth([[[1]]], limit=3)


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        ({"a": {"b": 2**63}}, "a.b", "64-bit"),
        ({"a": [-(2**63) - 1]}, "a.0", "64-bit"),
        ({"x": math.nan}, "x", "NaN and Infinity"),
        ({"x": [1.5, -math.inf]}, "x.1", "NaN and Infinity"),
        ({"name": "J\udc80rg"}, "name", "not valid Unicode"),
        ({"sub": {"k\ud800": 1}}, "sub", "field name is not valid Unicode"),
    ],
)
def test_unstorable_values_are_named_by_path(document, field, words):
    with pytest.raises(InvalidSpec, match=words) as caught:
        check_storable(document)
    assert caught.value.field == field


def test_storable_values_pass():
    check_storable(
        {"i": 2**63 - 1, "j": -(2**63), "f": 1.5, "s": "Jörg ✓", "l": [True, None, {"d": dt.datetime(2026, 1, 1)}]}
    )
