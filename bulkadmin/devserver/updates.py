"""MongoDB's update operators applied to a document in Python, exactly.

neosqlite's SQL update path wrote doubles through SQLite's JSON printer, which keeps 15 digits
(`$set` of 0.1 + 0.2 stored 0.3, of the largest double `inf`), and its Python path applied
`$inc`, `$unset`, `$min` and `$max` to top-level fields only. Here every operator bulkadmin
allows works on dotted paths, with MongoDB's arithmetic (an int64 operand makes an int64, int64
overflow refused, Decimal128 in its own context, a missing field multiplied becomes a zero of the
multiplier's type) and its comparison order, and the array operators `$[]`, `$` and
`$[<identifier>]` (`positional`). Two operators on the same path, or on a path and one inside it,
are refused (MongoDB's code 40), and so is a document grown past 16 MB. The document given is
never changed: what a path touches is copied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bson import Decimal128, Int64
from bson.decimal128 import create_decimal128_context

from bulkadmin.devserver.element_match import matches
from bulkadmin.devserver.ordering import same_value, sort_key
from bulkadmin.devserver.paths import (
    BAD_VALUE,
    CONFLICTING_UPDATE,
    MISSING,
    OVERFLOW,
    TYPE_MISMATCH,
    UpdateFailed,
    drop_path,
    get_path,
    put_path,
)
from bulkadmin.devserver.positional import concrete_paths

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_DECIMAL_CONTEXT = create_decimal128_context()


def apply_update(
    document: dict[str, Any],
    update: dict[str, Any],
    *,
    upsert: bool = False,
    query: dict[str, Any] | None = None,
    array_filters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`document` with `update`'s operators applied; `upsert` applies `$setOnInsert` too; `query`
    and `array_filters` place the positional `$` and `$[<identifier>]`."""
    if update is not _checked[0]:  # the same update is applied to every document of a command
        _refuse_conflicts(update)
        _checked[0] = update
    result = document
    for operator, fields in update.items():
        if operator == "$setOnInsert" and not upsert:
            continue
        apply = _OPERATORS.get(operator)
        if apply is None:
            raise UpdateFailed(f"Unknown modifier: {operator}", BAD_VALUE)
        for path, operand in fields.items():
            for parts in concrete_paths(result, path.split("."), query, array_filters):
                result = apply(result, parts, operand)
    return result


_checked: list[Any] = [None]


def _refuse_conflicts(update: dict[str, Any]) -> None:
    paths = [path for fields in update.values() if isinstance(fields, dict) for path in fields]
    paths += [str(target) for target in (update.get("$rename") or {}).values()]
    for number, path in enumerate(paths):
        for other in paths[number + 1 :]:
            if path == other or path.startswith(f"{other}.") or other.startswith(f"{path}."):
                raise UpdateFailed(
                    f"Updating the path '{path}' would create a conflict at '{other}'", CONFLICTING_UPDATE
                )


def _unset(document: Any, parts: list[str], _: Any) -> Any:
    return drop_path(document, parts)


def _inc(document: Any, parts: list[str], amount: Any) -> Any:
    current = get_path(document, parts)
    _require_number("$inc", parts, amount, "increment")
    if current is MISSING:
        return put_path(document, parts, amount)
    _require_number("$inc", parts, current, "field")
    return put_path(document, parts, _arithmetic(current, amount, "$inc"))


def _mul(document: Any, parts: list[str], factor: Any) -> Any:
    current = get_path(document, parts)
    _require_number("$mul", parts, factor, "multiplier")
    if current is MISSING:
        return put_path(document, parts, _zero_like(factor))
    _require_number("$mul", parts, current, "field")
    return put_path(document, parts, _arithmetic(current, factor, "$mul"))


def _min(document: Any, parts: list[str], value: Any) -> Any:
    current = get_path(document, parts)
    if current is MISSING or sort_key(value) < sort_key(current):
        return put_path(document, parts, value)
    return document


def _max(document: Any, parts: list[str], value: Any) -> Any:
    current = get_path(document, parts)
    if current is MISSING or sort_key(value) > sort_key(current):
        return put_path(document, parts, value)
    return document


def _push(document: Any, parts: list[str], operand: Any) -> Any:
    items = _array_at(document, parts, "$push")
    modifiers: dict[str, Any] = operand if isinstance(operand, dict) and "$each" in operand else {"$each": [operand]}
    position: int | None = modifiers.get("$position")
    each = list(modifiers["$each"])
    if position is None:
        items = items + each
    else:
        index = position if position >= 0 else max(len(items) + position, 0)
        items = items[:index] + each + items[index:]
    if "$sort" in modifiers:
        items = _sorted(items, modifiers["$sort"])
    if "$slice" in modifiers:
        limit: int = modifiers["$slice"]
        items = items[:limit] if limit >= 0 else items[limit:]
    return put_path(document, parts, items)


