"""The form of one document, generated from its collection's model: a typed input per top-level
field (numbers, dates, choices for Literal / Enum / bool, JSON for sub-documents and lists).

The form only turns text into values; the MODEL validates them, and a value it refuses is an
error on the field it names, so nothing invalid is written. On an edit, a field the user did not
change keeps its stored value exactly (type included), and keys the model does not know are kept.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from bson import ObjectId, Regex, json_util
from bson.errors import BSONError
from bson.json_util import CANONICAL_JSON_OPTIONS, RELAXED_JSON_OPTIONS
from django import forms
from django.conf import settings
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from bulkadmin.core.documents import MongoModel, unwrap_annotated
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.messages import readable
from bulkadmin.core.registry import admin_of
from bulkadmin.core.storable import loads_json

TEXT, INTEGER, NUMBER, DATETIME, DATE, CHOICE, JSON = "text", "integer", "number", "datetime", "date", "choice", "json"
NONE = ""  # a blank input of an optional field: null
_OMIT = object()  # a blank input on an add: the model's default applies
# What Extended JSON text the driver cannot read raises (an ObjectId of bad hex, Decimal128 of words).
FORM_MARGIN_BYTES = 64 * 1024  # the form's other fields: token, CSRF, field names
_UNREADABLE = (ValueError, TypeError, ArithmeticError, BSONError)
_KIND_OF_TYPE: dict[Any, str] = {
    str: TEXT,
    ObjectId: TEXT,
    int: INTEGER,
    float: NUMBER,
    dt.datetime: DATETIME,
    dt.date: DATE,
}


@dataclass(frozen=True)
class FieldShape:
    """How the form asks for one top-level model field: its input `kind`, its stored `key`,
    whether a blank means null (`optional`), and the values of a choice."""

    name: str
    key: str
    kind: str
    optional: bool
    choices: tuple[Any, ...] = ()
    compound: bool = False  # JSON of a sub-document or a list (a text area), not of a union of plain values


def field_shape(name: str, info: FieldInfo) -> FieldShape:
    """The input of a model field: a plain type (or the plain type of `X | None`) gets its typed
    input, a bool, Literal or Enum a choice, anything else (sub-documents, lists, unions) JSON."""
    annotation = unwrap_annotated(info.annotation)
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    optional = type(None) in options
    kept = [unwrap_annotated(arg) for arg in options if arg is not type(None)]
    base = (kept[0] if len(kept) == 1 else None) if options else annotation
    key = info.alias or name
    if base is bool:
        return FieldShape(name, key, CHOICE, optional, (True, False))
    if typing.get_origin(base) is typing.Literal:
        return FieldShape(name, key, CHOICE, optional, typing.get_args(base))
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return FieldShape(name, key, CHOICE, optional, tuple(member.value for member in base))
    kind = _KIND_OF_TYPE.get(base, JSON)
    return FieldShape(name, key, kind, optional, compound=kind == JSON and _compound(base))


def _compound(base: Any) -> bool:
    """Whether a type holds documents or lists (a model, a dict, a list, a set or a tuple)."""
    origin = typing.get_origin(base) or base
    return isinstance(origin, type) and (issubclass(origin, BaseModel | dict | list | set | tuple))


def choice_text(value: Any) -> str:
    """A choice's value as its input sends it (`true`, `gold`, `3`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def shown_value(shape: FieldShape, value: Any) -> str:
    """A stored value as its input shows it: dates in UTC, JSON as relaxed Extended JSON."""
    if value is None:
        return "null" if shape.kind == JSON and not shape.optional else NONE
    if shape.kind == CHOICE:
        return choice_text(value)
    if shape.kind == DATETIME and isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC) if value.tzinfo else value
        return utc.replace(tzinfo=None).isoformat(timespec="milliseconds")
    if shape.kind == DATE and isinstance(value, dt.date):
        return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    if shape.kind == JSON:
        return json_util.dumps(value, json_options=RELAXED_JSON_OPTIONS, ensure_ascii=False)
    return str(value)


def loaded_document(text: str) -> dict[str, Any]:
    """The document as the user loaded it, from the form's hidden canonical Extended JSON;
    `InvalidSpec` when it is not a document."""
    try:
        loads_json(text)
        document = json_util.loads(text, json_options=CANONICAL_JSON_OPTIONS)
    except _UNREADABLE as error:
        raise InvalidSpec(f"The form's loaded document is not readable: {error}") from None
    if not isinstance(document, dict) or "_id" not in document:
        raise InvalidSpec("The form's loaded document has no _id.")
    if not _plain_id(document["_id"]):
        raise InvalidSpec("The form's loaded document has an _id no document can have.")
    return document


