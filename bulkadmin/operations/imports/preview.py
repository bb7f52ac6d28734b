"""A preview of an import: how the file would be read, where each column goes, and whether the
first rows are valid. Uses the import's own readers, shaping and validation; writes nothing."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from bulkadmin.bulk.validation import RowInvalid, validate_document, validate_partial
from bulkadmin.core.documents import MongoModel, storage_path
from bulkadmin.core.exceptions import BulkAdminError, InvalidSpec
from bulkadmin.operations.imports.errors import cell_text
from bulkadmin.operations.imports.formats import formats, open_reader
from bulkadmin.operations.imports.readers import ReadOptions
from bulkadmin.operations.imports.shaping import RowProblem, Shaper
from bulkadmin.operations.imports.sources import check_encoding, open_source

PREVIEW_ROWS = 50
PREVIEW_COLUMNS = 100  # columns shown (and mapped by hand) on a preview; the others match by name
CELL_CHARS = 200  # the most of a cell a preview row (or a scan's record of it) keeps


@dataclass(frozen=True)
class ColumnPlan:
    """One column of the file and the field it goes to ('' = left out)."""

    header: str
    target: str
    known: bool  # the header names a field of the model


@dataclass(frozen=True)
class PreviewRow:
    """One of the first rows: where it is, what was read, and what is wrong with it."""

    number: int
    where: str
    cells: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.messages


@dataclass(frozen=True)
class ImportPreview:
    """How a file would be imported: format, encoding, delimiter (or sheet, and the workbook's
    sheets), mapping, first rows, problems."""

    format: str
    encoding: str
    delimiter: str | None
    columns: tuple[ColumnPlan, ...] = ()
    rows: tuple[PreviewRow, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)
    sheet: str | None = None
    sheets: tuple[str, ...] = ()

    @property
    def shown_columns(self) -> tuple[ColumnPlan, ...]:
        """The columns a preview page shows, the first `PREVIEW_COLUMNS`."""
        return self.columns[:PREVIEW_COLUMNS]

    @property
    def hidden_columns(self) -> int:
        """How many columns are not shown (they go to the fields of their names)."""
        return max(0, len(self.columns) - PREVIEW_COLUMNS)

    @property
    def valid_rows(self) -> int:
        return sum(row.ok for row in self.rows)

    @property
    def invalid_rows(self) -> int:
        return len(self.rows) - self.valid_rows


def preview_file(
    *,
    model: type[MongoModel],
    path: str | os.PathLike[str],
    rows: int = PREVIEW_ROWS,
    **read: Any,
) -> ImportPreview:
    """Read the first `rows` rows of the file at `path` as an import would, and check each one.
    `read` are `checked_rows`' options (mode, key fields, format, encoding, delimiter, mapping...)."""
    with checked_rows(model=model, path=path, **read) as (plan, checked):
        shown: list[PreviewRow] = []
        problems = list(plan.problems)
        try:
            for row in checked:
                if row.number > rows:
                    break
                shown.append(row)
        except BulkAdminError as error:
            problems.append(str(error))
        return replace(plan, rows=tuple(shown), problems=tuple(problems))


@contextlib.contextmanager
def checked_rows(
    *,
    model: type[MongoModel],
    path: str | os.PathLike[str],
    mode: str = "insert",
    key_fields: tuple[str, ...] = (),
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    mapping: dict[str, str] | None = None,
    ignore_blanks: bool = False,
    sheet: str | None = None,
    date_format: str | None = None,
    extended_json: bool = False,
) -> Iterator[tuple[ImportPreview, Iterator[PreviewRow]]]:
    """The file at `path` as an import would read it: how (format, columns, problems found before
    the first row) and its rows one by one, each checked, streamed. `mapping` (header -> field, ''
    to leave out) overrides the automatic match by name. Nothing is written."""
    source = open_source(path)
    try:
        fmt = formats.detect(source.name, format or None, source.sample)
        encoding = check_encoding(encoding) if encoding else ""
        chosen = ReadOptions(encoding, delimiter or "", sheet or "", extended_json=bool(extended_json))
        reader = open_reader(fmt, source, chosen)
        used = reader.settings
        plan = ImportPreview(
            fmt.name, used.encoding, used.delimiter or None, sheet=used.sheet or None, sheets=reader.sheets
        )
        options: dict[str, Any] = {
            "mode": mode,
            "key_fields": key_fields,
            "ignore_blanks": ignore_blanks,
            "date_format": date_format or None,
        }
        validate = validate_partial if mode in ("merge", "delete") else validate_document
        if not fmt.tabular:
            shaper = Shaper(model, mapping=dict(mapping or {}), **options)
            yield plan, (_checked_row(record, shaper.shape_object, validate, model) for record in reader)
            return
        header = reader.header or []
        plan = replace(plan, columns=tuple(column_plan(model, header, mapping or {})))
        shaper = Shaper(model, mapping={c.header: c.target for c in plan.columns if c.target != c.header}, **options)
        try:
            shaper.plan_columns(header, reader.header_line)
        except BulkAdminError as error:
            yield replace(plan, problems=(str(error),)), iter(())
            return
        yield plan, (_checked_row(record, shaper.shape_cells, validate, model) for record in reader)
    finally:
        source.close()


def column_plan(model: type[MongoModel], header: list[str], mapping: dict[str, str]) -> list[ColumnPlan]:
    """Each column with its target: the mapping's choice, else the field of the same name, else
    left out (an unknown column is flagged, not imported)."""
    plans = []
    for name in header:
        known = _is_field(model, name)
        target = mapping.get(name, name if known else "")
        plans.append(ColumnPlan(name, target, known))
    return plans


def _is_field(model: type[MongoModel], name: str) -> bool:
    try:
        storage_path(model, name)
    except InvalidSpec:
        return False
    return True


def _checked_row(record: Any, shape: Any, validate: Any, model: type[MongoModel]) -> PreviewRow:
    raw = record.raw
    cells = tuple(_short(str(cell)) for cell in raw[:PREVIEW_COLUMNS]) if isinstance(raw, list) else (_short(raw),)
    if record.problem is not None:
        return PreviewRow(record.number, record.where, cells, (record.problem,))
    try:
        validate(model, shape(record.raw))
    except RowProblem as problem:
        return PreviewRow(record.number, record.where, cells, (str(problem),))
    except RowInvalid as invalid:
        messages = tuple(f"{e.field}: {e.message}" if e.field else e.message for e in invalid.field_errors)
        return PreviewRow(record.number, record.where, cells, messages)
    return PreviewRow(record.number, record.where, cells, ())


def _short(value: Any, limit: int = CELL_CHARS) -> str:
    text = cell_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
