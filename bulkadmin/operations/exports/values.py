"""Stored values as the importer reads them back: text cells for CSV / TSV, typed cells for XLSX,
JSON values. Null is an empty cell; "" is `'` (see `operations.cells`); dates are ISO 8601 with
their offset and milliseconds; ObjectIds are their hex text; lists and free-form objects are JSON."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bson import Binary, Decimal128, ObjectId
from openpyxl.utils.exceptions import IllegalCharacterError

from bulkadmin.operations.cells import text_cell

EXACT_IN_A_SPREADSHEET = 10**15  # spreadsheets keep 15 significant digits: larger integers go as text


def iso(value: dt.datetime) -> str:
    """A date as ISO 8601 with its offset (UTC when stored without one), to the millisecond."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.isoformat(timespec="milliseconds")


def plain_json(value: Any) -> Any:
    """`json.dumps`' `default`: the BSON values JSON has no type for, as the importer reads them."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, (ObjectId, Decimal128, Decimal)):
        return str(value)
    if isinstance(value, (bytes, Binary)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_JSON_CELL = json.JSONEncoder(default=plain_json, ensure_ascii=False, separators=(", ", ": "))


def json_cell(value: Any) -> str:
    """A list or free-form object as the JSON text of one cell."""
    return _JSON_CELL.encode(value) if value else ("[]" if isinstance(value, list) else "{}")


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _none_text(value: None) -> str:
    return ""


TEXT: dict[type, Callable[[Any], str]] = {
    str: text_cell,
    int: str,
    float: repr,
    bool: _bool_text,
    type(None): _none_text,
    dt.datetime: iso,
    ObjectId: str,
    list: json_cell,
    dict: json_cell,
}


def text(value: Any) -> str:
    """A value as a CSV / TSV cell."""
    convert = TEXT.get(type(value))
    return convert(value) if convert is not None else text_cell(_other_text(value))


def _other_text(value: Any) -> str:
    plain = plain_json(value)
    return plain if isinstance(plain, str) else json_cell(plain)


def spreadsheet(value: Any) -> Any:
    """A value as an XLSX cell: numbers and booleans typed (numbers only when the spreadsheet
    keeps them exactly), everything else as `text`."""
    kind = type(value)
    if kind is bool or value is None:
        return value
    if kind is int:
        return value if -EXACT_IN_A_SPREADSHEET < value < EXACT_IN_A_SPREADSHEET else text_cell(str(value))
    if kind is float:
        return value if float(f"{value:.15g}") == value else text_cell(repr(value))
    cell = text(value)
    if "\r" in cell:
        raise IllegalCharacterError(cell)  # read back as a line feed: refused, not changed
    return cell
