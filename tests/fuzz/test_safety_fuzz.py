"""Property: any filter or update gets a translation MongoDB can encode, or an `InvalidSpec`
naming its field or operator; the preview's apply_update answers the same way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import bson
from hypothesis import given
from hypothesis import strategies as st

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.safety import translate_filter, translate_update
from bulkadmin.operations.simulate import apply_update
from project.collections import User
from tests.fuzz.strategies import Order, filters, typed, updates, valid_update

MODELS = st.sampled_from([User, Order])
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DOCUMENTS = {
    User: User(name="Ann", email="ann@example.org", age=40, tags=["a", "b"], profile={"bio": "hi"}).to_document(),
    Order: Order(number=1, items=[{"sku": "x"}], counts={"a": 1}, meta={"k": [1, {"n": 2}]}).to_document(),
}


def _stored_or_refused_by_name(step: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """What `step` returns, checked to be storable as BSON; None when it refused by name."""
    try:
        done = step()
    except InvalidSpec as error:
        _names_its_field_or_operator(error)
        return None
    bson.encode(done)
    return done


def _names_its_field_or_operator(error: InvalidSpec) -> None:
    assert error.field is not None or error.operator, f"rejection names nothing: {error}"
    assert str(error)


@given(st.data(), MODELS)
def test_any_filter_is_translated_or_refused_by_name(data, model):
    spec = data.draw(filters(model))
    _stored_or_refused_by_name(lambda: translate_filter(model, spec))


@given(st.data(), MODELS, st.booleans())
def test_any_update_is_translated_or_refused_by_name_and_previews(data, model, pinned):
    spec = data.draw(updates(model))
    document = DOCUMENTS[model]
    query: dict[str, Any] | None = {"_id": document["_id"], "tags": "a"} if pinned else None
    translated = _stored_or_refused_by_name(lambda: translate_update(model, spec, filter=query))
    if translated is not None:
        _stored_or_refused_by_name(lambda: apply_update(document, translated, now=NOW))


@given(st.data(), MODELS)
def test_valid_updates_are_accepted_and_previewed_on_any_stored_document(data, model):
    translated = translate_update(model, data.draw(valid_update(model)))
    keys = [info.alias or name for name, info in model.model_fields.items()]
    document = data.draw(st.fixed_dictionaries({}, optional={key: typed for key in keys}))
    _stored_or_refused_by_name(lambda: apply_update(document, translated, now=NOW))
