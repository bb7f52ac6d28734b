"""The BSON type byte of every value of a raw document, read from its bytes: what the server
stored, before pymongo decodes anything (0x10 is a 32-bit integer, 0x12 a 64-bit one)."""

from __future__ import annotations

import struct
from typing import Any

INT32, INT64, DOUBLE, DECIMAL128 = 0x10, 0x12, 0x01, 0x13
_FIXED = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0}
_LENGTH_PREFIXED = {0x02: 4, 0x05: 5, 0x0D: 4, 0x0E: 4}  # int32 length + the bytes before the data


def type_codes(raw: bytes) -> dict[str, Any]:
    """`{field: type byte}` of a BSON document; a sub-document as its own dict, an array as a list."""
    return dict(_elements(raw, 0))


def _elements(raw: bytes, start: int) -> list[tuple[str, Any]]:
    end = start + struct.unpack_from("<i", raw, start)[0] - 1
    position, found = start + 4, []
    while position < end:
        code = raw[position]
        name_end = raw.index(b"\x00", position + 1)
        name = raw[position + 1 : name_end].decode()
        position = name_end + 1
        if code in (0x03, 0x04):
            children = _elements(raw, position)
            found.append((name, dict(children) if code == 0x03 else [value for _, value in children]))
            position += struct.unpack_from("<i", raw, position)[0]
        elif code in _LENGTH_PREFIXED:
            found.append((name, code))
            position += _LENGTH_PREFIXED[code] + struct.unpack_from("<i", raw, position)[0]
        elif code in _FIXED:
            found.append((name, code))
            position += _FIXED[code]
        else:
            raise ValueError(f"BSON type {code:#x} of {name!r} is not read by this helper")
    return found