def _plain_id(value: Any) -> bool:
    """Whether an `_id` is a value, not a query: no list, pattern or `$` operator document."""
    if isinstance(value, Mapping):
        return not any(str(key).startswith("$") for key in value)
    return not isinstance(value, list | Regex | re.Pattern)


def loaded_text(document: Mapping[str, Any]) -> str:
    """A stored document as the form carries it: canonical Extended JSON, types kept."""
    return json_util.dumps(document, json_options=CANONICAL_JSON_OPTIONS)


def too_large_to_edit(text: str) -> str | None:
    """Why a document carried as `text` cannot be edited in the browser, or None: its form
    posts it twice (as loaded, and as fields), and Django refuses a POST over
    `DATA_UPLOAD_MAX_MEMORY_SIZE` with a bare 400."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = len(text.encode())
    if limit is None or 2 * size + FORM_MARGIN_BYTES <= limit:
        return None
    return (
        f"This document is {size / 1e6:.1f} MB as Extended JSON, too large to edit in the browser: its form "
        f"would post {2 * size / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB a request may carry "
        "(DATA_UPLOAD_MAX_MEMORY_SIZE). Change it with Bulk update, or export it and import it in merge mode."
    )


class DocumentForm(forms.Form):
    """One document of `model`: to add (`loaded` None) or as the user `loaded` it, to save.
    Read-only fields of the collection's admin are shown disabled on an edit, left to their
    defaults on an add. `document()` is the stored form to write, or None with the errors."""

    def __init__(self, *args: Any, model: type[MongoModel], loaded: dict[str, Any] | None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "doc")
        super().__init__(*args, **kwargs)
        self.model, self.loaded = model, loaded
        readonly = set(admin_of(model).readonly_fields)
        self.shapes: dict[str, FieldShape] = {}
        for name, info in model.model_fields.items():
            if name == "id" or (loaded is None and name in readonly and not info.is_required()):
                continue
            shape = field_shape(name, info)
            self.shapes[name] = shape
            self.fields[name] = _form_field(shape, info, disabled=loaded is not None and name in readonly)
            self.initial[name] = self._initial(shape, info)
            if shape.kind == CHOICE:
                _offer_stored(cast(forms.ChoiceField, self.fields[name]), self.initial[name])
            if shape.kind == TEXT and any(mark in self.initial[name] for mark in "\r\n"):
                self.fields[name].widget = forms.Textarea(attrs={"rows": 3, "cols": 60})  # an input drops line breaks

    def _initial(self, shape: FieldShape, info: FieldInfo) -> str:
        if self.loaded is not None:
            return shown_value(shape, self.loaded[shape.key]) if shape.key in self.loaded else NONE
        if info.is_required() or info.default_factory is not None:
            return NONE
        return shown_value(shape, _stored(info.default))

    def document(self) -> dict[str, Any] | None:
        """The document to store (stored keys), validated by the model; None with the form's
        errors when a value is not readable or the model refuses it."""
        given = self._given()
        if given is None:
            return None
        data = {key: value for key, value in (self.loaded or {}).items() if key in self._keys()}
        data.update(given)
        try:
            stored = self.model.model_validate(data).to_document()
        except ValidationError as error:
            self._model_errors(error)
            return None
        except InvalidSpec as error:
            self.add_error(self._field_of(error.field), str(error))
            return None
        if self.loaded is None:
            return stored
        return {**self.loaded, **{key: stored[key] for key in given}}

    def add_operation_error(self, error: InvalidSpec) -> None:
        """Show an error of the write (a duplicate key) next to the field it names."""
        self.add_error(self._field_of(error.field), str(error))

    def _given(self) -> dict[str, Any] | None:
        """The values typed (an edit: the fields changed), by stored key; None after errors."""
        names = [name for name in self.shapes if self.loaded is None or name in self.changed_data]
        given: dict[str, Any] = {}
        for name in names:
            shape = self.shapes[name]
            try:
                value = _read(shape, self.cleaned_data.get(name) or "", adding=self.loaded is None)
            except InvalidSpec as error:
                self.add_error(name, str(error))
                continue
            if value is not _OMIT:
                given[shape.key] = value
        return None if self.errors else given

    def _model_errors(self, error: ValidationError) -> None:
        for problem in error.errors():
            location = [str(part) for part in problem["loc"]]
            field = self._field_of(location[0] if location else None)
            where = ".".join(location)
            message = readable(problem)
            self.add_error(field, f"{where}: {message}" if field is None or len(location) > 1 else message)

    def _field_of(self, key: str | None) -> str | None:
        """The form field of a model field or stored key (None: an error of the whole form)."""
        top = (key or "").split(".")[0]
        for name, shape in self.shapes.items():
            if top in (name, shape.key):
                return name
        return None

    def _keys(self) -> set[str]:
        return {info.alias or name for name, info in self.model.model_fields.items()}


def _form_field(shape: FieldShape, info: FieldInfo, *, disabled: bool) -> forms.Field:
    """A Django field that reads text for the model: every field is optional here, the model
    says what is required."""
    label = info.title or shape.name
    help_text = "Read-only in this collection's admin." if disabled else info.description or _help(shape)
    if shape.kind == CHOICE:
        blank = [(NONE, "(none)")] if shape.optional else []
        choices = blank + [(choice_text(value), choice_text(value)) for value in shape.choices]
        return forms.ChoiceField(choices=choices, label=label, required=False, disabled=disabled, help_text=help_text)
    return TextField(
        strip=False, widget=_widget(shape), label=label, required=False, disabled=disabled, help_text=help_text
    )


def _offer_stored(field: forms.ChoiceField, shown: str) -> None:
    """Offer a stored value the model no longer allows (a legacy `status`) as the selected choice,
    so a browser does not silently send the first choice instead; the model refuses it on save."""
    choices = cast(list[tuple[str, str]], field.choices)
    if shown != NONE and shown not in {value for value, _ in choices}:
        field.choices = [*choices, (shown, f"{shown} (stored; not one of the model's choices)")]


class TextField(forms.CharField):
    """Text as a browser sends it back: a text area's line breaks arrive as CR LF, so a value is
    unchanged when it differs from the one shown only there, and typed text keeps LF breaks."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        return _lines(initial or "") != _lines(data or "")

    def to_python(self, value: Any) -> str:
        text = str(super().to_python(value))
        return _lines(text) if isinstance(self.widget, forms.Textarea) else text


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n")


