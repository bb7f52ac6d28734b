"""The document an update with `upsert: True` would insert, built as MongoDB builds it, so it can
be validated with the model before the write (a created document must be a valid one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from bulkadmin.bulk.results import FieldError
from bulkadmin.bulk.validation import RowInvalid, field_errors
from bulkadmin.core.documents import MongoModel

CREATED_NOTE = "in the document this upsert would create"


def check_upsert_document(model: type[MongoModel], query: Mapping[str, Any], update: Mapping[str, Any]) -> None:
    """Raise `RowInvalid` (code 121) naming each field that makes the document an upsert of
    `update` (stored keys, `$setOnInsert` defaults included) on no match of `query` would insert
    invalid, such as a required field neither sets."""
    try:
        model.model_validate(upsert_document(query, update))
    except PydanticValidationError as error:
        errors = tuple(FieldError(e.field, f"{e.message} {CREATED_NOTE}") for e in field_errors(error))
        raise RowInvalid(errors) from None


def upsert_document(query: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """The document inserted when an upsert matches nothing: the query's equality conditions
    (also inside `$and`), then each update operator applied to an empty document."""
    document: dict[str, Any] = {}
    for path, value in _equalities(query):
        _set_path(document, path, value)
    for operator, fields in update.items():
        for path, value in fields.items():
            if "$" in path:
                continue  # positional paths create nothing on insert
            if operator == "$unset":
                _unset_path(document, path)
            elif operator in _CREATED:
                _set_path(document, path, _CREATED[operator](value))
    return document


_CREATED: dict[str, Callable[[Any], Any]] = {
    "$set": lambda value: value,
    "$setOnInsert": lambda value: value,
    "$min": lambda value: value,
    "$max": lambda value: value,
    "$inc": lambda value: value,
    "$mul": lambda value: value * 0,  # MongoDB sets a zero of the multiplier's type
    "$currentDate": lambda value: dt.datetime.now(dt.UTC),
    "$push": lambda value: _each(value),
    "$addToSet": lambda value: _each(value),
}


def _each(value: Any) -> list[Any]:
    if isinstance(value, Mapping) and "$each" in value:
        return list(value["$each"])
    return [value]


def _equalities(query: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in query.items():
        if key == "$and":
            for clause in value:
                yield from _equalities(clause)
        elif key.startswith("$"):
            continue
        elif isinstance(value, Mapping) and any(str(name).startswith("$") for name in value):
            if "$eq" in value:
                yield key, value["$eq"]
        else:
            yield key, value


def _set_path(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target = document
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[last] = value


def _unset_path(document: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target.get(part) if isinstance(target, dict) else None
    if isinstance(target, dict):
        target.pop(last, None)
