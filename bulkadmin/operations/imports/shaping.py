"""Turning rows read from a file into documents for the model.

Headers (or JSON keys) are renamed by `--map`, dotted ones build nested documents
(`profile.bio`), empty cells become the field's default or are left out, never "" (the empty
cells of a sub-document's columns do not create it: all empty, a null sub-document stays null),
the formula guard an export wrote is removed (`operations.cells`: `'=1+1` -> `=1+1`, `'` -> ""), and cells are
prepared for the model's field types: dates with `--date-format`, lists from `a, b` or a JSON
array, sub-documents from a JSON object. Numbers, booleans (`true/false/yes/no/1/0`) and ISO 8601
dates are then coerced by the model's own (pydantic) validation.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from bulkadmin.core.documents import MongoModel, field_annotation, get_path, storage_path, unwrap_annotated
from bulkadmin.core.exceptions import BulkAdminError, InvalidSpec
from bulkadmin.core.storable import loads_json
from bulkadmin.operations.cells import GUARD, unguard
from bulkadmin.operations.imports.sources import ImportFileError

Converter = Callable[[Any], Any]
_LEAVE_OUT = object()


class RowProblem(BulkAdminError):
    """A row's value cannot be prepared for its field."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


def parse_mapping(items: Iterable[str] | dict[str, str] | None) -> dict[str, str]:
    """`--map HEADER=FIELD` options as a dict; an empty FIELD drops the column."""
    if not items:
        return {}
    if isinstance(items, dict):
        return dict(items)
    mapping: dict[str, str] = {}
    for item in items:
        header, sep, field = item.partition("=")
        if not sep or not header.strip():
            raise ImportFileError(f"{item!r}: write HEADER=FIELD (or HEADER= to leave a column out).", option="mapping")
        if header.strip() in mapping:
            raise ImportFileError(f"The mapping names {header.strip()!r} twice.", option="mapping")
        mapping[header.strip()] = field.strip()
    return mapping


def field_name(model: type[MongoModel], key: str) -> str:
    """The model's field name for a top-level key that may be an alias (`_id` -> `id`)."""
    if key in model.model_fields:
        return key
    for name, info in model.model_fields.items():
        if info.alias == key:
            return name
    return key


