"""A job's filter and update as the composer's rows, to re-run it: the inverse of
`forms.filter_from` / `forms.update_from` for the shapes rows write (None for any other)."""

from __future__ import annotations

import re
from typing import Any

from bulkadmin.web.forms import UPDATE_OPERATORS

Row = dict[str, str]
COMPARISONS = ("ne", "gt", "gte", "lt", "lte")


def filter_rows(spec: dict[str, Any]) -> list[Row] | None:
    """The filter rows that write `spec`, or None when rows cannot say it."""
    conditions = spec["$and"] if set(spec) == {"$and"} and isinstance(spec["$and"], list) else [spec] if spec else []
    rows = [_row(one) if isinstance(one, dict) and len(one) == 1 else None for one in conditions]
    return None if any(row is None for row in rows) else [row for row in rows if row is not None]


def update_rows(spec: dict[str, Any]) -> list[Row] | None:
    """The update rows that write `spec`, or None when rows cannot say it."""
    rows = []
    for operator, fields in spec.items():
        if operator not in UPDATE_OPERATORS or not isinstance(fields, dict):
            return None
        for field, value in fields.items():
            if not _scalar(value):
                return None
            shown = "" if operator in ("$unset", "$currentDate") else _text(value)
            rows.append({"operator": operator, "field": field, "value": shown})
    return rows


def _row(condition: dict[str, Any]) -> Row | None:
    ((field, value),) = condition.items()
    if field.startswith("$"):
        return None
    if _scalar(value):
        return {"field": field, "operator": "eq", "value": _text(value)}
    if not isinstance(value, dict):
        return None
    return _operator_row(field, value)


def _operator_row(field: str, value: dict[str, Any]) -> Row | None:
    operator = next(iter(value), "")
    argument = value.get(operator)
    if len(value) == 1 and operator.lstrip("$") in COMPARISONS and _scalar(argument):
        return {"field": field, "operator": operator.lstrip("$"), "value": _text(argument)}
    if len(value) == 1 and operator in ("$in", "$nin") and isinstance(argument, list) and all(map(_scalar, argument)):
        return {"field": field, "operator": operator.lstrip("$"), "value": ", ".join(map(_text, argument))}
    if len(value) == 1 and operator == "$exists" and isinstance(argument, bool):
        return {"field": field, "operator": "exists", "value": _text(argument)}
    if value.keys() == {"$regex", "$options"} and value["$options"] == "i" and isinstance(value["$regex"], str):
        text = re.sub(r"\\(.)", r"\1", value["$regex"])
        if re.escape(text) == value["$regex"]:
            return {"field": field, "operator": "contains", "value": text}
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
