"""Apply a translated update document to a stored document in Python, for previews.

Only the allow-listed update operators are known. Nothing is written: the preview shows each
sample document before and after with the same update the job would send to MongoDB. Where
MongoDB would refuse the update for a document (`$inc` of a text value, `$push` onto a
value that is not a list, a sub-field of a text value), `InvalidSpec` names the field.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from bulkadmin.core.exceptions import InvalidSpec

Applier = Callable[[dict[str, Any], str, Any, dt.datetime], None]
_MISSING = object()


def apply_update(
    document: Mapping[str, Any], update: Mapping[str, Any], *, now: dt.datetime, in_place: bool = False
) -> dict[str, Any]:
    """A copy of `document` with `update` (stored keys, e.g. from `translate_update`) applied
    (`document` itself, changed, with `in_place`)."""
    result = document if in_place and isinstance(document, dict) else copy.deepcopy(dict(document))
    for operator, fields in update.items():
        applier = APPLIERS.get(operator)
        if applier is None or not isinstance(fields, Mapping):
            continue
        for path, value in fields.items():
            for concrete in _expand(result, str(path), operator):
                _apply(applier, result, concrete, value, now, operator)
    return result


def _apply(applier: Applier, document: dict[str, Any], path: str, value: Any, now: dt.datetime, operator: str) -> None:
    try:
        applier(document, path, value, now)
    except _Refused as refused:
        where = f" in the document with _id {document.get('_id')!r}" if "_id" in document else ""
        raise InvalidSpec(f"{operator}: {path!r} {refused}{where}.", field=path, operator=operator) from None


class _Refused(Exception):
    """What MongoDB would answer for this document, without the field (added by `_apply`)."""


def _expand(document: dict[str, Any], path: str, operator: str) -> list[str]:
    """The concrete paths of `path`: `tags.$[]` becomes `tags.0`, `tags.1`, ... (none if absent)."""
    parts = path.split(".")
    if "$" in parts:
        raise InvalidSpec(
            f"{operator}: {path!r}: the positional $ depends on the filter; the preview cannot show it.",
            field=path,
            operator="$",
        )
    if "$[]" not in parts:
        return [path]
    at = parts.index("$[]")
    head, tail = ".".join(parts[:at]), parts[at + 1 :]
    array = _current(document, head) if head else _MISSING
    if not isinstance(array, list):
        return []
    paths: list[str] = []
    for index in range(len(array)):
        paths.extend(_expand(document, ".".join([head, str(index), *tail]), operator))
    return paths


def _parent(document: dict[str, Any], path: str, create: bool) -> tuple[Any, str | int] | None:
    """The container holding the last part of `path`, and that part's key (or list index)."""
    parts = path.split(".")
    node: Any = document
    for part in parts[:-1]:
        key: str | int = int(part) if isinstance(node, list) and part.isdigit() else part
        child = _get(node, key)
        if child is _MISSING or child is None:
            if not create or not isinstance(node, dict):
                return None
            child = node[key] = {}
        elif not isinstance(child, (dict, list)):
            if create:
                raise _Refused(f"cannot be written: {part!r} holds {_short(child)}, not a sub-document")
            return None
        node = child
    last = parts[-1]
    return node, int(last) if isinstance(node, list) and last.isdigit() else last


