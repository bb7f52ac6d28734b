"""Dotted paths in documents: read, written and removed without changing the document given
(what a path touches is copied), and the error MongoDB gives for an update it refuses."""

from __future__ import annotations

from typing import Any

BAD_VALUE, TYPE_MISMATCH, OVERFLOW, PATH_NOT_VIABLE, CONFLICTING_UPDATE = 2, 14, 15, 28, 40
MISSING = object()


class UpdateFailed(Exception):
    """An update MongoDB refuses for this document; `code` is MongoDB's error code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


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
        existing = items[index] if index < len(items) else MISSING
        items.extend([None] * (index + 1 - len(items)))  # MongoDB pads an array with nulls
        items[index] = put_path(_child(existing), rest, value) if rest else value
        return items
    if not isinstance(container, dict):
        raise UpdateFailed(f"Cannot create field '{head}' in element {container!r}", PATH_NOT_VIABLE)
    copied = dict(container)
    copied[head] = put_path(_child(copied.get(head, MISSING)), rest, value) if rest else value
    return copied


def _child(existing: Any) -> Any:
    """What a path goes on through: a new object where nothing is (null is a value: MongoDB
    refuses to create a field inside it)."""
    return {} if existing is MISSING else existing


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
