"""An aggregation's `$skip` and `$limit` (which `count_documents` sends) and a find's `skip` and
`limit` checked as MongoDB checks them.

nx-27017 took `$skip: -1` as 0 and `$skip: 2.5` as 2, answered nothing for `$limit: 0`, refused
`$limit: 2.0` and `$skip: Decimal128("1")` (whole numbers MongoDB takes), and answered Python's
messages without codes. Here a stage's value must be a whole number (of any numeric type) that
64 bits hold, not negative, and a limit above 0: else the command fails with MongoDB's code and
message (5107200 for `$skip`, 5107201 for `$limit`, 15958 for a zero limit); a valid value goes
on as an int. A find's negative `skip` or `limit` fails with 51024.
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Callable
from typing import Any

from bson import Decimal128
from nx_27017.handler import NeoSQLiteHandler

BAD_STAGE_VALUE = {"$skip": 5107200, "$limit": 5107201}
LIMIT_NOT_POSITIVE = 15958
NEGATIVE_FIELD = 51024
_INT64_MIN, _INT64_BOUND = -(2**63), 2**63  # a whole number is in [min, bound)


class BadBound(Exception):
    """A `$skip` or `$limit` value MongoDB refuses; `code` is MongoDB's."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code

    def reply(self) -> dict[str, Any]:
        return {"ok": 0, "errmsg": str(self), "code": self.code, "codeName": f"Location{self.code}"}


def _shown(value: Any) -> str:
    """`value` as MongoDB writes it in these messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan.0"
    return str(value)


def _whole(value: Any) -> tuple[int | None, str]:
    """`value` as a 64-bit whole number, or None and why not (MongoDB's words)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal128):
        return None, "Expected a number in:"
    if isinstance(value, float):
        if math.isnan(value):
            return None, "Expected an integer, but found NaN in:"
        if not _INT64_MIN <= value < _INT64_BOUND:
            return None, "Cannot represent as a 64-bit integer:"
        return (int(value), "") if value.is_integer() else (None, "Expected an integer:")
    number = value.to_decimal() if isinstance(value, Decimal128) else decimal.Decimal(value)
    if not number.is_finite() or number != number.to_integral_value() or not _INT64_MIN <= number < _INT64_BOUND:
        return None, "Cannot represent as a 64-bit integer:"
    return int(number), ""


def stage_bound(stage: str, value: Any) -> int:
    """A `$skip` or `$limit` stage's value as an int; raises `BadBound` as MongoDB refuses it."""
    number, why = _whole(value)
    if number is not None and number < 0:
        number, why = None, "Expected a non-negative number in:"
    if number is None:
        raise BadBound(f"invalid argument to {stage} stage: {why} {stage}: {_shown(value)}", BAD_STAGE_VALUE[stage])
    if stage == "$limit" and number == 0:
        raise BadBound("the limit must be positive", LIMIT_NOT_POSITIVE)
    return number


def _checked_stage(stage: Any) -> Any:
    if isinstance(stage, dict) and len(stage) == 1:
        name = next(iter(stage))
        if name in BAD_STAGE_VALUE:
            return {name: stage_bound(name, stage[name])}
    return stage


def _checked_find(body: dict[str, Any]) -> None:
    """A find's `skip` and `limit`: a whole number as an int, a negative one refused."""
    for field in ("skip", "limit"):
        number, _ = _whole(body.get(field))
        if number is not None and number < 0:
            message = f"BSON field '{field}' value must be >= 0, actual value '{number}'"
            raise BadBound(message, NEGATIVE_FIELD)
        if number is not None:
            body[field] = number


def check(body: dict[str, Any]) -> None:
    """Check (and turn into ints) an aggregation's `$skip` and `$limit` stages and a find's
    `skip` and `limit`, in place; raises `BadBound`."""
    command = next(iter(body), None)
    if command == "aggregate" and isinstance(body.get("pipeline"), list):
        body["pipeline"] = [_checked_stage(stage) for stage in body["pipeline"]]
    elif command == "find":
        _checked_find(body)


def _checking(handle: Callable[..., Any]) -> Callable[..., Any]:
    def handle_command(self: NeoSQLiteHandler, msg: dict[str, Any]) -> Any:
        body = next((section for kind, section in msg.get("sections", ()) if kind == "body"), None)
        if isinstance(body, dict):
            try:
                check(body)
            except BadBound as error:
                return msg["request_id"], error.reply()
        return handle(self, msg)

    return handle_command


def install() -> None:
    """Check skips and limits before any other part of the server reads the command."""
    NeoSQLiteHandler.handle_command = _checking(NeoSQLiteHandler.handle_command)
