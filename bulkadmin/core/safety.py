"""Checks for user-composed filters and updates: allow-listed operators, known fields, typed values.

Everything a caller writes with model field names is translated here, once, to stored keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args, get_origin

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from bulkadmin.core.documents import MongoModel, field_annotation, storage_path, to_storage, unwrap_annotated
from bulkadmin.core.exceptions import InvalidSpec

COMPARISON_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})
LIST_OPERATORS = frozenset({"$in", "$nin", "$all"})
FILTER_OPERATORS = (
    COMPARISON_OPERATORS
    | LIST_OPERATORS
    | {
        "$exists",
        "$not",
        "$regex",
        "$options",
        "$elemMatch",
        "$size",
        "$type",
    }
)
LOGICAL_OPERATORS = frozenset({"$and", "$or", "$nor"})
VALUE_UPDATE_OPERATORS = frozenset({"$set", "$setOnInsert", "$min", "$max"})
NUMBER_UPDATE_OPERATORS = frozenset({"$inc", "$mul"})
ARRAY_UPDATE_OPERATORS = frozenset({"$push", "$addToSet"})
UPDATE_OPERATORS = (
    VALUE_UPDATE_OPERATORS
    | NUMBER_UPDATE_OPERATORS
    | ARRAY_UPDATE_OPERATORS
    | {
        "$unset",
        "$currentDate",
        "$pull",
        "$pop",
    }
)
ARRAY_MODIFIERS = frozenset({"$each", "$position", "$slice", "$sort"})

_adapters: dict[Any, TypeAdapter[Any]] = {}


def translate_filter(model: type[MongoModel], spec: Mapping[str, Any]) -> dict[str, Any]:
    """Check a filter written with model field names and return it with stored keys and typed
    values. Raises `InvalidSpec` naming the operator or field at fault."""
    if not isinstance(spec, Mapping):
        raise InvalidSpec(f"A filter must be an object, not {type(spec).__name__}.")
    translated = {}
    for key, value in spec.items():
        if key in LOGICAL_OPERATORS:
            translated[key] = [translate_filter(model, clause) for clause in _clauses(key, value)]
        elif key.startswith("$"):
            raise _operator_error(key, "filter", sorted(LOGICAL_OPERATORS | FILTER_OPERATORS))
        else:
            annotation = field_annotation(model, key)
            translated[storage_path(model, key)] = _condition(annotation, value, key)
    return translated


def translate_update(model: type[MongoModel], spec: Mapping[str, Any]) -> dict[str, Any]:
    """Check an update document (`{"$set": {...}, ...}`) and translate it to stored keys.

    A partial `$set` is valid when each field it sets is valid; unknown fields, immutable `id`
    and operators outside the allow-list are rejected with a message naming them."""
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidSpec("An update must be a non-empty object of operators such as $set.")
    translated = {}
    for operator, fields in spec.items():
        if operator not in UPDATE_OPERATORS:
            if not operator.startswith("$"):
                raise InvalidSpec(
                    f"Update key {operator!r} is not an operator; write {{'$set': {{...}}}} "
                    "or use a replace operation.",
                    field=operator,
                )
            raise _operator_error(operator, "update", sorted(UPDATE_OPERATORS))
        if not isinstance(fields, Mapping) or not fields:
            raise InvalidSpec(f"{operator} needs a non-empty object of fields.", operator=operator)
        translated[operator] = {
            _update_path(model, operator, path): _update_value(model, operator, path, value)
            for path, value in fields.items()
        }
    return translated


def coerce_value(model: type[MongoModel], path: str, value: Any) -> Any:
    """Validate `value` against the type of the field at `path`; return it in stored form."""
    return _coerce(field_annotation(model, path), value, path)


def validate_fields(model: type[MongoModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate only the fields present in `data` (a partial document) and return them with
    stored keys. Raises `InvalidSpec` for the first unknown or invalid field."""
    return {storage_path(model, path): coerce_value(model, path, value) for path, value in data.items()}


