"""The preview's Python apply_update: MongoDB's answer for each operator, or a form error."""

from __future__ import annotations

import datetime as dt

import pytest

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.operations.simulate import apply_update

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("document", "update", "field", "operator"),
    [
        ({"_id": 1, "name": "Ann"}, {"$inc": {"name": 1}}, "name", "$inc"),
        ({"_id": 1, "name": "Ann"}, {"$mul": {"name": 2}}, "name", "$mul"),
        ({"_id": 1, "name": "Ann"}, {"$push": {"name": "x"}}, "name", "$push"),
        ({"_id": 1, "name": "Ann"}, {"$addToSet": {"name": "x"}}, "name", "$addToSet"),
        ({"_id": 1, "name": "Ann"}, {"$pop": {"name": 1}}, "name", "$pop"),
        ({"_id": 1, "name": "Ann"}, {"$pull": {"name": "A"}}, "name", "$pull"),
        ({"_id": 1, "name": "Ann"}, {"$pullAll": {"name": ["A"]}}, "name", "$pullAll"),
        ({"_id": 1, "name": "Ann"}, {"$set": {"name.x": 1}}, "name.x", "$set"),
        ({"_id": 1, "tags": ["a"]}, {"$set": {"tags.x": 1}}, "tags.x", "$set"),
        ({"_id": 1, "tags": ["a"]}, {"$set": {"tags.$": "b"}}, "tags.$", "$"),
    ],
)
def test_updates_mongodb_would_refuse_for_a_document_are_form_errors(document, update, field, operator):
    with pytest.raises(InvalidSpec) as caught:
        apply_update(document, update, now=NOW)
    assert caught.value.field == field
    assert caught.value.operator == operator
    assert repr(field) in str(caught.value)


def test_all_elements_positional_updates_every_element():
    document = {"_id": 1, "tags": ["a", "b"], "items": [{"n": 1}, {"n": 2}]}
    after = apply_update(document, {"$set": {"tags.$[]": "x"}, "$inc": {"items.$[].n": 10}}, now=NOW)
    assert after["tags"] == ["x", "x"]
    assert after["items"] == [{"n": 11}, {"n": 12}]
    assert apply_update({"_id": 1}, {"$set": {"tags.$[]": "x"}}, now=NOW) == {"_id": 1}


def test_push_modifiers_and_pull_all():
    document = {"_id": 1, "tags": ["c", "a"], "scores": [{"s": 2}, {"s": 9}]}
    update = {
        "$push": {
            "tags": {"$each": ["b"], "$position": 0, "$sort": -1, "$slice": 2},
            "scores": {"$each": [{"s": 5}], "$sort": {"s": 1}},
        },
        "$pullAll": {"other": ["x"]},
    }
    after = apply_update(document, update, now=NOW)
    assert after["tags"] == ["c", "b"]
    assert after["scores"] == [{"s": 2}, {"s": 5}, {"s": 9}]
    assert apply_update({"tags": ["a", "b", "a"]}, {"$pullAll": {"tags": ["a"]}}, now=NOW) == {"tags": ["b"]}


def test_unset_of_an_element_leaves_null_like_mongodb():
    assert apply_update({"tags": ["a", "b"]}, {"$unset": {"tags.0": ""}}, now=NOW) == {"tags": [None, "b"]}
