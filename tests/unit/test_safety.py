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
    assert translate_update(User, {"$addToSet": {"tags": {"$each": ["a", "b"]}}}) == {
        "$addToSet": {"tags": {"$each": ["a", "b"]}},
    }
    assert translate_update(User, {"$pull": {"tags": "c"}}) == {"$pull": {"tags": "c"}}
    assert translate_update(User, {"$currentDate": {"last_login": True}}) == {"$currentDate": {"last_login": True}}


# Every update operator is checked against the type of the field it targets.


@pytest.mark.parametrize(
    ("update", "field", "operator"),
    [
        ({"$currentDate": {"name": True}}, "name", "$currentDate"),
        ({"$currentDate": {"tags": True}}, "tags", "$currentDate"),
        ({"$currentDate": {"last_login": {"$type": "timestamp"}}}, "last_login", "$currentDate"),
        ({"$inc": {"age": 1.5}}, "age", "$inc"),
        ({"$mul": {"age": 0.5}}, "age", "$mul"),
        ({"$mul": {"name": 2}}, "name", "$mul"),
        ({"$inc": {"name": 1}}, "name", "$inc"),
        ({"$inc": {"is_active": 1}}, "is_active", "$inc"),
        ({"$inc": {"external_id": 1}}, "external_id", "$inc"),  # int | str: a text value can't be incremented
        ({"$inc": {"age": True}}, "age", "$inc"),
        ({"$push": {"name": "x"}}, "name", "$push"),
        ({"$pop": {"name": 1}}, "name", "$pop"),
        ({"$pop": {"tags": True}}, "tags", "$pop"),
        ({"$pull": {"email": "x"}}, "email", "$pull"),
        ({"$addToSet": {"age": 3}}, "age", "$addToSet"),
        ({"$pullAll": {"name": ["x"]}}, "name", "$pullAll"),
        ({"$pullAll": {"tags": "x"}}, "tags", "$pullAll"),
        ({"$push": {"tags": 5}}, "tags", "$push"),
        ({"$push": {"tags": {"$each": [{"a": 1}]}}}, "tags", "$push"),
        ({"$push": {"tags": {"$slice": 2}}}, "tags", "$push"),
        ({"$push": {"tags": {"$each": ["a"], "$slice": "bad"}}}, "tags", "$slice"),
        ({"$push": {"tags": {"$each": ["a"], "$position": 1.5}}}, "tags", "$position"),
        ({"$push": {"tags": {"$each": ["a"], "$sort": {"x": 1}}}}, "tags", "$sort"),
        ({"$push": {"tags": {"$each": "a"}}}, "tags", "$push"),
        ({"$addToSet": {"tags": {"$each": ["a"], "$slice": 1}}}, "tags", "$slice"),
        ({"$set": {"tags.0": {"a": 1}}}, "tags.0", "$set"),
        ({"$set": {"tags.$[]": 7.5}}, "tags.$[]", "$set"),
        ({"$unset": {"tags.0": ""}}, "tags.0", "$unset"),
        ({"$max": {"age": 200}}, "age", "$max"),
        ({"$min": {"last_login": "soon"}}, "last_login", "$min"),
        ({"$set": {"profile.bio": 3}}, "profile.bio", "$set"),
        ({"$unset": {"profile.nickname": ""}}, "profile.nickname", None),
    ],
)
def test_update_operators_are_checked_against_the_field_they_target(update, field, operator):
    with pytest.raises(InvalidSpec) as caught:
        translate_update(User, update)
    assert caught.value.field == field
    assert field in str(caught.value)
    if operator is not None:
        assert caught.value.operator == operator


