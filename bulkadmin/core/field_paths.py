"""Resolve a dotted field path (`profile.bio`, `tags.0`, `tags.$[]`) against a model's types.

A path may go into a sub-model by field name, into a list by index (or, in updates, by the
positional `$` / `$[]`), and anywhere inside a free-form field (`dict`, `Any`). Anything else
(`name.x`, `age.x`, `tags.x`, `tags.$[x]`) is refused with `InvalidSpec` naming the path.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bulkadmin.core.documents import unwrap_annotated
from bulkadmin.core.exceptions import InvalidSpec

MODEL, LIST, MAP, FREE, INT, FLOAT, DATE, BOOL, OTHER = (
    "model",
    "list",
    "map",
    "free",
    "int",
    "float",
    "date",
    "bool",
    "other",
)
POSITIONAL = frozenset({"$", "$[]"})
_ARRAY_FILTER = re.compile(r"^\$\[\w*\]$")
_LISTS = (list, set, tuple, frozenset)
_UNIONS = (Union, types.UnionType)


@dataclass(frozen=True)
class Target:
    """What a path points at: its stored form and the type found there (None = free-form)."""

    path: str
    stored: str
    annotation: Any
    info: FieldInfo | None = None
    element: bool = False
    positional: str | None = None

    @property
    def kinds(self) -> frozenset[str]:
        return kinds(self.annotation)


def resolve(root: type[BaseModel], path: Any, *, update: bool = False) -> Target:
    """The `Target` of `path` written with field names; `update` allows positional parts.
    Remembered per model and path: a partial row's fields are resolved once per import, not
    once per row."""
    if not isinstance(path, str) or not path:
        raise InvalidSpec(f"A field path must be a non-empty string, got {path!r}.", field=str(path))
    return _resolved(root, path, update)


@functools.lru_cache(maxsize=4096)
def _resolved(root: type[BaseModel], path: str, update: bool) -> Target:
    annotation: Any = root
    stored: list[str] = []
    info: FieldInfo | None = None
    element, positional = False, None
    for number, part in enumerate(path.split(".")):
        where = ".".join(path.split(".")[:number]) or path
        if not part:
            raise InvalidSpec(f"Field path {path!r} has an empty part.", field=path)
        kind = single_kind(annotation)
        if part.startswith("$") and not (kind == LIST and part in POSITIONAL):
            raise _bad_part(path, where, part, kind, update)
        if kind == MODEL:
            info, key = _model_field(model_of(annotation), part, path)
            annotation, element = with_constraints(info), False
            stored.append(key)
        elif kind == LIST:
            annotation, info, element = item_type(annotation), None, True
            if part in POSITIONAL:
                if not update:
                    raise _bad_part(path, where, part, kind, update)
                positional = positional or part
            elif not part.isdigit():
                if single_kind(annotation) == MODEL and not update:
                    return _implicit(root, path, stored, annotation, part)
                raise InvalidSpec(
                    f"{path!r}: {where!r} is a list; address an element by index ({where}.0).", field=path
                )
            stored.append(part)
        elif kind in (MAP, FREE):
            annotation = map_value_type(annotation) if kind == MAP else None
            info, element = None, False
            stored.append(part)
        else:
            raise InvalidSpec(
                f"{path!r}: {where!r} is a {describe(annotation)} field; it has no sub-field {part!r}.", field=path
            )
    return Target(path, ".".join(stored), annotation, info, element, positional)


def _implicit(root: type[BaseModel], path: str, stored: list[str], item: Any, part: str) -> Target:
    """A filter path through a list of sub-documents (`items.name` matches any element's name)."""
    rest = path.split(".")[len(stored) :]
    inner = resolve(model_of(item), ".".join(rest))
    return Target(path, ".".join([*stored, inner.stored]), inner.annotation, inner.info, inner.element)


def _bad_part(path: str, where: str, part: str, kind: str, update: bool) -> InvalidSpec:
    if _ARRAY_FILTER.match(part) and part != "$[]":
        reason = "array filters ($[name]) are not supported; use $[] or an index"
    elif part in POSITIONAL and kind == LIST:
        reason = f"the positional {part} is for updates only"
    elif part in POSITIONAL:
        reason = f"the positional {part} only goes into a list field"
    else:
        reason = "a field name cannot start with $"
    return InvalidSpec(f"{path!r}: {reason}.", field=path, operator=part)


def _model_field(model: type[BaseModel], name: str, path: str) -> tuple[FieldInfo, str]:
    info = model.model_fields.get(name)
    if info is not None:
        return info, info.alias or name
    for candidate in model.model_fields.values():
        if candidate.alias == name:
            return candidate, name
    raise InvalidSpec(f"Unknown field {path!r} for {model.__name__}.", field=path)


def with_constraints(info: FieldInfo) -> Any:
    """The field's annotation with its constraints (ge, pattern, ...) and validators kept."""
    if not info.metadata:
        return info.annotation
    return Annotated[(info.annotation, *info.metadata)]


def members(annotation: Any) -> list[Any]:
    """The alternatives of a type other than None (`int | None` -> [int])."""
    annotation = unwrap_annotated(annotation)
    if get_origin(annotation) in _UNIONS:
        found: list[Any] = []
        for arg in get_args(annotation):
            found.extend(members(arg))
        return found
    return [] if annotation is type(None) else [annotation]


def kind_of(member: Any) -> str:
    """The kind of one non-union type."""
    member = unwrap_annotated(member)
    origin = get_origin(member) or member
    if member in (None, Any, object) or (origin in (dict, Mapping) and not get_args(member)):
        return FREE
    if origin in (dict, Mapping):
        return MAP
    if origin in _LISTS:
        return LIST
    if origin is Literal:
        return OTHER
    if isinstance(member, type):
        return _class_kind(member)
    return OTHER


def _class_kind(member: type) -> str:
    if issubclass(member, BaseModel):
        return MODEL
    if issubclass(member, bool):
        return BOOL
    if issubclass(member, Enum):
        return OTHER
    if issubclass(member, int):
        return INT
    if issubclass(member, (float, Decimal)):
        return FLOAT
    if issubclass(member, (dt.datetime, dt.date)):
        return DATE
    return OTHER


def kinds(annotation: Any) -> frozenset[str]:
    """The kinds of every alternative of `annotation` (None -> {free}); remembered per
    annotation, since a filter on a list of values asks once per value."""
    try:
        return _cached_kinds(annotation)
    except TypeError:  # an annotation that can't be hashed
        return _kinds(annotation)


def _kinds(annotation: Any) -> frozenset[str]:
    if annotation is None:
        return frozenset({FREE})
    return frozenset(kind_of(member) for member in members(annotation)) or frozenset({OTHER})


_cached_kinds = functools.lru_cache(maxsize=1024)(_kinds)


def single_kind(annotation: Any) -> str:
    """The one kind of `annotation`; free-form wins; a mix of kinds is `other`."""
    found = kinds(annotation)
    if FREE in found:
        return FREE
    return next(iter(found)) if len(found) == 1 else OTHER


def model_of(annotation: Any) -> type[BaseModel]:
    model: type[BaseModel] = next(unwrap_annotated(m) for m in members(annotation) if kind_of(m) == MODEL)
    return model


def item_type(annotation: Any) -> Any:
    """The element type of a list field (None when free-form)."""
    for member in members(annotation):
        if kind_of(member) == LIST:
            args = get_args(unwrap_annotated(member))
            return None if not args or args[0] is Any else args[0]
    return None


def map_value_type(annotation: Any) -> Any:
    for member in members(annotation):
        if kind_of(member) == MAP:
            args = get_args(unwrap_annotated(member))
            return None if len(args) < 2 or args[1] is Any else args[1]
    return None


def describe(annotation: Any) -> str:
    """A short name of a type for messages (`str`, `int | None`, `list[str]`)."""
    return " | ".join(_name(unwrap_annotated(member)) for member in members(annotation)) or "null"


def _name(member: Any) -> str:
    if get_origin(member) is Literal:
        return "choice"
    if get_origin(member) is not None:
        return str(member).replace("typing.", "")
    return getattr(member, "__name__", str(member))
