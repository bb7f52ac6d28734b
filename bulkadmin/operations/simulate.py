"""Apply a translated update document to a stored document in Python, for previews.

Only the allow-listed update operators are known. Nothing is written: the preview shows each
sample document before and after with the same update the job would send to MongoDB.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

Applier = Callable[[dict[str, Any], str, Any, dt.datetime], None]
_MISSING = object()


def apply_update(document: Mapping[str, Any], update: Mapping[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    """A copy of `document` with `update` (stored keys, e.g. from `translate_update`) applied."""
    result = copy.deepcopy(dict(document))
    for operator, fields in update.items():
        applier = APPLIERS.get(operator)
        if applier is None:
            continue
        for path, value in fields.items():
            applier(result, path, value, now)
    return result


def _parent(document: dict[str, Any], path: str, create: bool) -> tuple[Any, str | int] | None:
    """The container holding the last part of `path`, and that part's key (or list index)."""
    parts = path.split(".")
    node: Any = document
    for part in parts[:-1]:
        key: str | int = int(part) if isinstance(node, list) and part.isdigit() else part
        child = _get(node, key)
        if child is _MISSING or child is None:
            if not create or isinstance(node, list):
                return None
            child = node[key] = {}
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
    if found is not None:
        node, key = found
        if isinstance(node, list) and isinstance(key, int):
            node.extend([None] * (key + 1 - len(node)))
        node[key] = value


def _set(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    _put(document, path, copy.deepcopy(value))


def _unset(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    found = _parent(document, path, create=False)
    if found is not None and isinstance(found[0], dict):
        found[0].pop(found[1], None)


def _number(function: Callable[[Any, Any], Any], default: Callable[[Any], Any]) -> Applier:
    def apply(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
        current = _current(document, path)
        _put(document, path, default(value) if current in (_MISSING, None) else function(current, value))

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
    array = list(current) if isinstance(current, list) else []
    _put(document, path, array)
    return array


def _push(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    array = _array(document, path)
    items = _items(value)
    options = value if isinstance(value, Mapping) else {}
    position = options.get("$position", len(array))
    array[position:position] = items
    if "$sort" in options and isinstance(options["$sort"], int):
        array.sort(reverse=options["$sort"] < 0)
    if "$slice" in options:
        size = options["$slice"]
        array[:] = array[:size] if size >= 0 else array[size:]


def _add_to_set(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    array = _array(document, path)
    for item in _items(value):
        if item not in array:
            array.append(item)


def _pull(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    current = _current(document, path)
    if isinstance(current, list):
        _put(document, path, [item for item in current if not _matches(item, value)])


def _pop(document: dict[str, Any], path: str, value: Any, now: dt.datetime) -> None:
    current = _current(document, path)
    if isinstance(current, list) and current:
        _put(document, path, current[:-1] if value == 1 else current[1:])


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


APPLIERS: dict[str, Applier] = {
    "$set": _set,
    "$unset": _unset,
    "$inc": _number(lambda current, value: current + value, lambda value: value),
    "$mul": _number(lambda current, value: current * value, lambda value: 0 * value),
    "$min": _compare(lambda new, current: new < current),
    "$max": _compare(lambda new, current: new > current),
    "$currentDate": _current_date,
    "$push": _push,
    "$addToSet": _add_to_set,
    "$pull": _pull,
    "$pop": _pop,
}