def test_update_operators_accept_what_the_field_types_allow():
    update = {
        "$inc": {"age": 2, "total_spent": 1.5},
        "$mul": {"discount": 0.5},
        "$currentDate": {"last_login": {"$type": "date"}},
        "$push": {"tags": {"$each": ["b", "a"], "$position": 0, "$slice": -5, "$sort": 1}},
        "$set": {"profile.bio": "hi"},
        "$min": {"external_id": 10},
    }
    assert translate_update(User, update) == update
    assert translate_update(User, {"$pullAll": {"tags": ["z"]}}) == {"$pullAll": {"tags": ["z"]}}
    assert translate_update(User, {"$set": {"tags.0": "first"}}) == {"$set": {"tags.0": "first"}}
    assert translate_update(User, {"$set": {"tags.$[]": "x"}}) == {"$set": {"tags.$[]": "x"}}
    assert translate_update(User, {"$pull": {"tags": {"$in": ["a", "b"]}}}) == {"$pull": {"tags": {"$in": ["a", "b"]}}}
    assert translate_update(User, {"$unset": {"profile.bio": ""}}) == {"$unset": {"profile.bio": ""}}


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"$set": {"name.x": 1}}, "name.x"),
        ({"$set": {"age.x": 1}}, "age.x"),
        ({"$set": {"tags.x": "a"}}, "tags.x"),
        ({"$set": {"tags.$[x]": "a"}}, "tags.$[x]"),
        ({"$set": {"name.$where": "1"}}, "name.$where"),
        ({"$set": {"name.$[]": "a"}}, "name.$[]"),
        ({"$set": {"tags.$": "a"}}, "tags.$"),  # the positional $ needs a filter on tags
        ({"$set": {"profile..bio": "a"}}, "profile..bio"),
        ({"$set": {"id.x": 1}}, "id.x"),
        ({"$set": {"profile.bio.x": "a"}}, "profile.bio.x"),
    ],
)
def test_paths_go_only_into_sub_models_and_lists(update, field):
    with pytest.raises(InvalidSpec) as caught:
        translate_update(User, update)
    assert caught.value.field == field
    assert repr(field) in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"tags.0": {"x": {"$where": "1"}}}, "tags.0"),
        ({"tags.$[x]": "a"}, "tags.$[x]"),
        ({"tags.$[]": "a"}, "tags.$[]"),
        ({"tags.$": "a"}, "tags.$"),
        ({"name.x": "a"}, "name.x"),
        ({"age": {"$exists": 1}}, "age"),
        ({"age": {"$size": -1}}, "age"),
        ({"age": {"$type": "integer"}}, "age"),
        ({"age": {"$not": 3}}, "age"),
        ({"name": {"$options": "i"}}, "name"),
        ({"name": {"$regex": "a", "$options": "g"}}, "name"),
        ({"tags": {"$elemMatch": {"x": 1}}}, "tags"),
        ({"age": {"$elemMatch": {"$gt": 1}}}, "age"),
    ],
)
def test_bad_filters_are_form_errors_naming_the_field(spec, field):
    with pytest.raises(InvalidSpec) as caught:
        translate_filter(User, spec)
    assert caught.value.field == field


def test_filters_address_list_elements_and_sub_documents():
    assert translate_filter(User, {"tags.0": "a", "profile.bio": {"$regex": "^x"}}) == {
        "tags.0": "a",
        "profile.bio": {"$regex": "^x"},
    }
    assert translate_filter(User, {"tags": {"$elemMatch": {"$in": ["a"]}}}) == {"tags": {"$elemMatch": {"$in": ["a"]}}}


def test_set_of_the_unchanged_id_is_accepted_when_the_filter_pins_it():
    oid = ObjectId()
    query = translate_filter(User, {"id": str(oid)})
    update = translate_update(User, {"$set": {"id": str(oid), "name": "Updated"}}, filter=query)
    assert update == {"$set": {"name": "Updated"}}
    assert translate_update(User, {"$set": {"id": oid}}, filter={"_id": {"$eq": oid}}) == {"$set": {"_id": oid}}
    with pytest.raises(InvalidSpec, match="id of a document") as caught:
        translate_update(User, {"$set": {"id": str(ObjectId())}}, filter=query)
    assert caught.value.field == "id"
    with pytest.raises(InvalidSpec, match="id of a document"):
        translate_update(User, {"$set": {"id": str(oid)}}, filter={"_id": {"$in": [oid]}})
    with pytest.raises(InvalidSpec, match="id of a document"):
        translate_update(User, {"$set": {"id": str(oid)}})


