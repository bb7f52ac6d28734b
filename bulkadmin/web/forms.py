"""Forms of the compose pages: filter rows, update rows, JSON alternatives, typed confirmation.

Rows become filter / update documents written with model field names; `bulkadmin.core.safety`
then checks them (allow-listed operators, known fields, values typed by the model).
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from django import forms

from bulkadmin.core.batch_sizes import UPDATE_BATCH_SIZE
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.storable import MAX_DEPTH, loads_json

FILTER_OPERATORS = [
    ("eq", "equals"),
    ("ne", "does not equal"),
    ("gt", ">"),
    ("gte", "≥"),
    ("lt", "<"),
    ("lte", "≤"),
    ("in", "is one of (comma-separated)"),
    ("nin", "is none of (comma-separated)"),
    ("contains", "contains (text)"),
    ("exists", "exists (true / false)"),
]
UPDATE_CHOICES = [  # in words, as the filter's operators are; the operator itself follows in brackets
    ("$set", "set to ($set)"),
    ("$unset", "remove the field ($unset)"),
    ("$inc", "increase by ($inc)"),
    ("$mul", "multiply by ($mul)"),
    ("$min", "lower to, if above ($min)"),
    ("$max", "raise to, if below ($max)"),
    ("$currentDate", "set to now ($currentDate)"),
    ("$push", "append to the list ($push)"),
    ("$pull", "remove from the list ($pull)"),
    ("$addToSet", "add to the list if absent ($addToSet)"),
]
UPDATE_OPERATORS = [operator for operator, _ in UPDATE_CHOICES]
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "1"}, {"false", "no", "0"}


def label_row(form: forms.Form, noun: str) -> None:
    """Name each control of a composer row for screen readers: "Field of condition 2"."""
    index = (form.prefix or "").rpartition("-")[2]
    row = f"{noun} {int(index) + 1}" if index.isdigit() else f"the new {noun}"
    for name, field in form.fields.items():
        field.widget.attrs["aria-label"] = f"{name.capitalize()} of {row}"


class FilterRowForm(forms.Form):
    """One condition: field, operator, value (typed later by the model)."""

    field = forms.ChoiceField(required=False)
    operator = forms.ChoiceField(choices=FILTER_OPERATORS, required=False)
    value = forms.CharField(required=False)

    def __init__(self, *args: Any, fields: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["field"]).choices = [("", "—"), *fields]
        label_row(self, "condition")


class UpdateRowForm(forms.Form):
    """One change: operator, field, value."""

    operator = forms.ChoiceField(choices=UPDATE_CHOICES, required=False)
    field = forms.ChoiceField(required=False)
    value = forms.CharField(required=False)

    def __init__(self, *args: Any, fields: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["field"]).choices = [
            ("", "—"),
            *[(path, label) for path, label in fields if path != "id"],
        ]
        label_row(self, "change")


MAX_ROWS = 200  # rows are added and removed on the page; the server takes any number up to this
FilterRows = forms.formset_factory(FilterRowForm, extra=3, max_num=MAX_ROWS, absolute_max=MAX_ROWS, validate_max=True)
UpdateRows = forms.formset_factory(UpdateRowForm, extra=3, max_num=MAX_ROWS, absolute_max=MAX_ROWS, validate_max=True)


class ComposeForm(forms.Form):
    """The JSON alternatives to the rows, the search carried from the browse page (ANDed with
    the filter), and the batch size."""

    filter_json = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))
    search = forms.CharField(required=False, widget=forms.TextInput(attrs={"size": 30}))
    update_json = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))
    batch_size = forms.IntegerField(min_value=1, max_value=10_000, initial=UPDATE_BATCH_SIZE)


def filter_from(rows: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The filter document of the filled rows, or of the JSON text (not both)."""
    conditions = [_condition(number, row) for number, row in enumerate(rows, 1) if row.get("field")]
    if text.strip():
        if conditions:
            raise InvalidSpec("Write the filter either with the rows or as JSON, not both.")
        return parse_json(text, "filter")
    if len(conditions) > 1:
        return {"$and": conditions}
    return conditions[0] if conditions else {}


def update_from(rows: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The update document of the filled rows, or of the JSON text (not both)."""
    filled = [(number, row) for number, row in enumerate(rows, 1) if row.get("field")]
    if text.strip():
        if filled:
            raise InvalidSpec("Write the update either with the rows or as JSON, not both.")
        return parse_json(text, "update")
    update: dict[str, dict[str, Any]] = {}
    for number, row in filled:
        operator, field = row.get("operator") or "$set", row["field"]
        if field in update.get(operator, {}):
            raise InvalidSpec(f"Update row {number}: {operator} on {field!r} is given twice.", field=field)
        update.setdefault(operator, {})[field] = _update_value(number, operator, field, row.get("value", ""))
    if not update:
        raise InvalidSpec("The update is empty: fill in at least one update row (or the JSON).")
    return update


def parse_json(text: str, what: str) -> dict[str, Any]:
    """A JSON object from the page, or `InvalidSpec` saying where the JSON is malformed or that
    it nests deeper than `MAX_DEPTH` levels (checked before it is parsed)."""
    try:
        value = loads_json(text)
    except InvalidSpec:
        raise InvalidSpec(
            f"The {what} JSON nests objects or arrays deeper than {MAX_DEPTH} levels (the limit, MongoDB's)."
        ) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InvalidSpec(f"The {what} JSON is not valid: {error.msg} ({where}).") from None
    if not isinstance(value, dict):
        raise InvalidSpec(f'The {what} JSON must be an object such as {{"status": "active"}}.')
    return value


def _condition(number: int, row: dict[str, Any]) -> dict[str, Any]:
    field, operator, value = row["field"], row.get("operator") or "eq", row.get("value", "")
    if operator == "eq":
        return {field: value}
    if operator in ("in", "nin"):
        return {field: {f"${operator}": [item.strip() for item in value.split(",") if item.strip()]}}
    if operator == "contains":
        return {field: {"$regex": re.escape(value), "$options": "i"}}
    if operator == "exists":
        return {field: {"$exists": _flag(number, field, value)}}
    return {field: {f"${operator}": value}}


def _update_value(number: int, operator: str, field: str, value: str) -> Any:
    if operator == "$unset":
        return ""
    if operator == "$currentDate":
        return True
    if operator in ("$inc", "$mul"):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            return float(value)
        except ValueError:
            raise InvalidSpec(
                f"Update row {number}: {operator} needs a number for {field!r}, got {value!r}.", field=field
            ) from None
    return value


def _flag(number: int, field: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise InvalidSpec(f"Filter row {number}: 'exists' needs true or false for {field!r}, got {value!r}.", field=field)
