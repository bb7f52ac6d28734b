"""Random filters, updates and values: allow-listed operators and others, real and made-up paths."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bson import ObjectId
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.safety import FILTER_OPERATORS, LOGICAL_OPERATORS, UPDATE_OPERATORS

OTHER_OPERATORS = ["$where", "$expr", "$function", "$rename", "$bit", "$jsonSchema", "$text", "$[]", "$", "$[x]"]
MODIFIERS = ["$each", "$slice", "$position", "$sort"]


class Item(BaseModel):
    """A line of an order, stored as a sub-document in a list."""

    sku: str
    quantity: int = Field(default=1, ge=1)
    price: float = 0.0


class Order(MongoModel):
    """A model with every kind of field the checks know: lists of sub-documents, maps, free-form."""

    collection = "fuzz_orders"

    number: int
    items: list[Item] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    meta: dict = Field(default_factory=dict)
    anything: Any = None
    placed_at: dt.datetime | None = None
    codes: list[int] | None = None


PATH_PARTS = [
    "id", "name", "email", "age", "tags", "profile", "bio", "avatar_url", "last_login", "external_id",
    "total_spent", "is_active", "number", "items", "sku", "quantity", "counts", "meta", "anything",
    "placed_at", "codes", "0", "1", "x", "$", "$[]", "$[x]", "$where", "", "_id",
]  # fmt: skip

paths = st.lists(st.one_of(st.sampled_from(PATH_PARTS), st.text(max_size=4)), min_size=1, max_size=4).map(".".join)
all_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    all_text,
    st.datetimes(timezones=st.just(dt.UTC)),
    st.datetimes(),
    st.builds(ObjectId),
    st.sampled_from(["1e999", "nan", "2026-01-01", "active", "(a+)+", '^"(.*)*X', "gold", "a@b.org"]),
)
keys = st.one_of(
    paths,
    st.sampled_from(sorted(FILTER_OPERATORS | LOGICAL_OPERATORS | UPDATE_OPERATORS) + OTHER_OPERATORS + MODIFIERS),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=12,
)


@st.composite
def deep(draw: st.DrawFn) -> Any:
    """A value nested up to 60 levels, built without recursion."""
    value: Any = draw(scalars)
    for _ in range(draw(st.one_of(st.integers(min_value=0, max_value=22), st.just(60)))):
        key = draw(keys)
        value = draw(st.sampled_from([[value], {key: value}, {"$and": [{key: value}]}]))
    return value


PATHS = {
    "User": [
        "name", "age", "tags", "tags.0", "tags.$[]", "profile", "profile.bio", "last_login", "total_spent",
        "external_id", "is_active", "discount",
    ],
    "Order": [
        "number", "items", "items.0", "items.0.sku", "items.$[].quantity", "counts", "counts.a", "meta",
        "meta.x.y", "anything", "placed_at", "codes", "codes.1", "codes.$[]",
    ],
}  # fmt: skip
small = st.one_of(
    st.integers(min_value=-3, max_value=200),
    st.floats(min_value=-10, max_value=10),
    st.sampled_from(["a", "gold", "a@b.org", "2026-01-01", "", "x" * 300]),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.booleans(),
    st.none(),
)
typed = st.recursive(
    small,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.fixed_dictionaries({"sku": st.text(max_size=3)}, optional={"quantity": children}),
        st.dictionaries(st.sampled_from(["$in", "$gt", "$lt", "$ne", "$regex", "$exists", "$elemMatch"]), children),
    ),
    max_leaves=6,
)
modifiers = st.fixed_dictionaries(
    {"$each": st.lists(typed, max_size=3)},
    optional={"$slice": typed, "$position": typed, "$sort": st.one_of(typed, st.just({"sku": 1}))},
)
OPERAND = {
    "$inc": st.one_of(st.integers(-5, 5), st.floats(-5, 5)),
    "$mul": st.one_of(st.integers(-5, 5), st.floats(-5, 5)),
    "$currentDate": st.one_of(st.just(True), st.just({"$type": "date"}), typed),
    "$push": st.one_of(typed, modifiers),
    "$addToSet": st.one_of(typed, modifiers),
    "$pop": st.sampled_from([1, -1, 0, True]),
}


@st.composite
def likely_update(draw: st.DrawFn, model: type) -> dict[str, Any]:
    """An update of allow-listed operators on the model's own paths, with plausible operands."""
    update: dict[str, Any] = {}
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        operator = draw(st.sampled_from(sorted(UPDATE_OPERATORS)))
        path = draw(st.sampled_from(PATHS[model.__name__]))
        update.setdefault(operator, {})[path] = draw(OPERAND.get(operator, typed))
    return update


