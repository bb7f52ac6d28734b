"""What a MongoDB document can hold, checked per document before a write so that a value the
driver or server would refuse rejects its own row with the field named, never its batch."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bulkadmin.core.exceptions import InvalidSpec

MAX_DEPTH = 100  # MongoDB's limit on nested documents and arrays
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise `InvalidSpec` naming the path where `value` (plain dicts and lists, as read from
    input; the value itself is level 1) holds objects or arrays more than `limit` levels deep.
    Iterative: any depth is safe to check."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, level = stack.pop()
        if level > limit and isinstance(item, (Mapping, list, tuple)):
            raise InvalidSpec(f"{path or 'value'}: nested deeper than {limit} levels.", field=path or None)
        stack.extend((child, child_path, level + 1) for child, child_path in _children(item, path))


def check_storable(document: Any) -> None:
    """Raise `InvalidSpec` naming the first field of a stored-form document (or filter, or update)
    that MongoDB cannot hold: an integer outside int64, NaN or ±Infinity, or text (value or key)
    that is not valid Unicode (a lone surrogate such as `\\udc80`)."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        item, path = stack.pop()
        problem = _problem(item)
        if problem:
            raise InvalidSpec(f"{path or 'value'}: {problem}", field=path or None)
        if isinstance(item, Mapping):
            for key in item:
                if isinstance(key, str) and not _encodable(key):
                    message = f"{path or 'row'}: a field name is not valid Unicode ({key!r})."
                    raise InvalidSpec(message, field=path or None)
        stack.extend(_children(item, path))


def _problem(value: Any) -> str:
    kind = type(value)
    if kind is int and not INT64_MIN <= value <= INT64_MAX:
        return f"{value} is beyond the 64-bit integers MongoDB stores."
    if kind is float and not math.isfinite(value):
        return f"{value} is not stored: NaN and Infinity are refused."
    if kind is str and not _encodable(value):
        return "the text is not valid Unicode (a lone surrogate such as \\udc80)."
    return ""


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _children(value: Any, path: str) -> list[tuple[Any, str]]:
    if isinstance(value, Mapping):
        return [(item, f"{path}.{key}" if path else str(key)) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return [(item, f"{path}.{position}" if path else str(position)) for position, item in enumerate(value)]
    return []