def _types_in(annotation: Any) -> list[Any]:
    """The concrete types an annotation allows (Optional / Union / Annotated unwrapped)."""
    annotation = unwrap_annotated(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return [found for arg in get_args(annotation) for found in _types_in(arg)]
    return [annotation]


def converter_for(model: type[MongoModel], path: str, date_format: str | None, *, cells: bool) -> Converter | None:
    """What prepares a value for the field at `path` before the model validates it; `cells` is
    True for CSV text (lists and sub-documents are parsed), False for JSON values."""
    annotation = field_annotation(model, path)
    if annotation is None:
        return None
    allowed = [kind for kind in _types_in(annotation) if kind is not type(None)]
    origins = {get_origin(kind) or kind for kind in allowed}
    if date_format and origins & {dt.datetime, dt.date}:
        return _date_converter(path, date_format, as_date=dt.datetime not in origins)
    if not cells:
        return None
    if origins & {list, set, tuple, frozenset} and str not in origins:
        return _list_converter(path)
    if any(kind is dict or (isinstance(kind, type) and issubclass(kind, BaseModel)) for kind in origins):
        return _object_converter(path)
    return None


def _date_converter(path: str, date_format: str, *, as_date: bool) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        try:
            parsed = dt.datetime.strptime(text, date_format)
            return parsed.date() if as_date else parsed
        except ValueError:
            pass
        try:
            dt.datetime.fromisoformat(text)
            return text  # ISO 8601 is still accepted; the model parses it
        except ValueError:
            raise RowProblem(path, f"{value!r} matches neither the date format {date_format!r} nor ISO 8601") from None

    return convert


def _list_converter(path: str) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return loads_json(text)
            except InvalidSpec as error:
                raise RowProblem(path, str(error)) from None
            except ValueError as error:
                raise RowProblem(path, f"invalid JSON list: {getattr(error, 'msg', error)}") from None
        return [item.strip() for item in text.split(",") if item.strip()]

    return convert


def _object_converter(path: str) -> Converter:
    def convert(value: Any) -> Any:
        if isinstance(value, str) and value.strip().startswith("{"):
            try:
                return loads_json(value)
            except InvalidSpec as error:
                raise RowProblem(path, str(error)) from None
            except ValueError as error:
                raise RowProblem(path, f"invalid JSON object: {getattr(error, 'msg', error)}") from None
        return value

    return convert


def blank_value(model: type[MongoModel], path: str) -> Callable[[], Any] | object:
    """What an empty cell becomes: a callable giving the field's default, or `_LEAVE_OUT` when
    the field is required (so validation reports it missing) or unknown."""
    annotation: Any = model
    info = None
    for part in path.split("."):
        sub = _model_in(annotation)
        if sub is None:
            return _LEAVE_OUT
        info = sub.model_fields.get(part) or next((i for i in sub.model_fields.values() if i.alias == part), None)
        if info is None:
            return _LEAVE_OUT
        annotation = info.annotation
    if info is None or info.is_required():
        return _LEAVE_OUT
    return lambda: info.get_default(call_default_factory=True)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for kind in _types_in(annotation):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
    return None


@dataclass(frozen=True)
class Column:
    """One CSV column: where its cells go and how they are prepared."""

    position: int
    header: str
    parts: tuple[str, ...]  # the target path, split on dots
    convert: Converter | None
    blank: Callable[[], Any] | object


class Shaper:
    """Documents from rows, for one model, mode and set of options."""

    def __init__(
        self,
        model: type[MongoModel],
        *,
        mode: str,
        key_fields: tuple[str, ...],
        mapping: dict[str, str],
        ignore_blanks: bool,
        date_format: str | None,
    ) -> None:
        self.model, self.mode, self.key_fields = model, mode, key_fields
        self.mapping, self.ignore_blanks, self.date_format = mapping, ignore_blanks, date_format
        self.columns: list[Column] = []
        self.width = 0
        self._plain: list[str] | None = None  # field per position ("" = left out) when no column needs work
        self._every_column = False  # whether `_plain` leaves no column out
        self._json_plan: dict[str, tuple[str | None, tuple[str, ...], Converter | None]] = {}

    # CSV -------------------------------------------------------------------------------------
    def plan_columns(self, header: list[str], line: int | None) -> None:
        """Check the header against the model and the options; raise `ImportFileError` naming
        every problem (unknown fields, clashes, missing required or key fields)."""
        self.width = len(header)
        named = set(header)
        unknown_maps = [name for name in self.mapping if name not in named]
        if unknown_maps:
            raise ImportFileError(
                f"The mapping names no column: {', '.join(map(repr, unknown_maps))} (columns: {', '.join(header)}).",
                option="mapping",
            )
        problems: list[str] = []
        targets: dict[str, str] = {}  # target path -> its column
        above: dict[str, str] = {}  # each path holding a target -> one column under it
        keys = {field_name(self.model, key) for key in self.key_fields}
        for position, name in enumerate(header):
            target = self.mapping.get(name, name)
            if not target:
                continue
            top = field_name(self.model, target.split(".")[0])
            if self.mode == "delete" and top not in keys:
                continue
            try:
                storage_path(self.model, target)
            except InvalidSpec:
                shown = f"{name!r}" if target == name else f"{name!r} (mapped to {target!r})"
                problems.append(f"column {shown} is not a field of {self.model.__name__}")
                continue
            normalised = ".".join([top, *target.split(".")[1:]])
            problems += [
                f"columns {other!r} and {name!r} both set {normalised!r}"
                for other in _clashes(normalised, targets, above)
            ]
            targets[normalised] = name
            for end in range(len(target.split(".")) - 1, 0, -1):
                above.setdefault(".".join(normalised.split(".")[:end]), name)
            blank = _LEAVE_OUT
            if self.mode == "merge" and not self.ignore_blanks:
                blank = blank_value(self.model, normalised)
            convert = converter_for(self.model, normalised, self.date_format, cells=True)
            self.columns.append(Column(position, name, tuple(normalised.split(".")), convert, blank))
        tops = {target.split(".")[0] for target in targets}
        if self.mode in ("insert", "upsert"):
            required = [n for n, info in self.model.model_fields.items() if info.is_required() and n not in tops]
            if required:
                problems.append(f"no column for required field(s) {', '.join(required)}")
        if self.mode != "insert":
            missing = [key for key in keys if key not in tops]
            if missing:
                problems.append(f"no column for key field(s) {', '.join(missing)}")
        plain = all(len(c.parts) == 1 and c.convert is None and c.blank is _LEAVE_OUT for c in self.columns)
        if plain:
            names = dict.fromkeys(range(self.width), "")
            names.update({column.position: column.parts[0] for column in self.columns})
            self._plain = list(names.values())
            self._every_column = "" not in self._plain
        if problems:
            where = f"line {line}: " if line else ""
            valid = ", ".join(self.model.model_fields)
            raise ImportFileError(f"{where}{'; '.join(problems)}. Fields of {self.model.__name__}: {valid}.")

    def shape_cells(self, cells: list[str]) -> dict[str, Any]:
        """The document for one CSV row (its width already checked)."""
        try:
            guarded = GUARD in "".join(cells)  # a cell may carry the formula guard an export wrote
        except TypeError:  # typed XLSX cells
            guarded = True
        if self._plain is not None and not guarded:  # every column goes as it is to a top-level field
            return self._plain_document(cells)
        document: dict[str, Any] = {}
        defaults: list[Column] = []
        for column in self.columns:
            value: Any = cells[column.position]
            if value == "":
                if column.blank is _LEAVE_OUT:
                    continue
                if len(column.parts) > 1:
                    defaults.append(column)  # given only if the sub-document gets a value
                    continue
                value = column.blank()  # type: ignore[operator]
            else:
                if guarded and type(value) is str:
                    value = unguard(value)
                if column.convert is not None:
                    value = column.convert(value)
            if len(column.parts) == 1:
                document[column.parts[0]] = value
            else:
                _put(document, column.parts, value)
        for column in defaults:
            if isinstance(get_path(document, ".".join(column.parts[:-1])), dict):
                _put(document, column.parts, column.blank())  # type: ignore[operator]
        return document

    def shape_plain_rows(self, rows: list[list[str]]) -> list[dict[str, Any]] | None:
        """The documents of a batch of CSV rows (their widths checked) when every column goes as
        it is to a top-level field, the formula guard looked for once in the whole batch; None
        when columns need work (`shape_cells`, row by row, may reject a row)."""
        names = self._plain
        if names is None:
            return None
        try:
            guarded = GUARD in "".join(chain.from_iterable(rows))
        except TypeError:  # typed XLSX cells
            guarded = True
        if guarded:
            return list(map(self.shape_cells, rows))
        if self._every_column and self._all_filled(rows):
            return list(map(dict, map(zip, repeat(names), rows)))
        return list(map(self._plain_document, rows))

    def _all_filled(self, rows: list[list[str]]) -> bool:
        """Whether every row is as wide as the header and has no empty cell."""
        return set(map(len, rows)) <= {self.width} and not any(map(operator.contains, rows, repeat("")))

    def _plain_document(self, cells: list[str]) -> dict[str, Any]:
        """The document of a row with no formula guard under the plain plan: its cells by field,
        empty cells and columns left out omitted."""
        names = self._plain or ()
        if "" in cells:
            return {key: value for key, value in zip(names, cells, strict=True) if key and value != ""}
        if self._every_column:
            return dict(zip(names, cells, strict=True))
        return {key: value for key, value in zip(names, cells, strict=True) if key}

    # JSON ------------------------------------------------------------------------------------
    def shape_object(self, item: dict[str, Any]) -> dict[str, Any]:
        """The document for one JSON object: keys renamed, dotted keys nested, dates prepared."""
        document: dict[str, Any] = {}
        keys = {field_name(self.model, key) for key in self.key_fields}
        for key, value in item.items():
            plan = self._json_plan.get(key)
            if plan is None:
                plan = self._json_plan[key] = self._plan_key(key)
            target, parts, convert = plan
            if target is None or (self.mode == "delete" and parts[0] not in keys):
                continue
            if convert is not None:
                value = convert(value)
            if len(parts) == 1:
                if parts[0] in document:
                    raise RowProblem(target, "set twice")
                document[parts[0]] = value
            else:
                _put(document, parts, value, target)
        return document

    def _plan_key(self, key: str) -> tuple[str | None, tuple[str, ...], Converter | None]:
        if not _encodable(key):
            shown = key.encode("utf-8", "backslashreplace").decode()
            raise RowProblem(shown, "the field name is not valid Unicode (a lone surrogate such as \\udc80)")
        target = self.mapping.get(key, key)
        if not target:
            return None, (), None
        try:
            storage_path(self.model, target)
            convert = converter_for(self.model, target, self.date_format, cells=False)
        except InvalidSpec:
            convert = None  # left for validation to reject, naming the field
        head, *rest = target.split(".")
        return target, (field_name(self.model, head), *rest), convert  # a stored key (`_id`) as its field


def _clashes(path: str, targets: dict[str, str], above: dict[str, str]) -> list[str]:
    """The columns already setting `path`, a path holding it, or a path inside it (dict lookups:
    a header of thousands of columns is checked in linear time)."""
    parts = path.split(".")
    holding = [".".join(parts[:end]) for end in range(1, len(parts) + 1)]
    found = [targets[other] for other in holding if other in targets]
    return found + ([above[path]] if path in above else [])


def _encodable(text: str) -> bool:
    return text.isascii() or not _LONE_SURROGATE.search(text)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _put(document: dict[str, Any], parts: tuple[str, ...], value: Any, target: str | None = None) -> None:
    for part in parts[:-1]:
        document = document.setdefault(part, {})
        if not isinstance(document, dict):
            raise RowProblem(target or ".".join(parts), f"{part!r} is not an object")
    if parts[-1] in document:
        raise RowProblem(target or ".".join(parts), "set twice")
    document[parts[-1]] = value
