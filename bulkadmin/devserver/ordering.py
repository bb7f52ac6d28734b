"""MongoDB's comparison order of BSON values, for `$min`, `$max`, `$addToSet` and `$push`'s `$sort`.

Numbers of every type compare by value (1, 1.0 and Decimal128("1") are equal; NaN is below every
other number); types compare in MongoDB's order (null < numbers < strings < objects < arrays <
binary < ObjectId < booleans < dates).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from bson import Binary as BsonBinary
from bson import Decimal128
from bson import ObjectId as BsonObjectId
from neosqlite.objectid import ObjectId

_NULL, _NUMBER, _STRING, _OBJECT, _ARRAY, _BINARY, _OBJECT_ID, _BOOLEAN, _DATE, _OTHER = range(10)


def sort_key(value: Any) -> tuple[Any, ...]:
    """A key that orders values as MongoDB compares them."""
    if value is None:
        return (_NULL,)
    if isinstance(value, bool):
        return (_BOOLEAN, value)
    if isinstance(value, int | float | Decimal128 | Decimal):
        return (_NUMBER, *_number_key(value))
    if isinstance(value, str):
        return (_STRING, value)
    if isinstance(value, dict):
        return (_OBJECT, [(key, sort_key(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return (_ARRAY, [sort_key(item) for item in value])
    if isinstance(value, ObjectId | BsonObjectId):
        return (_OBJECT_ID, value.binary)
    if isinstance(value, bytes):
        subtype = value.subtype if isinstance(value, BsonBinary) else getattr(value, "subtype", 0)
        return (_BINARY, len(value), subtype, bytes(value))
    if isinstance(value, dt.datetime):
        return (_DATE, value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return (_OTHER, repr(value))


def _number_key(value: int | float | Decimal128 | Decimal) -> tuple[int, Decimal]:
    number = value.to_decimal() if isinstance(value, Decimal128) else value
    if (isinstance(number, float) and math.isnan(number)) or (isinstance(number, Decimal) and number.is_nan()):
        return (0, Decimal(0))
    return (1, Decimal(number))


def same_value(left: Any, right: Any) -> bool:
    """Whether MongoDB holds the two values equal (`$addToSet`, `$pullAll`)."""
    return sort_key(left) == sort_key(right)
