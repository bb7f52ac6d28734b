"""`validate_documents` (a batch through pydantic in one call) gives exactly what `validate_document`
gives row by row: the same stored documents, value types included, and the same errors by row
and field, in the same order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from pymongo.database import Database

from bulkadmin.bulk import bulk_insert
from bulkadmin.bulk.validation import RowInvalid, validate_document, validate_documents
from bulkadmin.core.documents import MongoModel


class Address(BaseModel):
    city: str
    zip_code: str = Field(default="", max_length=5)


class Member(MongoModel):
    collection = "batch_validation_members"

    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@]+@[^@]+$")
    age: int = Field(ge=0, le=150)
    score: float | None = None
    active: bool = True
    joined: dt.datetime | None = None
    tags: list[str] = []
    address: Address | None = None
    extra: Any = None


def row_by_row(model: type[MongoModel], items: list[Any]) -> list[dict[str, Any] | RowInvalid]:
    results: list[dict[str, Any] | RowInvalid] = []
    for item in items:
        try:
            results.append(validate_document(model, item))
        except RowInvalid as error:
            results.append(error)
    return results


def typed(value: Any) -> Any:
    """`value` with every leaf's type kept, so 1, 1.0 and True differ (dict equality does not)."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value, getattr(value, "tzinfo", None))


def outcome(result: dict[str, Any] | RowInvalid) -> Any:
    """What a result says; a generated `_id` (new on each call) by its type only."""
    if isinstance(result, RowInvalid):
        return ("invalid", result.field_errors, str(result))
    return ("stored", list(result), typed({**result, "_id": type(result["_id"])}), result["_id"])


def assert_same(items: list[Any]) -> None:
    given = [isinstance(item, (dict, Member)) and ("_id" in item or isinstance(item, Member)) for item in items]
    expected = [outcome(result) for result in row_by_row(Member, items)]
    found = [outcome(result) for result in validate_documents(Member, items)]
    assert [e[:3] for e in found] == [e[:3] for e in expected]
    assert [e[3:] for e, kept in zip(found, given, strict=True) if kept] == [
        e[3:] for e, kept in zip(expected, given, strict=True) if kept
    ]


texts = st.one_of(st.text(max_size=6), st.sampled_from(["", "a@b", "x@y@z", "\udc80", "Zoë", "20"]))
numbers = st.one_of(
    st.integers(min_value=-3, max_value=200),
    st.integers(min_value=2**63 - 2, max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["18", "1e3", "x", "", "  7 ", True]),
)
moments = st.one_of(
    st.none(),
    st.datetimes(min_value=dt.datetime(1, 1, 2), timezones=st.sampled_from([None, dt.UTC])),
    st.datetimes(timezones=st.sampled_from([dt.timezone(dt.timedelta(hours=-14)), dt.timezone(dt.timedelta(hours=5))])),
    st.sampled_from(["2020-01-01T10:00:00", "2020-01-01T10:00:00.123456Z", "9999-12-31T23:59:59-14:00", "yesterday"]),
)
extras = st.recursive(
    st.one_of(st.none(), st.integers(min_value=-(2**65), max_value=2**65), st.floats(), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=6,
)
fields = {
    "name": texts,
    "email": texts,
    "age": numbers,
    "score": numbers,
    "active": st.one_of(st.booleans(), st.sampled_from(["1", "0", "yes", "maybe"])),
    "joined": moments,
    "tags": st.one_of(st.lists(texts, max_size=3), texts),
    "address": st.one_of(st.none(), st.fixed_dictionaries({"city": texts}, optional={"zip_code": texts}), texts),
    "extra": extras,
    "_id": st.one_of(st.builds(ObjectId), st.sampled_from(["5f0c0a0b0c0d0e0f10111213", "nope"])),
    "unknown": st.integers(),
}
rows = st.fixed_dictionaries({}, optional=fields)
valid_rows = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["Ann", "Zoë", "\udc80"]),
        "email": st.just("ann@example.com"),
        "age": st.integers(0, 150),
    },
    optional={
        "score": st.floats(),
        "joined": st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
        "tags": st.lists(texts, max_size=2),
        "extra": extras,
        "_id": st.builds(ObjectId),
    },
)
items = st.one_of(
    rows,
    valid_rows,
    valid_rows.filter(lambda row: "\udc80" not in row["name"]).map(lambda row: Member.model_validate(row)),
    st.sampled_from([["not", "a", "row"], "text", 7, None]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items, max_size=12))
def test_a_batch_of_mixed_rows_validates_as_each_row_alone(batch: list[Any]) -> None:
    assert_same(batch)


def test_every_error_of_every_bad_row_is_kept_in_row_order() -> None:
    good = {"name": "Ann", "email": "ann@example.com", "age": 30}
    batch = [
        good,
        {"name": "", "email": "nope", "age": 200},
        {**good, "score": float("nan")},
        {**good, "extra": {"deep": 2**70}},
        {**good, "joined": "9999-12-31T23:59:59-14:00"},
        {**good, "name": "\udc80"},
        good,
    ]
    results = validate_documents(Member, batch)
    assert [isinstance(result, RowInvalid) for result in results] == [False, True, True, True, True, True, False]
    assert [e.field for e in results[1].field_errors] == ["name", "email", "age"]  # type: ignore[union-attr]
    assert results[3].field == "extra.deep"  # type: ignore[union-attr]
    assert_same(batch)


def test_a_row_nested_too_deeply_is_refused_alone() -> None:
    deep: Any = "leaf"
    for _ in range(120):
        deep = [deep]
    batch = [
        {"name": "Ann", "email": "ann@example.com", "age": 1, "extra": deep},
        {"name": "Bo", "email": "b@c", "age": 2},
    ]
    results = validate_documents(Member, batch)
    assert isinstance(results[0], RowInvalid) and results[0].field is not None
    assert results[1]["name"] == "Bo"  # type: ignore[index]
    assert_same(batch)


def test_bulk_insert_stores_the_rows_validated_alone_and_rejects_the_others(db: Database) -> None:
    good = {"name": "Ann", "email": "ann@example.com", "age": 30}
    batch = [
        {**good, "_id": ObjectId(), "score": 1.5},
        {"name": "", "email": "nope", "age": 200},
        {**good, "_id": ObjectId(), "joined": "2020-01-01T10:00:00.123456+02:00"},
        {**good, "score": float("inf")},
        "not a row",
        {**good, "_id": ObjectId(), "extra": {"n": [1, 2.5, None]}},
    ]
    alone = row_by_row(Member, batch)

    result = bulk_insert(Member, batch, ordered=False, raise_on_error=False, db=db)

    expected_errors = [(n, r.field_errors) for n, r in enumerate(alone) if isinstance(r, RowInvalid)]
    assert [(e.index, e.field_errors) for e in result.errors] == expected_errors
    stored = list(db[Member.collection].find({}, sort=[("_id", 1)]))
    kept = sorted((r for r in alone if not isinstance(r, RowInvalid)), key=lambda r: r["_id"])
    assert result.inserted == 3 and stored == kept