def _add_to_set(document: Any, parts: list[str], operand: Any) -> Any:
    items = _array_at(document, parts, "$addToSet")
    each = operand["$each"] if isinstance(operand, dict) and "$each" in operand else [operand]
    for value in each:
        if not any(same_value(value, item) for item in items):
            items = [*items, value]
    return put_path(document, parts, items)


def _pull(document: Any, parts: list[str], condition: Any) -> Any:
    items = get_path(document, parts)
    if not isinstance(items, list):
        return document
    return put_path(document, parts, [item for item in items if not matches(item, condition)])


def _pull_all(document: Any, parts: list[str], values: Any) -> Any:
    items = get_path(document, parts)
    if not isinstance(items, list):
        return document
    kept = [item for item in items if not any(same_value(item, value) for value in values)]
    return put_path(document, parts, kept)


def _pop(document: Any, parts: list[str], end: Any) -> Any:
    items = get_path(document, parts)
    if items is MISSING or not items:
        return document
    if not isinstance(items, list):
        raise UpdateFailed(f"Path '{'.'.join(parts)}' contains an element of non-array type", TYPE_MISMATCH)
    return put_path(document, parts, items[:-1] if end == 1 else items[1:])


def _current_date(document: Any, parts: list[str], _: Any) -> Any:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # naive UTC, as dates arrive from the wire
    return put_path(document, parts, now.replace(microsecond=now.microsecond // 1000 * 1000))


def _rename(document: Any, parts: list[str], new_name: Any) -> Any:
    value = get_path(document, parts)
    if value is MISSING:
        return document
    return put_path(drop_path(document, parts), str(new_name).split("."), value)


_OPERATORS: dict[str, Callable[[Any, list[str], Any], Any]] = {
    "$set": put_path,
    "$setOnInsert": put_path,
    "$unset": _unset,
    "$inc": _inc,
    "$mul": _mul,
    "$min": _min,
    "$max": _max,
    "$push": _push,
    "$addToSet": _add_to_set,
    "$pull": _pull,
    "$pullAll": _pull_all,
    "$pop": _pop,
    "$currentDate": _current_date,
    "$rename": _rename,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal128) and not isinstance(value, bool)


def _require_number(operator: str, parts: list[str], value: Any, what: str) -> None:
    if not _is_number(value):
        path = ".".join(parts)
        raise UpdateFailed(
            f"Cannot apply {operator} to a value of non-numeric type: the {what} of '{path}' "
            f"is {type(value).__name__} {value!r}",
            TYPE_MISMATCH,
        )


def _arithmetic(left: Any, right: Any, operator: str) -> Any:
    """`left` plus or times `right` as MongoDB computes it."""
    if isinstance(left, Decimal128) or isinstance(right, Decimal128):
        a, b = (_as_decimal(value) for value in (left, right))
        result = _DECIMAL_CONTEXT.add(a, b) if operator == "$inc" else _DECIMAL_CONTEXT.multiply(a, b)
        return Decimal128(result)
    if isinstance(left, float) or isinstance(right, float):
        return float(left) + float(right) if operator == "$inc" else float(left) * float(right)
    result = left + right if operator == "$inc" else left * right
    if not INT64_MIN <= result <= INT64_MAX:
        raise UpdateFailed(f"Failed to apply {operator}: the result {result} overflows a 64-bit integer", OVERFLOW)
    return Int64(result) if isinstance(left, Int64) or isinstance(right, Int64) else result  # int64 wins


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return _DECIMAL_CONTEXT.create_decimal(repr(value) if isinstance(value, float) else value)


def _zero_like(value: Any) -> Any:
    if isinstance(value, Decimal128):
        return Decimal128("0")
    if isinstance(value, Int64):
        return Int64(0)
    return 0.0 if isinstance(value, float) else 0


def _array_at(document: Any, parts: list[str], operator: str) -> list[Any]:
    items = get_path(document, parts)
    if items is MISSING:
        return []
    if not isinstance(items, list):
        path = ".".join(parts)
        raise UpdateFailed(f"The field '{path}' must be an array but is of type {type(items).__name__}", BAD_VALUE)
    return items


def _sorted(items: list[Any], order: Any) -> list[Any]:
    if isinstance(order, dict):
        keys = list(order.items())
        return sorted(
            items,
            key=lambda item: [
                _directed(sort_key(get_path(item, key.split("."))), direction) for key, direction in keys
            ],
        )
    return sorted(items, key=sort_key, reverse=order == -1)


def _directed(key: tuple[Any, ...], direction: int) -> Any:
    return key if direction == 1 else _Reversed(key)


class _Reversed:
    """A sort key compared the other way round (descending `$sort` fields)."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.key == other.key)


def identical(left: Any, right: Any) -> bool:
    """Equal and of the same type all the way down (1 is not 1.0, -0.0 is not 0.0)."""
    if left is right:  # what an update did not touch is the same object
        return True
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(identical(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(identical(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float):
        return repr(left) == repr(right)
    if isinstance(left, bytes):
        return left == right and getattr(left, "subtype", 0) == getattr(right, "subtype", 0)
    return bool(left == right)
