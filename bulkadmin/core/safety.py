"""Checks for user-composed filters and updates: allow-listed operators, known fields, typed values.

Everything a caller writes with model field names is translated here, once, to stored keys.
A filter or update is first bounded (`MAX_SPEC_DEPTH` levels, int64 integers, finite numbers,
valid text), then every path is resolved against the model's types (`field_paths`), every
update operator is checked against the field it targets (`update_rules`) and every `$regex`
is limited (`regex_limits`). Every refusal is an `InvalidSpec` naming the field or operator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.field_paths import Target, resolve
from bulkadmin.core.filter_rules import filter_document
from bulkadmin.core.operators import (
    ARRAY_MODIFIERS,
    ARRAY_UPDATE_OPERATORS,
    COMPARISON_OPERATORS,
    FILTER_OPERATORS,
    LIST_OPERATORS,
    LOGICAL_OPERATORS,
    NUMBER_UPDATE_OPERATORS,
    UPDATE_OPERATORS,
    VALUE_UPDATE_OPERATORS,
    operator_error,
)
from bulkadmin.core.regex_limits import MAX_REGEX_LENGTH, check_regex
from bulkadmin.core.spec_limits import MAX_SPEC_DEPTH, USER_READ_MAX_TIME_MS, check_spec_shape, user_read_max_time_ms
from bulkadmin.core.typed_values import coerce
from bulkadmin.core.update_rules import update_value

__all__ = [
    "ARRAY_MODIFIERS",
    "ARRAY_UPDATE_OPERATORS",
    "COMPARISON_OPERATORS",
    "FILTER_OPERATORS",
    "LIST_OPERATORS",
    "LOGICAL_OPERATORS",
    "MAX_REGEX_LENGTH",
    "MAX_SPEC_DEPTH",
    "NUMBER_UPDATE_OPERATORS",
    "UPDATE_OPERATORS",
    "USER_READ_MAX_TIME_MS",
    "VALUE_UPDATE_OPERATORS",
    "check_regex",
    "coerce_value",
    "translate_filter",
    "translate_update",
    "user_read_max_time_ms",
    "validate_fields",
]


def translate_filter(model: type[MongoModel], spec: Mapping[str, Any]) -> dict[str, Any]:
    """Check a filter written with model field names and return it with stored keys and typed
    values. Raises `InvalidSpec` naming the operator or field at fault."""
    if not isinstance(spec, Mapping):
        raise InvalidSpec(f"A filter must be an object, not {type(spec).__name__}.")
    check_spec_shape(spec, "filter")
    return filter_document(model, spec)


def translate_update(
    model: type[MongoModel], spec: Mapping[str, Any], *, filter: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Check an update document (`{"$set": {...}, ...}`) and translate it to stored keys.

    Each operator is checked against the type of the field it targets. `filter` is the
    translated filter the update runs with: with it, a `$set` of `id` to the value the filter
    pins is accepted (and dropped: it changes nothing), and the positional `$` is allowed on a
    list the filter matches. Unknown fields, a changed `id` and operators outside the
    allow-list are rejected with a message naming them."""
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidSpec("An update must be a non-empty object of operators such as $set.")
    check_spec_shape(spec, "update")
    translated: dict[str, dict[str, Any]] = {}
    pinned_id: list[Any] = []
    for operator, fields in spec.items():
        _check_operator(operator, fields)
        for path, value in fields.items():
            target = resolve(model, path, update=True)
            if _is_id(target):
                pinned_id.append(_pinned_id(operator, target, value, filter))
                continue
            _check_positional(target, operator, filter)
            translated.setdefault(operator, {})[target.stored] = update_value(operator, target, value)
    _check_conflicts(translated)
    return translated or {"$set": {"_id": pinned_id[0]}}


def _check_conflicts(update: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse two operators on one field, or on a field and one inside it: MongoDB refuses such an
    update for every document (`$addToSet` and `$pull` of `tags` together)."""
    seen: list[tuple[str, str]] = []
    for operator, fields in update.items():
        for path in fields:
            for other_operator, other in seen:
                if path == other or path.startswith(f"{other}.") or other.startswith(f"{path}."):
                    raise InvalidSpec(
                        f"{operator} of {path!r} and {other_operator} of {other!r} touch the same field: "
                        "MongoDB refuses both in one update; run them as two updates.",
                        operator=operator,
                        field=path,
                    )
            seen.append((operator, path))


def coerce_value(model: type[MongoModel], path: str, value: Any) -> Any:
    """Validate `value` against the type of the field at `path`; return it in stored form."""
    return coerce(resolve(model, path).annotation, value, path)


def validate_fields(model: type[MongoModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate only the fields present in `data` (a partial document) and return them with
    stored keys. Raises `InvalidSpec` for the first unknown or invalid field."""
    result = {}
    for path, value in data.items():
        target = resolve(model, path)
        result[target.stored] = coerce(target.annotation, value, path)
    return result


def _check_operator(operator: Any, fields: Any) -> None:
    if operator not in UPDATE_OPERATORS:
        if not str(operator).startswith("$"):
            raise InvalidSpec(
                f"Update key {operator!r} is not an operator; write {{'$set': {{...}}}} or use a replace operation.",
                field=str(operator),
            )
        raise operator_error(operator, "update", UPDATE_OPERATORS)
    if not isinstance(fields, Mapping) or not fields:
        raise InvalidSpec(f"{operator} needs a non-empty object of fields.", operator=operator)


def _is_id(target: Target) -> bool:
    return target.stored == "_id" or target.stored.startswith("_id.")


def _pinned_id(operator: str, target: Target, value: Any, filter: Mapping[str, Any] | None) -> Any:
    """The id a `$set` writes when the filter pins the document to that same id; else refused."""
    if operator == "$set" and target.stored == "_id" and filter is not None and "_id" in filter:
        wanted = filter["_id"]
        if isinstance(wanted, Mapping) and set(wanted) == {"$eq"}:
            wanted = wanted["$eq"]
        try:
            stored = coerce(target.annotation, value, target.path, operator)
        except InvalidSpec:
            stored = None
        if not isinstance(wanted, Mapping) and stored is not None and stored == wanted:
            return stored
    raise InvalidSpec(f"{operator}: the id of a document cannot be changed.", field=target.path, operator=operator)


def _check_positional(target: Target, operator: str, filter: Mapping[str, Any] | None) -> None:
    if target.positional != "$":
        return
    parts = target.stored.split(".")
    array = ".".join(parts[: parts.index("$")])
    keys = _filter_keys(filter or {})
    if not any(key == array or key.startswith(array + ".") for key in keys):
        raise InvalidSpec(
            f"{operator}: {target.path!r} uses the positional $, which needs a filter on {array!r}.",
            field=target.path,
            operator="$",
        )


def _filter_keys(filter: Mapping[str, Any]) -> list[str]:
    keys = [key for key in filter if isinstance(key, str) and not key.startswith("$")]
    for clause in filter.get("$and", []) if isinstance(filter.get("$and"), list) else []:
        if isinstance(clause, Mapping):
            keys.extend(key for key in clause if isinstance(key, str) and not key.startswith("$"))
    return keys
