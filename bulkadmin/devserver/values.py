"""Every BSON value stored as JSON that SQLite accepts and read back as it was written.

neosqlite stores documents as JSON text. It refused Decimal128 ("not JSON serializable"), NaN
and ±Infinity (SQLite rejects Python's `NaN` / `Infinity` tokens), lost binary subtypes (a UUID
came back as bytes) and refused raw bytes in replacements. Here those values are written as
tagged objects (`{"$numberDecimal": "0.1"}`, `{"$numberDouble": "NaN"}`, a binary with its
subtype) and read back as the BSON types they were; every other value is JSON as before, and
Python's float repr keeps each double exactly.

An Int64 that 32 bits could hold came back as a 32-bit int (JSON has one kind of number). It is
written with an exponent (`5E0`): SQLite reads that as the number 5, so filters, counts, sorts and
indexes treat it as before, and `loads` reads it as `Int64(5)` (Python writes a double's exponent
as `e`, never `E`). An int64 beyond 32 bits needs no mark: it can only be an int64.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import json.encoder
import math
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from bson import Binary as BsonBinary
from bson import Decimal128, Int64
from neosqlite.binary import Binary
from neosqlite.collection import json_helpers
from neosqlite.objectid import ObjectId

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MARK = "E0"


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


def _is_marked_int64(value: Any) -> bool:
    return type(value) is Int64 and _INT32_MIN <= value <= _INT32_MAX


def _holds_marked_int64(value: Any) -> bool:
    """Whether `value` is or holds an Int64 that 32 bits could hold (a walk that only reads)."""
    pending: list[Any] = [[value]]
    while pending:
        container = pending.pop()
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is Int64 and _INT32_MIN <= item <= _INT32_MAX:
                return True
            if kind is dict or kind is list:
                pending.append(item)
    return False


def _int_token(value: int) -> str:
    """An int as JSON: `5E0` for an Int64 that 32 bits could hold, digits for any other."""
    return f"{int(value)}{_INT64_MARK}" if _is_marked_int64(value) else int.__repr__(value)


def _float_token(value: float) -> str:
    """A double as the standard encoder writes it (NaN and ±Infinity as Python's tokens)."""
    if math.isfinite(value):
        return float.__repr__(value)
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def _parse_float(text: str) -> float | Int64:
    return Int64(text[: -len(_INT64_MARK)]) if text.endswith(_INT64_MARK) else float(text)


class StorageEncoder(json.JSONEncoder):
    """neosqlite's JSON encoder with every BSON type the wire can carry."""

    def default(self, o: Any) -> Any:
        tagged = _tag(o)
        return super().default(o) if tagged is None else tagged

    def iterencode(self, o: Any, _one_shot: bool = False) -> Iterator[str]:
        """The standard (C) encoder, or, for a value holding an Int64 to mark, the standard
        library's Python encoder writing ints with `_int_token`."""
        if not _holds_marked_int64(o):
            return super().iterencode(o, _one_shot)
        encode_text = json.encoder.encode_basestring_ascii if self.ensure_ascii else json.encoder.encode_basestring
        iterencode = json.encoder._make_iterencode(  # type: ignore[attr-defined]
            {} if self.check_circular else None,
            self.default,
            encode_text,
            self.indent,
            _float_token,
            self.key_separator,
            self.item_separator,
            self.sort_keys,
            self.skipkeys,
            _one_shot,
            _intstr=_int_token,
        )
        return iterencode(o, 0)  # type: ignore[no-any-return]

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
    kwargs["parse_float"] = _parse_float
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
