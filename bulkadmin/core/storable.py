"""What a MongoDB document can hold, checked per document before a write so that a value the
driver or server would refuse rejects its own row with the field named, never its batch.

Both checks are iterative (any depth is safe) and first scan without building paths; the path
of a problem is worked out only when there is one."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from typing import Any

from bson import ObjectId

from bulkadmin.core.exceptions import InvalidSpec

MAX_DEPTH = 100  # MongoDB's limit on nested documents and arrays
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_CONTAINERS = (dict, list, tuple)
_LEAVES = frozenset({str, int, float, bool, type(None), dt.datetime, ObjectId})


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise `InvalidSpec` naming the path where `value` (plain dicts and lists, as read from
    input; the value itself is level 1) holds objects or arrays more than `limit` levels deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        for child in item.values() if isinstance(item, Mapping) else item:
            if type(child) not in _LEAVES and _is_container(child):
                if level + 1 > limit:
                    path = _path_to(value, lambda node, depth: depth > limit and _is_container(node))
                    raise InvalidSpec(f"{path or 'value'}: nested deeper than {limit} levels.", field=path or None)
                stack.append((child, level + 1))


def check_storable(document: Any) -> None:
    """Raise `InvalidSpec` naming the first field of a stored-form document (or filter, or update)
    that MongoDB cannot hold: an integer outside int64, NaN or ±Infinity, or text (value or key)
    that is not valid Unicode (a lone surrogate such as `\\udc80`)."""
    if _all_storable(document):
        return
    path = _path_to(document, lambda node, depth: bool(_problem(node)) or _bad_keys(node))
    node = _at(document, path)
    problem = _problem(node) or f"a field name is not valid Unicode ({_bad_key(node)!r})."
    raise InvalidSpec(f"{path or 'value'}: {problem}", field=path or None)


def _all_storable(document: Any) -> bool:
    stack = [document]
    while stack:
        item = stack.pop()
        if type(item) is dict or isinstance(item, Mapping):
            if not all(key.isascii() for key in item) and _bad_keys(item):
                return False
            children = item.values()
        else:
            children = item
        for value in children:
            kind = type(value)
            if kind is str:
                if not value.isascii() and not _encodable(value):
                    return False
            elif kind is int:
                if not INT64_MIN <= value <= INT64_MAX:
                    return False
            elif kind is float:
                if not math.isfinite(value):
                    return False
            elif kind not in _LEAVES and _is_container(value):
                stack.append(value)
    return True


def _problem(value: Any) -> str:
    kind = type(value)
    if kind is int and not INT64_MIN <= value <= INT64_MAX:
        return f"{value} is beyond the 64-bit integers MongoDB stores."
    if kind is float and not math.isfinite(value):
        return f"{value} is not stored: NaN and Infinity are refused."
    if kind is str and not _encodable(value):
        return "the text is not valid Unicode (a lone surrogate such as \\udc80)."
    return ""


def _bad_keys(node: Any) -> bool:
    return isinstance(node, Mapping) and _bad_key(node) is not None


def _bad_key(node: Mapping[str, Any]) -> str | None:
    return next((key for key in node if isinstance(key, str) and not _encodable(key)), None)


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_container(value: Any) -> bool:
    return type(value) in _CONTAINERS or isinstance(value, Mapping | list | tuple)


def _path_to(root: Any, wanted: Any) -> str:
    """The dotted path of the first node (depth-first) for which `wanted(node, level)` holds."""
    stack: list[tuple[Any, str, int]] = [(root, "", 1)]
    while stack:
        node, path, level = stack.pop()
        if wanted(node, level):
            return path
        stack.extend(reversed([(child, key, level + 1) for child, key in _children(node, path)]))
    return ""


def _children(value: Any, path: str) -> Iterator[tuple[Any, str]]:
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return iter(())
    return ((item, f"{path}.{key}" if path else str(key)) for key, item in items)


def _at(root: Any, path: str) -> Any:
    node = root
    for part in path.split(".") if path else ():
        node = node[int(part)] if isinstance(node, list | tuple) else node[part]
    return node
