"""Index keys equal exactly when MongoDB's are: `index_key`, a SQL function of a stored value.

SQLite's `json_extract` reads `true` as 1 and a Decimal128 (a tagged object) as text, so a
unique index on it refused `true` beside `1` and let `Decimal128("1")` beside `1`. `index_key`
writes a value as its BSON type bracket and its value: numbers of every type by value (a double
rounded to 34 digits, as `compare_number` compares it; every NaN alike), sub-documents field by
field in their order, a missing field as null. A unique index on `index_key(data -> '$.f')`
holds MongoDB's rule; an array is one key as a whole (MongoDB indexes each of its elements).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from bson import Binary as BsonBinary
from bson import Decimal128
from neosqlite.binary import Binary
from neosqlite.objectid import ObjectId

from bulkadmin.devserver import values

_DOUBLE_DIGITS = decimal.Context(prec=34)  # MongoDB compares a double to a Decimal128 rounded so
_EXACT = decimal.Context(prec=100)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def index_key(stored: str | None) -> str:
    """SQL function: the key of a stored value (`data -> '$.f'`: JSON text, NULL when missing).
    Plain ASCII text, the usual key, is written without being read (its JSON is what `json.dumps`
    would write)."""
    if stored is not None and stored[:1] == '"' and stored.isascii() and "\\" not in stored:
        return f'["string",{stored}]'
    return json.dumps(_key(None if stored is None else values.loads(stored)), separators=(",", ":"))


def _key(value: Any) -> list[Any]:
    """`value` as `[bracket, ...]`: equal lists exactly for values MongoDB's indexes hold equal."""
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int | float | Decimal128):
        return ["number", _number_text(value)]
    if isinstance(value, str):
        return ["string", value]
    if isinstance(value, dict):
        return ["object", [[field, _key(item)] for field, item in value.items()]]
    if isinstance(value, list):
        return ["array", [_key(item) for item in value]]
    return _other_key(value)


def _other_key(value: Any) -> list[Any]:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return ["date", (moment - _EPOCH) // dt.timedelta(milliseconds=1)]
    if isinstance(value, ObjectId):
        return ["objectId", str(value)]
    if isinstance(value, Binary | BsonBinary):
        return ["binary", getattr(value, "subtype", 0), bytes(value).hex()]
    return [type(value).__name__, str(value)]


def _number_text(number: int | float | Decimal128) -> str:
    """A number's value as text: equal for equal values of any numeric type."""
    if isinstance(number, float):
        value = _DOUBLE_DIGITS.create_decimal_from_float(number)
    elif isinstance(number, Decimal128):
        value = number.to_decimal()
    else:
        value = decimal.Decimal(number)
    if value.is_nan():
        return "NaN"
    if value.is_zero():
        return "0"
    return str(_EXACT.normalize(value))


def prepare(db: Any) -> None:
    """Give the connection `db` the SQL function of unique indexes' keys."""
    db.create_function("index_key", 1, index_key, deterministic=True)
