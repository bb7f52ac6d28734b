"""The fields of a collection model as the pages show them: dotted paths and type labels."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from bulkadmin.core.documents import MongoModel, unwrap_annotated


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


def columns(model: type[MongoModel]) -> list[tuple[str, str]]:
    """(field name, stored key) of the top-level fields, for the browser's columns."""
    return [(name, info.alias or name) for name, info in model.model_fields.items()]


def text_fields(model: type[MongoModel]) -> list[str]:
    """Top-level fields holding plain text, searched by the browser."""
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
    annotation = unwrap_annotated(annotation)
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    return annotation is str or str in options or any(unwrap_annotated(arg) is str for arg in options)


def _choices(annotation: Any) -> list[Any]:
    annotation = unwrap_annotated(annotation)
    if annotation is bool:
        return [True, False]
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            return list(typing.get_args(arg))
    return []