def test_positional_dollar_needs_a_filter_on_the_list():
    update = translate_update(User, {"$set": {"tags.$": "b"}}, filter=translate_filter(User, {"tags": "a"}))
    assert update == {"$set": {"tags.$": "b"}}


# Limits: depth, numbers, text.


def _nested(depth: int) -> dict:
    value: dict = {"a": 1}
    for _ in range(depth):
        value = {"x": value}
    return value


@pytest.mark.parametrize("depth", [21, 5_000, 10_000])
def test_deep_filters_and_updates_are_refused_without_recursion_errors(depth):
    with pytest.raises(InvalidSpec, match="deeper than 20 levels") as caught:
        translate_filter(User, {"profile": _nested(depth)})
    assert caught.value.field == "profile"
    with pytest.raises(InvalidSpec, match="deeper than 20 levels") as caught:
        translate_update(User, {"$set": {"profile": _nested(depth)}})
    assert caught.value.field == "profile"
    assert caught.value.operator == "$set"


def test_and_nested_500_deep_is_refused_naming_the_operator():
    spec: dict = {"name": "a"}
    for _ in range(500):
        spec = {"$and": [spec]}
    with pytest.raises(InvalidSpec, match="deeper than 20 levels") as caught:
        translate_filter(User, spec)
    assert caught.value.operator == "$and"


def test_a_filter_at_the_depth_limit_is_accepted():
    spec: dict = {"name": "a"}
    for _ in range(9):  # each $and adds an object and a list: 19 levels
        spec = {"$and": [spec]}
    assert translate_filter(User, spec) == spec


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2**63, "64-bit"),
        (-(2**63) - 1, "64-bit"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("J\udc80rg", "surrogate"),
    ],
)
def test_values_mongodb_cannot_store_are_refused_naming_the_field(value, message):
    with pytest.raises(InvalidSpec, match=message) as caught:
        translate_filter(User, {"external_id": value})
    assert caught.value.field == "external_id"
    with pytest.raises(InvalidSpec, match=message) as caught:
        translate_update(User, {"$set": {"external_id": value}})
    assert caught.value.field == "external_id"


def test_number_text_that_becomes_infinite_or_too_large_is_refused():
    with pytest.raises(InvalidSpec, match="finite") as caught:
        translate_update(User, {"$set": {"total_spent": "1e999"}})
    assert caught.value.field == "total_spent"
    with pytest.raises(InvalidSpec, match="64-bit") as caught:
        translate_filter(User, {"external_id": {"$in": [1, 2**64]}})
    assert caught.value.field == "external_id"
    with pytest.raises(InvalidSpec, match="64-bit"):
        translate_update(User, {"$inc": {"total_spent": 2**70}})


def test_keys_must_be_storable_strings():
    with pytest.raises(InvalidSpec, match="strings"):
        translate_filter(User, {"name": {1: "a"}})
    with pytest.raises(InvalidSpec, match="cannot store") as caught:
        translate_update(User, {"$set": {"name\x00": "a"}})
    assert caught.value.operator == "$set"


# $regex limits.


@pytest.mark.parametrize(
    "pattern",
    ['^"(.*)*X', "(a+)+$", "(a|a)*b", r"(\w|\d)+$", r"(x+x+)+y", r"(a)\1", "a{5000}", ".*.*.*.*x", "(", "x" * 201],
)
def test_catastrophic_or_oversized_regexes_are_refused(pattern):
    for spec in ({"name": {"$regex": pattern}}, {"name": {"$not": {"$regex": pattern}}}):
        with pytest.raises(InvalidSpec, match=r"\$regex") as caught:
            translate_filter(User, spec)
        assert caught.value.field == "name"


