"""Each update operator checked against the field it targets, using the model's field types.

`$currentDate` only on dates; `$inc` / `$mul` only on numbers, keeping an integer field an
integer; `$push`, `$addToSet`, `$pull`, `$pullAll` and `$pop` only on lists, with elements typed
by the list's item type; `$set` / `$min` / `$max` values typed by the target (an element's type
for `tags.0`); `$unset` never leaves a required field missing or a null in a typed list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.field_paths import (
    DATE,
    FLOAT,
    FREE,
    INT,
    LIST,
    MODEL,
    Target,
    describe,
    item_type,
    model_of,
    resolve,
)
from bulkadmin.core.field_paths import single_kind as kind
from bulkadmin.core.filter_rules import condition, filter_document
from bulkadmin.core.operators import ARRAY_MODIFIERS, is_operator_expression, operator_error
from bulkadmin.core.spec_limits import check_scalar
from bulkadmin.core.typed_values import accepts, coerce

NUMBERS = frozenset({INT, FLOAT, FREE})


def update_value(operator: str, target: Target, value: Any) -> Any:
    """The value of `operator` for `target`, checked and in stored form."""
    if operator in ("$set", "$setOnInsert", "$min", "$max"):
        return stored_value(target, value, operator)
    if operator == "$unset":
        return _unset(target)
    if operator in ("$inc", "$mul"):
        return _number(operator, target, value)
    if operator == "$currentDate":
        return _current_date(target, value)
    item = _list_item(operator, target)
    if operator in ("$push", "$addToSet"):
        return _push(operator, target, item, value)
    if operator == "$pop":
        if isinstance(value, bool) or value not in (1, -1):
            raise _error(target, operator, "needs 1 (last element) or -1 (first element)")
        return value
    if operator == "$pullAll":
        if not isinstance(value, (list, tuple)):
            raise _error(target, operator, "needs a list of values")
        return [_element(item, element, target, operator) for element in value]
    return _pull(target, item, value)


def stored_value(target: Target, value: Any, operator: str) -> Any:
    """A value to store at `target`, typed by it; free-form values may not hold `$` keys."""
    if target.annotation is None:
        _check_data_keys(value, target.path, operator)
    return coerce(target.annotation, value, target.path, operator)


def _unset(target: Target) -> Any:
    if target.info is not None and not target.element and target.info.is_required():
        raise InvalidSpec(f"$unset: {target.path!r} is a required field.", field=target.path, operator="$unset")
    if target.element and not accepts(target.annotation, None):
        raise _error(target, "$unset", "would leave a null in the list; use $pull or $pop")
    return ""


def _number(operator: str, target: Target, value: Any) -> Any:
    if not target.kinds <= NUMBERS:
        raise _error(target, operator, f"needs a number field; {target.path!r} is {describe(target.annotation)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(target, operator, f"needs a number, got {value!r}")
    if not isinstance(value, int) and target.kinds <= {INT}:
        raise _error(target, operator, f"needs a whole number: {target.path!r} is an integer field, got {value!r}")
    check_scalar(value, target.path, operator)
    return value


def _current_date(target: Target, value: Any) -> Any:
    if not target.kinds <= {DATE, FREE}:
        raise _error(target, "$currentDate", f"needs a date field; {target.path!r} is {describe(target.annotation)}")
    if value is not True and value != {"$type": "date"}:
        raise _error(target, "$currentDate", 'needs true (or {"$type": "date"})')
    return value


def _list_item(operator: str, target: Target) -> Any:
    if kind(target.annotation) not in (LIST, FREE):
        raise _error(target, operator, f"needs a list field; {target.path!r} is {describe(target.annotation)}")
    return item_type(target.annotation)


def _push(operator: str, target: Target, item: Any, value: Any) -> Any:
    if not is_operator_expression(value):
        return _element(item, value, target, operator)
    allowed = ARRAY_MODIFIERS if operator == "$push" else frozenset({"$each"})
    unknown = sorted((str(key) for key in value if key not in allowed), key=lambda key: not key.startswith("$"))
    if unknown and unknown[0].startswith("$"):
        raise operator_error(unknown[0], f"{operator} on a list", allowed, field=target.path)
    if unknown:
        raise _error(target, operator, f"mixes modifiers with the field {unknown[0]!r}")
    if "$each" not in value:
        raise _error(target, operator, "modifiers need $each")
    if not isinstance(value["$each"], (list, tuple)):
        raise _error(target, operator, "$each needs a list")
    result: dict[str, Any] = {"$each": [_element(item, element, target, operator) for element in value["$each"]]}
    for modifier in ("$position", "$slice"):
        if modifier in value:
            result[modifier] = _whole_number(target, modifier, value[modifier])
    if "$sort" in value:
        result["$sort"] = _sort(target, item, value["$sort"])
    return result


def _whole_number(target: Target, modifier: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
        raise _error(target, "$push", f"{modifier} needs a whole number, got {value!r}", modifier)
    return value


def _sort(target: Target, item: Any, value: Any) -> Any:
    if value in (1, -1) and not isinstance(value, bool):
        return value
    if not isinstance(value, Mapping) or not value or kind(item) != MODEL:
        raise _error(target, "$push", "$sort needs 1 or -1 (or, for sub-documents, {field: 1 or -1})", "$sort")
    order = {}
    for path, direction in value.items():
        if isinstance(direction, bool) or direction not in (1, -1):
            raise _error(target, "$push", "$sort directions must be 1 or -1", "$sort")
        order[resolve(model_of(item), path).stored] = direction
    return order


def _pull(target: Target, item: Any, value: Any) -> Any:
    if item is not None and kind(item) == MODEL:
        if not isinstance(value, Mapping):
            raise _error(target, "$pull", "needs a filter on the sub-documents' fields")
        return filter_document(model_of(item), value, target.path)
    if is_operator_expression(value):
        return condition(item, value, target.path)
    return _element(item, value, target, "$pull")


def _element(item: Any, value: Any, target: Target, operator: str) -> Any:
    if item is None:
        _check_data_keys(value, target.path, operator)
    return coerce(item, value, target.path, operator)


def _check_data_keys(value: Any, path: str, operator: str) -> None:
    stack = [value]
    while stack:
        found = stack.pop()
        if isinstance(found, Mapping):
            for key, inner in found.items():
                if isinstance(key, str) and (key.startswith("$") or "." in key):
                    raise InvalidSpec(
                        f"{operator} {path}: stored field names cannot start with $ or hold a dot ({key!r}).",
                        field=path,
                        operator=operator,
                    )
                stack.append(inner)
        elif isinstance(found, (list, tuple)):
            stack.extend(found)


def _error(target: Target, operator: str, reason: str, modifier: str | None = None) -> InvalidSpec:
    return InvalidSpec(f"{operator}: {target.path!r} {reason}.", field=target.path, operator=modifier or operator)