def _widget(shape: FieldShape) -> forms.Widget:
    if shape.kind == INTEGER:
        return forms.NumberInput(attrs={"step": "1"})
    if shape.kind == NUMBER:
        return forms.NumberInput(attrs={"step": "any"})
    if shape.kind == DATETIME:
        return forms.TextInput(attrs={"type": "datetime-local", "step": "0.001"})
    if shape.kind == DATE:
        return forms.TextInput(attrs={"type": "date"})
    if shape.kind == JSON and shape.compound:
        return forms.Textarea(attrs={"rows": 3, "cols": 60, "class": "bulk-json-input", "spellcheck": "false"})
    if shape.kind == JSON:
        return forms.TextInput(attrs={"size": 40, "class": "bulk-json-input", "spellcheck": "false"})
    return forms.TextInput(attrs={"size": 40})


def _help(shape: FieldShape) -> str:
    blank = " Leave empty for null." if shape.optional and shape.kind != CHOICE else ""
    if shape.kind == DATETIME:
        return f"Date and time in UTC.{blank}"
    if shape.kind == JSON and shape.compound:
        return f"JSON (Extended JSON for dates and ids).{blank}"
    if shape.kind == JSON:
        return f'JSON: a number, "text" in quotes, true or false.{blank}'
    return blank.strip()


def _read(shape: FieldShape, text: str, *, adding: bool) -> Any:
    """The value of one input for the model to validate: blank is null (optional fields), the
    model's default (an add) or blank text; JSON is parsed (`InvalidSpec` when it is not JSON)."""
    if (text.strip() == NONE and shape.kind != TEXT) or text == NONE:
        if adding:
            return _OMIT
        return None if shape.optional or shape.kind != TEXT else text
    if shape.kind == CHOICE:
        return {choice_text(value): value for value in shape.choices}.get(text, text)
    if shape.kind == JSON:
        return _json(text)
    return text


def _json(text: str) -> Any:
    try:
        loads_json(text)
        return json_util.loads(text, json_options=RELAXED_JSON_OPTIONS)
    except InvalidSpec as error:
        raise InvalidSpec(f"Not accepted JSON: {error}") from None
    except _UNREADABLE as error:
        raise InvalidSpec(f"Not valid JSON: {error}") from None


def _stored(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value
