"""Key values as MongoDB compares them, for the dry runs that must match keys as a real run's
reads and unique indexes do: `canonical_key` is the same text for keys MongoDB holds equal
(1 is 1.0, Int64(1) and Decimal128("1") but not true; datetimes by instant; text exactly), and
`read_parts` cuts a read's key values into queries the server takes (16 MiB at most)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Context, Decimal
from typing import Any, TypeVar

import bson
from bson.decimal128 import Decimal128

TEXT_KEY_CHARS = 64  # a longer text key is kept by the dry runs as its 16-byte digest
READ_BYTES = 8 << 20  # the most key values one read of stored keys sends (the server takes 16 MiB)

Item = TypeVar("Item")


def canonical_key(values: Sequence[Any]) -> str:
    """The text standing for a key's values, equal for keys MongoDB compares equal."""
    return repr(tuple(map(canonical, values)))


def canonical(value: Any) -> Any:
    """`value` in a form whose `repr` is equal for values MongoDB compares equal: numbers by
    value (1 is 1.0 but not true), datetimes as naive UTC, documents field by field in order."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is bool:
        return ("bool", value)
    if isinstance(value, int):
        return int(value)
    if kind is float:
        return int(value) if value.is_integer() else value
    if isinstance(value, Decimal128):
        return _canonical_decimal(value.to_decimal())
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, dict):
        return ("document", *((name, canonical(item)) for name, item in value.items()))
    if isinstance(value, list):
        return ("array", *map(canonical, value))
    return value


def _canonical_decimal(number: Decimal) -> Any:
    """A Decimal128's value as `canonical` gives numbers: NaN and the infinities as doubles,
    a value a double holds exactly as that double, any other by value (0.10 is 0.1)."""
    if not number.is_finite():
        return float("nan") if number.is_nan() else float(number)
    if Decimal(float(number)) == number:
        return canonical(float(number))
    return number.normalize(_DECIMAL128)


_DECIMAL128 = Context(prec=34)  # Decimal128's precision


def read_parts(items: Sequence[Item], values: Callable[[Item], Sequence[Any]]) -> Iterator[list[Item]]:
    """`items` in order, in parts whose key `values` take at most `READ_BYTES` (all at once, the
    usual case), so that no read is larger than the server takes."""
    part: list[Item] = []
    size = 0
    for item in items:
        grown = size + values_size(values(item))
        if part and grown > READ_BYTES:
            yield part
            part, grown = [], values_size(values(item))
        part.append(item)
        size = grown
    if part:
        yield part


def values_size(values: Sequence[Any]) -> int:
    """No less than the bytes `values` take in a query (text counted at 4 bytes a character)."""
    return sum(
        4 * len(value) if type(value) is str else len(bson.encode({"": value})) if value is not None else 1
        for value in values
    )
