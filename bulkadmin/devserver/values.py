"""Every BSON value stored as JSON that SQLite accepts and read back as it was written.

neosqlite stores documents as JSON text. It refused Decimal128 ("not JSON serializable"), NaN
and ±Infinity (SQLite rejects Python's `NaN` / `Infinity` tokens), lost binary subtypes (a UUID
came back as bytes) and refused raw bytes in replacements. Here those values are written as
tagged objects (`{"$numberDecimal": "0.1"}`, `{"$numberDouble": "NaN"}`, a binary with its
subtype) and read back as the BSON types they were; every other value is JSON as before, and
Python's float repr keeps each double exactly.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import sys
import uuid
from decimal import Decimal
from typing import Any

from bson import Binary as BsonBinary
from bson import Decimal128
from neosqlite.binary import Binary
from neosqlite.collection import json_helpers
from neosqlite.objectid import ObjectId

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _tag(value: Any) -> Any:
    """A value JSON cannot hold, as a tagged object; None when `value` is not one of them."""
    if isinstance(value, Binary):
        return value.encode_for_storage()
    if isinstance(value, BsonBinary):
        return _binary_tag(bytes(value), value.subtype)
    if isinstance(value, bytes | bytearray | memoryview):
        return _binary_tag(bytes(value), 0)
    if isinstance(value, uuid.UUID):
        return _binary_tag(value.bytes, 4)
    if isinstance(value, Decimal128):
        return {"$numberDecimal": str(value)}
    if isinstance(value, Decimal):
        return {"$numberDecimal": str(Decimal128(value))}
    if isinstance(value, ObjectId):
        return value.encode_for_storage()
    if isinstance(value, dt.datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def _binary_tag(data: bytes, subtype: int) -> dict[str, Any]:
    return {"__neosqlite_binary__": True, "data": base64.b64encode(data).decode("ascii"), "subtype": subtype}


def _finite(value: Any) -> Any:
    """`value` with its NaN and ±Infinity doubles as tagged objects (walked only when present)."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$numberDouble": repr(value).replace("nan", "NaN").replace("inf", "Infinity")}
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class StorageEncoder(json.JSONEncoder):
    """neosqlite's JSON encoder with every BSON type the wire can carry."""

    def default(self, o: Any) -> Any:
        tagged = _tag(o)
        return super().default(o) if tagged is None else tagged

    def encode(self, o: Any) -> str:
        text = super().encode(o)
        if "NaN" in text or "Infinity" in text:  # Python's tokens, or text holding those words
            text = super().encode(_finite(o))
        return text


def _decoded(tagged: dict[str, Any]) -> Any:
    """A tagged object as its value; the object itself when it is a plain sub-document."""
    if "$numberDecimal" in tagged and len(tagged) == 1:
        return Decimal128(tagged["$numberDecimal"])
    if "$numberDouble" in tagged and len(tagged) == 1:
        return _NON_FINITE[tagged["$numberDouble"]]
    if tagged.get("__neosqlite_binary__") is True:
        data, subtype = base64.b64decode(tagged["data"]), int(tagged.get("subtype", 0))
        return Binary(data) if subtype == 0 else BsonBinary(data, subtype)
    if "__neosqlite_objectid__" in tagged:
        return ObjectId(tagged["id"])
    if "$date" in tagged and len(tagged) == 1 and isinstance(tagged["$date"], str):
        return dt.datetime.fromisoformat(tagged["$date"].replace("Z", "+00:00"))
    return tagged


def dumps(value: Any, **kwargs: Any) -> str:
    """A document as stored JSON."""
    return json.dumps(value, cls=StorageEncoder, **kwargs)


def dumps_for_sql(value: Any, **kwargs: Any) -> str:
    """A value as compact JSON, as SQLite's json functions write it."""
    kwargs.setdefault("separators", (",", ":"))
    return json.dumps(value, cls=StorageEncoder, **kwargs)


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """Stored JSON as the values that were written."""
    kwargs["object_hook"] = _decoded
    return json.loads(text, **kwargs)


def install() -> None:
    """Use these functions wherever neosqlite or nx-27017 encode or decode stored JSON."""
    replacements = {
        json_helpers.neosqlite_json_dumps: dumps,
        json_helpers.neosqlite_json_dumps_for_sql: dumps_for_sql,
        json_helpers.neosqlite_json_loads: loads,
        json_helpers.NeoSQLiteJSONEncoder: StorageEncoder,
    }
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("neosqlite", "nx_27017")):
            continue
        for attribute, value in list(vars(module).items()):
            if any(value is original for original in replacements):
                setattr(module, attribute, replacements[value])
