"""What a MongoDB document can hold, checked per document before a write so that a value the
driver or server would refuse rejects its own row with the field named, never its batch.

Both checks are iterative (any depth is safe) and first scan without building paths; the path
of a problem is worked out only when there is one."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from bson import ObjectId

from bulkadmin.core.exceptions import InvalidSpec

MAX_DEPTH = 100  # MongoDB's limit on nested documents and arrays
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_CONTAINERS = (dict, list, tuple)
_LEAVES = frozenset({str, int, float, bool, type(None), dt.datetime, ObjectId})
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def loads_json(text: str, limit: int = MAX_DEPTH, *, unique_keys: bool = False) -> Any:
    """`json.loads(text)`, refusing (`InvalidSpec`) text that nests objects or arrays more than
    `limit` levels deep before parsing it (Python's parser would recurse, then fail). With
    `unique_keys`, an object giving a key twice is refused too, naming its path (json.loads would
    keep the last value silently)."""
    if text.count("[") + text.count("{") > limit and _json_depth_exceeds(text, limit):
        path = _json_deep_path(text, limit)
        raise InvalidSpec(f"{path or 'value'}: nested deeper than {limit} levels (the limit).", field=path or None)
    try:
        return _UNIQUE_KEYS.decode(text) if unique_keys else json.loads(text)
    except RecursionError:
        raise InvalidSpec(f"nested deeper than {limit} levels (the limit).") from None
    except _KeyTwice:
        path = duplicate_key_path(json.loads(text, object_pairs_hook=MarkedObject.of))
        raise InvalidSpec(f"{path}: {KEY_TWICE}.", field=path) from None


KEY_TWICE = "the key appears twice in this object"


class _KeyTwice(Exception):
    """An object of the text gives a key twice (raised out of the parser, not a ValueError)."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _KeyTwice
    return document


_UNIQUE_KEYS = json.JSONDecoder(object_pairs_hook=_unique_pairs)


class MarkedObject(dict):  # type: ignore[type-arg]
    """A JSON object as read, with the first key it gives twice as `.twice` (None: none); a
    parser that sets its keys one by one (ijson's `map_type`) marks it as it reads."""

    twice: str | None = None

    def __setitem__(self, key: str, value: Any) -> None:
        if self.twice is None and key in self:
            self.twice = key
        dict.__setitem__(self, key, value)

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> MarkedObject:
        marked = cls()
        for key, value in pairs:
            marked[key] = value
        return marked


def plain_unique(value: Any, path: str = "") -> Any:
    """`value` (read with `MarkedObject`s) with plain dicts; `InvalidSpec` naming the path of the
    first key an object gives twice."""
    kind = type(value)
    if kind is MarkedObject:
        if value.twice is not None:
            where = f"{path}.{value.twice}" if path else value.twice
            raise InvalidSpec(f"{where}: {KEY_TWICE}.", field=where)
        plain = dict(value)
        if not _READ.isdisjoint(map(type, plain.values())):
            for key, item in plain.items():
                if type(item) in _READ:
                    plain[key] = plain_unique(item, f"{path}.{key}" if path else key)
        return plain
    if kind is list and not _READ.isdisjoint(map(type, value)):
        return [
            plain_unique(item, f"{path}.{number}" if path else str(number)) if type(item) in _READ else item
            for number, item in enumerate(value)
        ]
    return value


_READ = frozenset({MarkedObject, list})


def duplicate_key_path(value: Any, path: str = "") -> str:
    """The dotted path of the first key (depth first) that an object of `value` gives twice, as
    marked by the object type `value` was read with (`.twice`), or ''."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        twice = getattr(node, "twice", None)
        if twice is not None:
            return f"{where}.{twice}" if where else twice
        stack.extend(reversed(list(_children(node, where))))
    return ""


def _json_depth_exceeds(text: str, limit: int) -> bool:
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


_JSON_PLACES = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')


def _json_deep_path(text: str, limit: int) -> str:
    """The dotted path of the first object or array of `text` nested more than `limit` levels
    deep (as `check_depth` names it), read from the tokens alone: it cannot be parsed."""
    places: list[list[Any]] = []  # per open container: [kind, key or index]
    last = ""
    for token in _JSON_PLACES.finditer(text):
        mark = token.group()
        if mark in ("[", "{"):
            if len(places) == limit:
                return ".".join(str(place[1]) for place in places)
            places.append([mark, 0 if mark == "[" else ""])
        elif mark in ("]", "}"):
            places.pop()
        elif mark == ":" and places:
            places[-1][1] = json.loads(last)
        elif mark == "," and places and places[-1][0] == "[":
            places[-1][1] += 1
        elif mark.startswith('"'):
            last = mark
    return ""


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
    path, node = _path_and_node(document, lambda node, depth: bool(_problem(node)) or _bad_keys(node))
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
    return _path_and_node(root, wanted)[0]


def _path_and_node(root: Any, wanted: Any) -> tuple[str, Any]:
    """`_path_to` and the node found (the root when none is)."""
    stack: list[tuple[Any, str, int]] = [(root, "", 1)]
    while stack:
        node, path, level = stack.pop()
        if wanted(node, level):
            return path, node
        stack.extend(reversed([(child, key, level + 1) for child, key in _children(node, path)]))
    return "", root


def _children(value: Any, path: str) -> Iterator[tuple[Any, str]]:
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return iter(())
    return ((item, f"{path}.{key}" if path else str(key)) for key, item in items)