@pytest.mark.parametrize("spec", [{"name": re.compile("(a+)+$")}, {"name": {"$in": ["x", re.compile("(.*)*")]}}])
def test_compiled_patterns_are_limited_too(spec):
    with pytest.raises(InvalidSpec, match=r"\$regex") as caught:
        translate_filter(User, spec)
    assert caught.value.field == "name"


def test_ordinary_regexes_pass():
    for pattern in ["^A", "gmail\\.com$", "^[^@\\s]+@x\\.org$", "(?:foo|bar)+", "a.*b.*c", re.escape("a.b*c")]:
        assert translate_filter(User, {"email": {"$regex": pattern, "$options": "i"}})["email"]["$regex"] == pattern


def test_user_read_time_limit_is_a_setting(settings):
    from bulkadmin.core.safety import USER_READ_MAX_TIME_MS, user_read_max_time_ms

    assert user_read_max_time_ms() == USER_READ_MAX_TIME_MS
    settings.BULKADMIN_USER_READ_MAX_TIME_MS = 750
    assert user_read_max_time_ms() == 750


def test_lists_of_sub_documents_maps_and_free_form_fields():
    from tests.fuzz.strategies import Order

    assert translate_update(Order, {"$inc": {"items.$[].quantity": 2, "counts.a": 1}}) == {
        "$inc": {"items.$[].quantity": 2, "counts.a": 1}
    }
    assert translate_update(Order, {"$push": {"items": {"sku": "x"}}}) == {
        "$push": {"items": {"sku": "x", "quantity": 1, "price": 0.0}}
    }
    assert translate_update(Order, {"$pull": {"items": {"sku": "x"}}}) == {"$pull": {"items": {"sku": "x"}}}
    sort = {"$push": {"items": {"$each": [], "$sort": {"sku": 1, "price": -1}}}}
    assert translate_update(Order, sort) == sort
    assert translate_filter(Order, {"items.sku": "x", "meta.any.path": 1}) == {"items.sku": "x", "meta.any.path": 1}
    refused = [
        ({"$unset": {"items.0.sku": ""}}, "items.0.sku", "required field"),
        ({"$inc": {"items.$[].quantity": 0.5}}, "items.$[].quantity", "whole number"),
        ({"$inc": {"counts.a": 1.5}}, "counts.a", "whole number"),
        ({"$set": {"meta.x": {"$where": "1"}}}, "meta.x", "cannot start with $"),
        ({"$set": {"meta.x": {"a.b": 1}}}, "meta.x", "hold a dot"),
        ({"$push": {"items": {"sku": "x", "$where": "1"}}}, "items", "$where"),
        ({"$pull": {"items": {"colour": "red"}}}, "items.colour", "Unknown field"),
        ({"$push": {"items": {"$each": [], "$sort": {"colour": 1}}}}, "colour", "Unknown field"),
        ({"$push": {"items": {"$each": [], "$sort": {"sku": 2}}}}, "items", "directions"),
    ]
    for update, field, message in refused:
        with pytest.raises(InvalidSpec, match=re.escape(message)) as caught:
            translate_update(Order, update)
        assert caught.value.field == field


def test_two_operators_on_one_field_are_refused_naming_both():
    with pytest.raises(InvalidSpec) as caught:
        translate_update(User, {"$addToSet": {"tags": "a"}, "$pull": {"tags": "zz"}})
    assert str(caught.value).startswith("$pull of 'tags' and $addToSet of 'tags' touch the same field")
    with pytest.raises(InvalidSpec):
        translate_update(User, {"$set": {"profile": {"bio": "x"}}, "$unset": {"profile.bio": ""}})
    assert translate_update(User, {"$set": {"profile.bio": "x"}, "$inc": {"age": 1}}) == {
        "$set": {"profile.bio": "x"},
        "$inc": {"age": 1},
    }
