"""Filters and updates: allow-listed operators, known fields, values typed by the model."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from bson import ObjectId

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.safety import translate_filter, translate_update
from project.collections import User


def test_filter_translates_id_and_types_values():
    oid = ObjectId()
    spec = {"id": {"$in": [str(oid)]}, "age": {"$gte": "30"}, "last_login": {"$lt": "2026-01-01"}}
    assert translate_filter(User, spec) == {
        "_id": {"$in": [oid]},
        "age": {"$gte": 30},
        "last_login": {"$lt": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
    }


def test_filter_allows_logical_operators_regex_and_array_elements():
    spec = {"$or": [{"status": "young"}, {"name": {"$regex": "^A", "$options": "i"}}], "tags": "vip"}
    assert translate_filter(User, spec) == spec
    assert translate_filter(User, {"name": re.compile("x")})["name"].pattern == "x"
    assert translate_filter(User, {"last_login": None}) == {"last_login": None}


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"$where": "this.a == 1"}, "$where"),
        ({"name": {"$function": {"body": "x"}}}, "$function"),
        ({"age": {"$not": {"$accumulator": {}}}}, "$accumulator"),
        ({"$expr": {"$eq": ["$a", 1]}}, "$expr"),
        ({"$or": [{"name": {"$where": "1"}}]}, "$where"),
        ({"tags": {"$elemMatch": {"$where": "1"}}}, "$where"),
    ],
)
def test_unsafe_operators_are_rejected_by_name(spec, named):
    with pytest.raises(InvalidSpec) as caught:
        translate_filter(User, spec)
    assert caught.value.operator == named
    assert named in str(caught.value)


def test_filter_names_unknown_fields_and_bad_values():
    with pytest.raises(InvalidSpec, match="'nickname'") as caught:
        translate_filter(User, {"nickname": "x"})
    assert caught.value.field == "nickname"
    with pytest.raises(InvalidSpec, match="age") as caught:
        translate_filter(User, {"age": {"$gt": "old"}})
    assert caught.value.field == "age"
    with pytest.raises(InvalidSpec, match=r"\$in needs a list"):
        translate_filter(User, {"age": {"$in": 3}})


def test_partial_set_validates_only_the_fields_it_sets():
    update = translate_update(User, {"$set": {"status": "young", "tier": "gold"}, "$inc": {"total_spent": 5}})
    assert update == {"$set": {"status": "young", "tier": "gold"}, "$inc": {"total_spent": 5}}


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"$set": {"status": "asleep"}}, "status"),
        ({"$set": {"age": -1}}, "age"),  # the model's ge=0 constraint holds for updates too
        ({"$set": {"nickname": "x"}}, "nickname"),
        ({"$set": {"id": "x"}}, "id of a document"),
        ({"$inc": {"age": "1"}}, "needs a number"),
        ({"$unset": {"name": ""}}, "required field"),
        ({"$rename": {"name": "n"}}, "$rename"),
        ({"name": "x"}, "not an operator"),
        ({}, "non-empty"),
        ({"$push": {"tags": {"$each": ["a"], "$where": "1"}}}, "$where"),
    ],
)
def test_bad_updates_are_rejected_with_a_clear_message(update, message):
    with pytest.raises(InvalidSpec, match=re.escape(message)):
        translate_update(User, update)


def test_array_updates_type_their_items():
    assert translate_update(User, {"$addToSet": {"tags": {"$each": ["a", "b"]}}, "$pull": {"tags": "c"}}) == {
        "$addToSet": {"tags": {"$each": ["a", "b"]}},
        "$pull": {"tags": "c"},
    }
    assert translate_update(User, {"$currentDate": {"last_login": True}}) == {"$currentDate": {"last_login": True}}