def _clauses(operator: str, value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not value:
        raise InvalidSpec(f"{operator} needs a non-empty list of filters.", operator=operator)
    return value


def _condition(annotation: Any, value: Any, path: str) -> Any:
    if _is_operator_expression(value):
        return {op: _operator_argument(annotation, op, arg, path) for op, arg in value.items()}
    return _coerce_for_query(annotation, value, path)


def _operator_argument(annotation: Any, operator: str, argument: Any, path: str) -> Any:
    if operator in COMPARISON_OPERATORS:
        return _coerce_for_query(annotation, argument, path)
    if operator in LIST_OPERATORS:
        if not isinstance(argument, (list, tuple)):
            raise InvalidSpec(f"{path}: {operator} needs a list.", field=path, operator=operator)
        return [_coerce_for_query(annotation, item, path) for item in argument]
    if operator == "$not":
        return _condition(annotation, argument, path)
    if operator == "$elemMatch":
        _check_operators(argument, path)
        return argument
    if operator in FILTER_OPERATORS:
        return _simple_argument(operator, argument, path)
    raise _operator_error(operator, "filter", sorted(FILTER_OPERATORS), field=path)


def _simple_argument(operator: str, argument: Any, path: str) -> Any:
    expected: dict[str, type | tuple[type, ...]] = {
        "$exists": bool,
        "$regex": (str, re.Pattern),
        "$options": str,
        "$size": int,
    }
    wanted = expected.get(operator, (str, int))
    if not isinstance(argument, wanted):
        raise InvalidSpec(f"{path}: invalid argument for {operator}: {argument!r}.", field=path, operator=operator)
    return argument


def _check_operators(value: Any, path: str) -> None:
    """Reject any operator outside the allow-lists anywhere inside `value`."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key.startswith("$") and key not in FILTER_OPERATORS | LOGICAL_OPERATORS:
                raise _operator_error(key, "filter", sorted(FILTER_OPERATORS), field=path)
            _check_operators(item, path)
    elif isinstance(value, list):
        for item in value:
            _check_operators(item, path)


def _update_path(model: type[MongoModel], operator: str, path: str) -> str:
    stored = storage_path(model, path)
    if stored == "_id" or stored.startswith("_id."):
        raise InvalidSpec(f"{operator}: the id of a document cannot be changed.", field=path, operator=operator)
    info = model.model_fields.get(path)
    if operator == "$unset" and info is not None and info.is_required():
        raise InvalidSpec(f"$unset: {path!r} is a required field.", field=path, operator=operator)
    return stored


def _update_value(model: type[MongoModel], operator: str, path: str, value: Any) -> Any:
    annotation = field_annotation(model, path)
    if operator in VALUE_UPDATE_OPERATORS:
        return _coerce(annotation, value, path)
    if operator in NUMBER_UPDATE_OPERATORS:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidSpec(f"{operator}: {path!r} needs a number, got {value!r}.", field=path, operator=operator)
        return value
    if operator in ARRAY_UPDATE_OPERATORS:
        return _array_items(annotation, operator, value, path)
    if operator == "$pull":
        _check_operators(value, path)
        return value
    if operator == "$pop" and value not in (1, -1):
        raise InvalidSpec(f"$pop: {path!r} needs 1 or -1.", field=path, operator=operator)
    if operator == "$currentDate" and value not in (True, {"$type": "date"}, {"$type": "timestamp"}):
        raise InvalidSpec(f"$currentDate: {path!r} needs true.", field=path, operator=operator)
    return value


def _array_items(annotation: Any, operator: str, value: Any, path: str) -> Any:
    item_type = _item_type(annotation)
    if isinstance(value, Mapping) and "$each" in value:
        unknown = set(value) - ARRAY_MODIFIERS
        if unknown:
            raise _operator_error(sorted(unknown)[0], "update", sorted(ARRAY_MODIFIERS), field=path)
        return {**value, "$each": [_coerce(item_type, item, path) for item in value["$each"]]}
    return _coerce(item_type, value, path)


def _item_type(annotation: Any) -> Any | None:
    """The element type of a list / set / tuple field (also inside Optional), else None."""
    annotation = unwrap_annotated(annotation)
    args = get_args(annotation)
    if get_origin(annotation) in (list, set, tuple) and args:
        return args[0]
    for arg in args:
        inner = _item_type(arg)
        if inner is not None:
            return inner
    return None


def _coerce_for_query(annotation: Any, value: Any, path: str) -> Any:
    """Type a filter value; `None` (missing), regexes and array elements are accepted too."""
    if value is None or isinstance(value, re.Pattern):
        return value
    item_type = _item_type(annotation)
    if item_type is not None and not isinstance(value, (list, tuple)):
        return _coerce(item_type, value, path)
    return _coerce(annotation, value, path)


def _coerce(annotation: Any, value: Any, path: str) -> Any:
    if _is_operator_expression(value):
        _check_operators(value, path)
    if annotation is None:
        return to_storage(value)
    try:
        return to_storage(_adapter(annotation).validate_python(value))
    except PydanticValidationError as error:
        message = error.errors()[0]["msg"]
        raise InvalidSpec(f"{path}: {message} (got {value!r}).", field=path) from None


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    try:
        return _adapters[annotation]
    except KeyError:
        adapter = _adapters[annotation] = TypeAdapter(annotation)
        return adapter
    except TypeError:
        return TypeAdapter(annotation)


def _is_operator_expression(value: Any) -> bool:
    return isinstance(value, Mapping) and any(str(key).startswith("$") for key in value)


def _operator_error(operator: str, where: str, allowed: list[str], field: str | None = None) -> InvalidSpec:
    return InvalidSpec(
        f"Operator {operator} is not allowed in a {where}. Allowed: {', '.join(allowed)}.",
        operator=operator,
        field=field,
    )
