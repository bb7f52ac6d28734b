"""Limits on what a user-written filter or update may contain, checked without recursion.

Nesting deeper than `MAX_SPEC_DEPTH`, integers outside int64, NaN / Infinity, strings with lone
surrogates, non-string keys and values BSON cannot encode are refused with `InvalidSpec`
naming the field (or operator) where they were found.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import bson
from bson import ObjectId
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.errors import BSONError

from bulkadmin.core import conf
from bulkadmin.core.exceptions import InvalidSpec

MAX_SPEC_DEPTH = 20
"""The most levels of objects and lists a filter or an update may nest (`{"a": 1}` is 1)."""

USER_READ_MAX_TIME_MS = conf.DEFAULT_USER_READ_MAX_TIME_MS

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_SIMPLE = frozenset({str, int, float, bool, type(None), dt.datetime, ObjectId})
# UUIDs as the client encodes them (`core.mongo.CLIENT_OPTIONS`), so a stored UUID can be set again.
_AS_THE_CLIENT_ENCODES: CodecOptions[dict[str, Any]] = CodecOptions(uuid_representation=UuidRepresentation.STANDARD)


user_read_max_time_ms = conf.user_read_max_time_ms


def check_spec_shape(spec: Any, what: str) -> None:
    """Refuse nesting deeper than `MAX_SPEC_DEPTH` and bad keys or scalars anywhere in `spec`.

    Iterative, so any depth is refused without a `RecursionError`; errors name the first field
    (and operator) on the way to the fault."""
    stack: list[tuple[Any, int, str | None, str | None]] = [(spec, 0, None, None)]
    while stack:
        value, depth, field, operator = stack.pop()
        if isinstance(value, Mapping):
            depth += 1
            _check_depth(depth, what, field, operator)
            for key, item in value.items():
                key_field, key_operator = _names(key, field, operator)
                check_key(key, key_field, key_operator)
                stack.append((item, depth, key_field, key_operator))
        elif isinstance(value, (list, tuple)):
            depth += 1
            _check_depth(depth, what, field, operator)
            stack.extend((item, depth, field, operator) for item in value)
        else:
            check_scalar(value, field, operator)


def check_stored_value(value: Any, field: str, operator: str | None = None) -> None:
    """Refuse a translated value whose scalars are out of range or that BSON cannot encode."""
    if type(value) in _SIMPLE:
        check_scalar(value, field, operator)
        return
    _check_scalars(value, field, operator)
    try:
        bson.encode({"v": value}, codec_options=_AS_THE_CLIENT_ENCODES)
    except (BSONError, OverflowError, TypeError, ValueError) as error:
        raise InvalidSpec(f"{field}: this value cannot be stored ({error}).", field=field, operator=operator) from None


def check_key(key: Any, field: str | None, operator: str | None) -> None:
    """A key must be a string MongoDB can store: no NUL byte and no lone surrogate."""
    if not isinstance(key, str):
        raise InvalidSpec(f"Keys must be strings, got {key!r}.", field=field or repr(key), operator=operator)
    if "\x00" in key or _has_surrogate(key):
        raise InvalidSpec(f"Key {key!r} has a character MongoDB cannot store.", field=field or key, operator=operator)


def check_scalar(value: Any, field: str | None, operator: str | None) -> None:
    """Integers within int64, finite floats, strings without lone surrogates."""
    name = field or operator or "value"
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise InvalidSpec(f"{name}: {value} is outside the 64-bit integer range.", field=field, operator=operator)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidSpec(f"{name}: {value} cannot be stored; use a finite number.", field=field, operator=operator)
    if isinstance(value, str) and _has_surrogate(value):
        raise InvalidSpec(f"{name}: the text has an unpaired surrogate character.", field=field, operator=operator)


def _check_scalars(value: Any, field: str, operator: str | None) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            check_scalar(item, field, operator)


def _names(key: Any, field: str | None, operator: str | None) -> tuple[str | None, str | None]:
    if not isinstance(key, str):
        return field, operator
    if key.startswith("$"):
        return field, operator or key
    return field or key, operator


def _check_depth(depth: int, what: str, field: str | None, operator: str | None) -> None:
    if depth > MAX_SPEC_DEPTH:
        where = f" at {field!r}" if field else (f" under {operator}" if operator else "")
        raise InvalidSpec(
            f"The {what} nests deeper than {MAX_SPEC_DEPTH} levels{where}.",
            field=field,
            operator=operator,
        )


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
