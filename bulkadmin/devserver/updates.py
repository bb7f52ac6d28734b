"""MongoDB's update operators applied to a document in Python, exactly.

neosqlite's SQL update path wrote doubles through SQLite's JSON printer, which keeps 15 digits
(`$set` of 0.1 + 0.2 stored 0.3, of the largest double `inf`), and its Python path applied
`$inc`, `$unset`, `$min` and `$max` to top-level fields only. Here every operator bulkadmin
allows works on dotted paths, with MongoDB's arithmetic (int64 overflow refused, Decimal128 in
its own context, a missing field multiplied becomes a zero of the multiplier's type) and its
comparison order, and `$[]` (every element). The document given is never changed: what a
path touches is copied. The positional `$` and `$[<identifier>]` are left to neosqlite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bson import Decimal128
from bson.decimal128 import create_decimal128_context

from bulkadmin.devserver.ordering import same_value, sort_key

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BAD_VALUE, TYPE_MISMATCH, OVERFLOW, PATH_NOT_VIABLE = 2, 14, 15, 28
MISSING = object()
_DECIMAL_CONTEXT = create_decimal128_context()


class UpdateFailed(Exception):
    """An update MongoDB refuses for this document; `code` is MongoDB's error code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def apply_update(document: dict[str, Any], update: dict[str, Any], *, upsert: bool = False) -> dict[str, Any]:
    """`document` with `update`'s operators applied; `upsert` applies `$setOnInsert` too."""
    result = document
    for operator, fields in update.items():
        if operator == "$setOnInsert" and not upsert:
            continue
        apply = _OPERATORS.get(operator)
        if apply is None:
            raise UpdateFailed(f"Unknown modifier: {operator}", BAD_VALUE)
        for path, operand in fields.items():
            for parts in concrete_paths(result, path.split(".")):
                result = apply(result, parts, operand)
    return result


def concrete_paths(document: Any, parts: list[str]) -> list[list[str]]:
    """`parts` with each all-elements operator (`$[]`) replaced by every index of its array."""
    if "$[]" not in parts:
        return [parts]
    at = parts.index("$[]")
    items = get_path(document, parts[:at])
    if not isinstance(items, list):
        raise UpdateFailed(f"The path '{'.'.join(parts[:at])}' must exist and be an array to apply '$[]'", BAD_VALUE)
    expanded = [[*parts[:at], str(index), *parts[at + 1 :]] for index in range(len(items))]
    return [concrete for each in expanded for concrete in concrete_paths(document, each)]


def get_path(document: Any, parts: list[str]) -> Any:
    """The value at `parts` (an object key or an array index each), or `MISSING`."""
    value = document
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def put_path(container: Any, parts: list[str], value: Any) -> Any:
    """A copy of `container` with `value` at `parts`, creating objects on the way."""
    head, rest = parts[0], parts[1:]
    if isinstance(container, list):
        if not head.isdigit():
            raise UpdateFailed(f"Cannot create field '{head}' in an array", PATH_NOT_VIABLE)
        items, index = list(container), int(head)
        items.extend([None] * (index + 1 - len(items)))
        items[index] = put_path(_child(items[index], rest), rest, value) if rest else value
        return items
    if not isinstance(container, dict):
        raise UpdateFailed(f"Cannot create field '{head}' in element {container!r}", PATH_NOT_VIABLE)
    copied = dict(container)
    copied[head] = put_path(_child(copied.get(head), rest), rest, value) if rest else value
    return copied


def _child(existing: Any, rest: list[str]) -> Any:
    return {} if existing is None and rest else existing


def drop_path(container: Any, parts: list[str]) -> Any:
    """A copy of `container` without the value at `parts` (an array element becomes null)."""
    if get_path(container, parts) is MISSING:
        return container
    head, rest = parts[0], parts[1:]
    if isinstance(container, list):
        items, index = list(container), int(head)
        items[index] = drop_path(items[index], rest) if rest else None
        return items
    copied = dict(container)
    if rest:
        copied[head] = drop_path(copied[head], rest)
    else:
        del copied[head]
    return copied


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
    return put_path(document, parts, [item for item in items if not _matches(item, condition)])


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
    return result


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return _DECIMAL_CONTEXT.create_decimal(repr(value) if isinstance(value, float) else value)


def _zero_like(value: Any) -> Any:
    if isinstance(value, Decimal128):
        return Decimal128("0")
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


_COMPARISONS: dict[str, Callable[[tuple[Any, ...], tuple[Any, ...]], bool]] = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a[0] == b[0] and a > b,
    "$gte": lambda a, b: a[0] == b[0] and a >= b,
    "$lt": lambda a, b: a[0] == b[0] and a < b,
    "$lte": lambda a, b: a[0] == b[0] and a <= b,
}


def _matches(item: Any, condition: Any) -> bool:
    """Whether an array element matches a `$pull` condition (a value, operators or a query)."""
    if not isinstance(condition, dict):
        return same_value(item, condition)
    if condition and all(key.startswith("$") for key in condition):
        return all(_operator_matches(item, operator, operand) for operator, operand in condition.items())
    if not isinstance(item, dict):
        return False
    return all(_matches(get_path(item, key.split(".")), value) for key, value in condition.items())


def _operator_matches(item: Any, operator: str, operand: Any) -> bool:
    if operator == "$in":
        return any(same_value(item, value) for value in operand)
    if operator == "$nin":
        return not any(same_value(item, value) for value in operand)
    compare = _COMPARISONS.get(operator)
    if compare is None:
        raise UpdateFailed(f"Unsupported $pull condition {operator}", BAD_VALUE)
    return item is not MISSING and compare(sort_key(item), sort_key(operand))


def identical(left: Any, right: Any) -> bool:
    """Equal and of the same type all the way down (1 is not 1.0, -0.0 is not 0.0)."""
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