def _get(node: Any, key: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(key, _MISSING)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return _MISSING


def _current(document: dict[str, Any], path: str) -> Any:
    found = _parent(document, path, create=False)
    return _MISSING if found is None else _get(*found)


def _put(document: dict[str, Any], path: str, value: Any) -> None:
    found = _parent(document, path, create=True)
    if found is None:
        return
    node, key = found
    if isinstance(node, list):
        if not isinstance(key, int):
            raise _Refused("cannot be written: its parent is a list")
        node.extend([None] * (key + 1 - len(node)))
    node[key] = value


def _set(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    _put(document, path, copy.deepcopy(value))


def _unset(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    found = _parent(document, path, create=False)
    if found is None:
        return
    node, key = found
    if isinstance(node, dict):
        node.pop(key, None)
    elif isinstance(node, list) and isinstance(key, int) and key < len(node):
        node[key] = None


def _number(function: Callable[[Any, Any], Any], default: Callable[[Any], Any]) -> Applier:
    def apply(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
        current = _current(document, path)
        if current is _MISSING:
            _put(document, path, default(value))
        elif isinstance(current, bool) or not isinstance(current, (int, float)):
            raise _Refused(f"holds {_short(current)}, not a number")
        else:
            _put(document, path, function(current, value))

    return apply


def _compare(keep_new: Callable[[Any, Any], bool]) -> Applier:
    def apply(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
        current = _current(document, path)
        try:
            replace = current is _MISSING or keep_new(value, current)
        except TypeError:
            replace = False
        if replace:
            _put(document, path, value)

    return apply


def _current_date(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    _put(document, path, now)


def _items(value: Any) -> list[Any]:
    return list(value["$each"]) if isinstance(value, Mapping) and "$each" in value else [value]


def _array(document: dict[str, Any], path: str) -> list[Any]:
    current = _current(document, path)
    if current not in (_MISSING, None) and not isinstance(current, list):
        raise _Refused(f"holds {_short(current)}, not a list")
    array = list(current) if isinstance(current, list) else []
    _put(document, path, array)
    return array


def _push(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    array = _array(document, path)
    items = copy.deepcopy(_items(value))
    options = value if isinstance(value, Mapping) and "$each" in value else {}
    position = options.get("$position", len(array))
    array[position:position] = items
    if "$sort" in options:
        _sort(array, options["$sort"])
    if "$slice" in options:
        size = options["$slice"]
        array[:] = array[:size] if size >= 0 else array[size:]


def _sort(array: list[Any], order: Any) -> None:
    """Sort in place by value (`1` / `-1`) or by sub-fields (`{"score": -1}`), as MongoDB would."""
    keys = list(order.items()) if isinstance(order, Mapping) else [(None, order)]
    for key, direction in reversed(keys):
        array.sort(key=partial(_sort_key, key), reverse=direction < 0)


def _sort_key(key: str | None, item: Any) -> tuple[int, Any]:
    return _order_key(_get(item, key) if key else item)


def _order_key(value: Any) -> tuple[int, Any]:
    """A key that orders numbers, text, dates and the rest apart (type first, then value)."""
    if value is _MISSING or value is None:
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, dt.datetime):
        return (3, value.timestamp())
    return (4, repr(value))


def _add_to_set(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    array = _array(document, path)
    for item in _items(value):
        if item not in array:
            array.append(copy.deepcopy(item))


def _pull(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    current = _current(document, path)
    if isinstance(current, list):
        _put(document, path, [item for item in current if not _matches(item, value)])
    elif current not in (_MISSING, None):
        raise _Refused(f"holds {_short(current)}, not a list")


def _pull_all(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    current = _current(document, path)
    if isinstance(current, list):
        _put(document, path, [item for item in current if item not in value])
    elif current not in (_MISSING, None):
        raise _Refused(f"holds {_short(current)}, not a list")


def _pop(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    current = _current(document, path)
    if isinstance(current, list) and current:
        _put(document, path, current[:-1] if value == 1 else current[1:])
    elif current not in (_MISSING, None) and not isinstance(current, list):
        raise _Refused(f"holds {_short(current)}, not a list")


_CONDITIONS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda item, arg: item == arg,
    "$ne": lambda item, arg: item != arg,
    "$gt": lambda item, arg: item > arg,
    "$gte": lambda item, arg: item >= arg,
    "$lt": lambda item, arg: item < arg,
    "$lte": lambda item, arg: item <= arg,
    "$in": lambda item, arg: item in arg,
    "$nin": lambda item, arg: item not in arg,
}


def _matches(item: Any, condition: Any) -> bool:
    """Whether an array element matches a `$pull` condition (a value, operators or sub-fields)."""
    if not isinstance(condition, Mapping):
        return item == condition
    if any(str(key).startswith("$") for key in condition):
        try:
            return all(_CONDITIONS.get(op, lambda *_: False)(item, arg) for op, arg in condition.items())
        except TypeError:
            return False
    return isinstance(item, Mapping) and all(_matches(item.get(key), sub) for key, sub in condition.items())


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


APPLIERS: dict[str, Applier] = {
    "$set": _set,
    "$setOnInsert": lambda *_: None,
    "$unset": _unset,
    "$inc": _number(lambda current, value: current + value, lambda value: value),
    "$mul": _number(lambda current, value: current * value, lambda value: 0 * value),
    "$min": _compare(lambda new, current: new < current),
    "$max": _compare(lambda new, current: new > current),
    "$currentDate": _current_date,
    "$push": _push,
    "$addToSet": _add_to_set,
    "$pull": _pull,
    "$pullAll": _pull_all,
    "$pop": _pop,
}


EXACT_OPERATORS = frozenset({"$set", "$unset", "$inc", "$mul"})


def is_exact(update: Mapping[str, Any]) -> bool:
    """Whether `apply_update` gives exactly what MongoDB stores for `update`: only `$set`,
    `$unset`, `$inc` and `$mul` on plain paths (no clock, array matching, type ordering or
    positional operator involved)."""
    return all(
        operator in EXACT_OPERATORS and isinstance(fields, Mapping) and all("$" not in str(path) for path in fields)
        for operator, fields in update.items()
    )
