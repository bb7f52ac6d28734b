"""What an export reads and writes: its filter, fields, sort and limit checked against the model
(model field names, as everywhere), and the columns of a tabular file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel

from bulkadmin.core.documents import MongoModel, field_annotation, storage_path, unwrap_annotated
from bulkadmin.core.exceptions import BulkAdminError, InvalidSpec
from bulkadmin.core.safety import translate_filter
from bulkadmin.core.storable import loads_json


class ExportError(BulkAdminError):
    """An export cannot run or was stopped (bad option, a value a format cannot hold, a slow read);
    `option` names the option at fault, `field` the field."""

    def __init__(self, message: str, *, option: str | None = None, field: str | None = None) -> None:
        self.option = option
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Column:
    """One exported field: its model path (the header) and its stored key path."""

    name: str
    stored: tuple[str, ...]


@dataclass(frozen=True)
class ExportPlan:
    """The checked query and the fields of an export; `columns` are the dotted leaves a tabular
    file gets (sub-documents spread over `profile.bio`, `profile.avatar_url`), `fields` what
    JSON gets (sub-documents whole)."""

    query: dict[str, Any]
    sort: tuple[tuple[str, int], ...]
    limit: int | None
    fields: tuple[Column, ...]
    columns: tuple[Column, ...]

    every_field: bool = True  # no --fields: whole documents are read (a projection costs the server)

    @property
    def projection(self) -> dict[str, int] | None:
        if self.every_field:
            return None
        # Whole top-level fields: the embedded server answers a dotted projection with flat keys.
        projection = {column.stored[0]: 1 for column in self.fields}
        if "_id" not in projection:
            projection["_id"] = 0
        return projection


def plan_export(
    model: type[MongoModel],
    *,
    filter: Mapping[str, Any] | str | None = None,
    fields: Sequence[str] | str | None = None,
    sort: Sequence[str] | str | None = None,
    limit: int | None = None,
) -> ExportPlan:
    """Check the options of an export of `model`; `ExportError` names the option at fault."""
    if limit is not None and limit < 1:
        raise ExportError(f"{limit} is not a positive number of documents.", option="limit")
    chosen = _fields(model, fields)
    columns = tuple(leaf for column in chosen for leaf in _leaves(model, column))
    every = not _names(fields)
    return ExportPlan(_query(model, filter), _sort(model, sort), limit, chosen, columns, every_field=every)


def _query(model: type[MongoModel], spec: Mapping[str, Any] | str | None) -> dict[str, Any]:
    if spec is None or spec == "":
        return {}
    if isinstance(spec, str):
        try:
            spec = loads_json(spec)
        except (InvalidSpec, ValueError) as error:
            raise ExportError(f"not a JSON object: {getattr(error, 'msg', error)}.", option="filter") from None
    try:
        return translate_filter(model, spec)  # type: ignore[arg-type]
    except InvalidSpec as error:
        raise ExportError(str(error), option="filter", field=error.field) from None


def _names(value: Sequence[str] | str | None) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return [item.strip() for item in items if item.strip()]


def _fields(model: type[MongoModel], fields: Sequence[str] | str | None) -> tuple[Column, ...]:
    names = _names(fields) or list(model.model_fields)
    columns: list[Column] = []
    for name in names:
        try:
            stored = storage_path(model, name)
        except InvalidSpec:
            valid = ", ".join(model.model_fields)
            raise ExportError(f"{name!r} is not a field of {model.__name__} ({valid}).", option="fields") from None
        if name in {column.name for column in columns}:
            raise ExportError(f"{name!r} is named twice.", option="fields")
        columns.append(Column(name, tuple(stored.split("."))))
    return tuple(columns)


def _leaves(model: type[MongoModel], column: Column) -> list[Column]:
    """A field as tabular columns: a sub-document of a declared model as one column per sub-field."""
    sub = _sub_model(field_annotation(model, column.name))
    if sub is None:
        return [column]
    leaves: list[Column] = []
    for name, info in sub.model_fields.items():
        leaves.extend(_leaves(model, Column(f"{column.name}.{name}", (*column.stored, info.alias or name))))
    return leaves


def _sub_model(annotation: Any) -> type[BaseModel] | None:
    """The declared model of a sub-document field (`Profile | None`), None for other fields."""
    for kind in (unwrap_annotated(annotation), *get_args(unwrap_annotated(annotation))):
        kind = unwrap_annotated(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
    return None


def _sort(model: type[MongoModel], sort: Sequence[str] | str | None) -> tuple[tuple[str, int], ...]:
    """`-last_login,name` as stored keys and directions, ended by `_id` so the order is total."""
    keys: list[tuple[str, int]] = []
    for item in _names(sort):
        direction, name = (-1, item[1:]) if item.startswith("-") else (1, item.removeprefix("+"))
        try:
            keys.append((storage_path(model, name), direction))
        except InvalidSpec:
            raise ExportError(f"{name!r} is not a field of {model.__name__}.", option="sort") from None
    if "_id" not in {key for key, _ in keys}:
        keys.append(("_id", 1))
    return tuple(keys)
