"""The fields of a collection model as the pages show them: dotted paths and type labels."""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from typing import Any

from django.forms.utils import pretty_name
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bulkadmin.core.documents import MongoModel, field_annotation, get_path, storage_path, unwrap_annotated
from bulkadmin.core.registry import admin_of

DEFAULT_COLUMNS = 8


def field_paths(model: type[MongoModel]) -> list[tuple[str, str]]:
    """(path, label) for each field, sub-document fields as `profile.bio`."""
    paths = []
    for name, info in model.model_fields.items():
        sub_model = _sub_model(info.annotation)
        if sub_model is None:
            paths.append((name, f"{name} ({type_label(info.annotation)})"))
            continue
        for sub_name, sub_info in sub_model.model_fields.items():
            paths.append((f"{name}.{sub_name}", f"{name}.{sub_name} ({type_label(sub_info.annotation)})"))
    return paths


def field_title(model: type[MongoModel], name: str) -> str:
    """A field as a page labels it: its `title`, else its name made readable (`is_active` -> "Is active")."""
    info = model.model_fields.get(name)
    return (info.title if info is not None else None) or pretty_name(name)


def columns(model: type[MongoModel]) -> list[tuple[str, str]]:
    """(field name, stored key) of the top-level fields, for the browser's columns."""
    return [(name, info.alias or name) for name, info in model.model_fields.items()]


def default_columns(model: type[MongoModel]) -> list[str]:
    """The columns shown until a user picks others: the admin's `list_display`, else `id` and the first fields."""
    top = [name for name, _ in columns(model)]
    chosen = [name for name in admin_of(model).list_display if name in top]
    return chosen or top[:DEFAULT_COLUMNS]


def search_fields(model: type[MongoModel]) -> list[str]:
    """The text fields the browser's search reads: the admin's `search_fields`, else every text field."""
    every = text_fields(model)
    chosen = admin_of(model).search_fields
    return every if chosen is None else [name for name in chosen if name in every]


def filter_fields(model: type[MongoModel]) -> dict[str, list[Any]]:
    """The browser's filters with their values: the admin's `list_filter`, else every choice field."""
    every = choice_fields(model)
    chosen = admin_of(model).list_filter
    return every if chosen is None else {name: every[name] for name in chosen if name in every}


def indexed_fields(model: type[MongoModel]) -> list[str]:
    """Top-level fields that lead an index (the key fields' unique index, then each declared one):
    an order or a range on them is read from the index."""
    firsts = [model.key_fields[0]] if model.key_fields else []
    firsts += [index.keys[0][0] for index in model.indexes]
    return list(dict.fromkeys(name for name in firsts if "." not in name and name in model.model_fields))


def sortable_fields(model: type[MongoModel]) -> list[str]:
    """Top-level fields a listing may be sorted by: `id` and the first key of each index."""
    return ["id", *indexed_fields(model)]


def lower_case_fields(model: type[MongoModel]) -> list[str]:
    """Top-level text fields whose type stores them lower-cased (`StringConstraints(to_lower=True)`,
    as `Email` in `project.collections` declares)."""
    return [name for name in text_fields(model) if _lower_cased(model.model_fields[name])]


def label_fields(model: type[MongoModel]) -> tuple[str, ...]:
    """The fields that name a document for people: its admin's `label_fields`, else the key fields."""
    return admin_of(model).labels()


def document_label(model: type[MongoModel], document: dict[str, Any]) -> str:
    """A readable name of a stored document (`Ada Lovelace · ada@example.com`), else its `_id`."""
    values = [get_path(document, storage_path(model, name)) for name in label_fields(model)]
    shown = [str(value) for value in values if value not in (None, "")]
    return " · ".join(shown) if shown else str(document.get("_id", "—"))


def value_kinds(model: type[MongoModel]) -> dict[str, dict[str, Any]]:
    """For each field path with a fixed set of values or a date type, how the composer asks for
    its value: `{"kind": "choice", "choices": [...]}`, `{"kind": "datetime"}` or `{"kind": "date"}`."""
    kinds = {}
    for path, _ in field_paths(model):
        annotation = field_annotation(model, path)
        choices = _choices(annotation)
        if choices:
            kinds[path] = {"kind": "choice", "choices": [_choice_text(value) for value in choices]}
        elif _is_type(annotation, dt.datetime):
            kinds[path] = {"kind": "datetime"}
        elif _is_type(annotation, dt.date):
            kinds[path] = {"kind": "date"}
    return kinds


def text_fields(model: type[MongoModel]) -> list[str]:
    """Top-level fields holding plain text (`str`, `str | None`), searched by the browser."""
    return [name for name, info in model.model_fields.items() if _is_text(info.annotation)]


def choice_fields(model: type[MongoModel]) -> dict[str, list[Any]]:
    """Top-level fields with a few known values (Literal choices, booleans), for filters."""
    choices = {}
    for name, info in model.model_fields.items():
        values = _choices(info.annotation)
        if values:
            choices[name] = values
    return choices


def type_label(annotation: Any) -> str:
    """A short readable name of a type (`int | None`, `str`, `'gold' | 'silver'`)."""
    annotation = unwrap_annotated(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_label(arg) for arg in args)
    if origin in (list, set, tuple) and args:
        return f"{origin.__name__}[{type_label(args[0])}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _sub_model(annotation: Any) -> type[BaseModel] | None:
    annotation = unwrap_annotated(annotation)
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_text(annotation: Any) -> bool:
    """`str` or `str | None` (not `int | str`: a text search of numbers finds nothing)."""
    annotation = unwrap_annotated(annotation)
    if annotation is str:
        return True
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    kept = [unwrap_annotated(arg) for arg in options if arg is not type(None)]
    return kept == [str]


def _lower_cased(info: FieldInfo) -> bool:
    """Whether the field's constraints (on it, or on the `str` of a `str | None`) lower-case it."""
    constraints = list(info.metadata)
    for option in typing.get_args(info.annotation):
        constraints += getattr(option, "__metadata__", ())
    return any(getattr(constraint, "to_lower", None) for constraint in constraints)


def _choices(annotation: Any) -> list[Any]:
    annotation = unwrap_annotated(annotation)
    if annotation is bool:
        return [True, False]
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    for arg in typing.get_args(annotation):
        inner = _choices(arg) if unwrap_annotated(arg) is not bool else []
        if inner:
            return inner
    return []


def _choice_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _is_type(annotation: Any, wanted: type) -> bool:
    """Whether `annotation` is `wanted` or an optional / annotated `wanted` (a datetime is not a date here)."""
    annotation = unwrap_annotated(annotation)
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    return annotation is wanted or any(unwrap_annotated(arg) is wanted for arg in options)