def likely_filter(model: type) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from([*PATHS[model.__name__], "$and", "$or"]), typed, max_size=3)


condition = st.one_of(values, deep(), st.dictionaries(st.sampled_from(sorted(FILTER_OPERATORS)), values, min_size=1))
any_filter = st.dictionaries(keys, condition, max_size=4)
update_fields = st.dictionaries(paths, st.one_of(values, deep()), min_size=1, max_size=3)
any_update = st.dictionaries(
    st.one_of(st.sampled_from(sorted(UPDATE_OPERATORS)), keys), st.one_of(update_fields, values), min_size=1, max_size=3
)


def filters(model: type) -> st.SearchStrategy[dict[str, Any]]:
    """Random filters for `model`: anything at all, or plausible ones on its own fields."""
    return st.one_of(any_filter, likely_filter(model))


def updates(model: type) -> st.SearchStrategy[dict[str, Any]]:
    """Random updates for `model`: anything at all, or plausible ones on its own fields."""
    return st.one_of(any_update, likely_update(model))


words = st.sampled_from(["Ann", "Bob", "a", "b", "zz"])
counts = st.integers(-3, 3)
push = st.one_of(
    words,
    st.fixed_dictionaries(
        {"$each": st.lists(words, max_size=3)},
        optional={"$slice": counts, "$position": counts, "$sort": st.sampled_from([1, -1])},
    ),
)
VALID_CHANGES: dict[str, list[tuple[str, str, st.SearchStrategy[Any]]]] = {
    "User": [
        ("$set", "name", words),
        ("$min", "age", st.integers(0, 150)),
        ("$inc", "age", counts),
        ("$mul", "total_spent", st.floats(0, 3)),
        ("$push", "tags", push),
        ("$addToSet", "tags", st.one_of(words, st.fixed_dictionaries({"$each": st.lists(words, max_size=3)}))),
        ("$pull", "tags", st.one_of(words, st.fixed_dictionaries({"$in": st.lists(words, max_size=3)}))),
        ("$pullAll", "tags", st.lists(words, max_size=3)),
        ("$pop", "tags", st.sampled_from([1, -1])),
        ("$set", "tags.$[]", words),
        ("$set", "tags.1", words),
        ("$currentDate", "last_login", st.just(True)),
        ("$unset", "last_login", st.just("")),
        ("$set", "profile.bio", words),
    ],
    "Order": [
        ("$push", "items", st.fixed_dictionaries({"sku": words})),
        ("$pull", "items", st.fixed_dictionaries({"sku": words})),
        ("$inc", "items.$[].quantity", st.integers(0, 3)),
        ("$inc", "counts.a", counts),
        ("$set", "meta.x.y", st.one_of(words, st.lists(counts, max_size=2))),
        ("$push", "codes", st.fixed_dictionaries({"$each": st.lists(counts, max_size=2), "$sort": st.just(-1)})),
        ("$max", "placed_at", st.datetimes(timezones=st.just(dt.UTC))),
    ],
}


@st.composite
def valid_update(draw: st.DrawFn, model: type) -> dict[str, Any]:
    """An update the model allows: each change is typed for the field it targets, and no two touch
    the same field (MongoDB refuses that)."""
    changes = draw(st.lists(st.sampled_from(VALID_CHANGES[model.__name__]), min_size=1, max_size=3))
    update: dict[str, Any] = {}
    fields: set[str] = set()
    for operator, path, operand in changes:
        field = path.split(".")[0]
        if field not in fields:
            fields.add(field)
            update.setdefault(operator, {})[path] = draw(operand)
    return update
