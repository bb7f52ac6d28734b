"""The export formats: one declaration per format — its name, file extensions and writer — used
by the export, the command line (`--format`, detection by extension) and, later, the web.
The same names and extensions as the import formats, so any export can be imported back.

A new format is a writer (`write(documents)` per batch, then `close()`) and one
`formats.register(ExportFormat(...))` here."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from bson import json_util
from bson.binary import UuidRepresentation
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import IllegalCharacterError

from bulkadmin.core.documents import get_path
from bulkadmin.core.exceptions import AlreadyRegistered
from bulkadmin.operations.exports.plan import Column, ExportError, ExportPlan
from bulkadmin.operations.exports.values import TEXT, plain_json, spreadsheet, text

# UUIDs as the client stores them (binary subtype 4, `core.mongo.CLIENT_OPTIONS`).
CANONICAL_JSON = json_util.CANONICAL_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)

# csv.writer writes them as `values.text` would (and text starting with a letter or digit needs no guard)
WRITTEN_AS_IS = frozenset({int, float, type(None)})
STDOUT_FORMAT = "csv"  # standard output has no name to tell its format by
SHEET_TITLE_LENGTH = 31  # Excel's limit
Document = dict[str, Any]


@dataclass(frozen=True)
class WriteOptions:
    """How a file is written: canonical Extended JSON (JSON formats), the worksheet's name (XLSX)."""

    extended_json: bool = False
    sheet: str = "export"


class Writer(Protocol):
    """What every format's writer offers: documents a batch at a time, then the end of the file."""

    def write(self, documents: list[Document]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ExportFormat:
    """One file format an export can write; `tabular` formats have a header row and one column
    per field (sub-documents spread over dotted columns), the others one object per document.
    `options` names the write options that apply; giving another one is an error."""

    name: str
    label: str
    extensions: tuple[str, ...]
    open: Callable[[IO[bytes], ExportPlan, WriteOptions], Writer]
    tabular: bool = True
    options: frozenset[str] = frozenset()


class FormatRegistry:
    """The export formats by name, like `admin.site` for collections."""

    def __init__(self) -> None:
        self._formats: dict[str, ExportFormat] = {}

    def register(self, fmt: ExportFormat) -> ExportFormat:
        if fmt.name in self._formats:
            raise AlreadyRegistered(f"The export format {fmt.name!r} is already registered.")
        self._formats[fmt.name] = fmt
        return fmt

    def __iter__(self) -> Iterator[ExportFormat]:
        return iter(self._formats.values())

    def names(self) -> list[str]:
        return list(self._formats)

    def detect(self, name: str, forced: str | None = None) -> ExportFormat:
        """The format `forced` (`--format`), else the one of the file name's extension (CSV for
        standard output); `ExportError` naming the option when there is none."""
        known = ", ".join(self._formats)
        if forced:
            if forced not in self._formats:
                raise ExportError(f"Unknown format {forced!r}; use one of {known}.", option="format")
            return self._formats[forced]
        if name == "-":
            return self._formats[STDOUT_FORMAT]
        suffix = Path(name).suffix.lower()
        for fmt in self:
            if suffix in fmt.extensions:
                return fmt
        raise ExportError(
            f"Cannot tell the format of {name!r} from its extension; choose one of {known}.", option="format"
        )


_MISSING: Any = object()
_JSON = json.JSONEncoder(default=plain_json, ensure_ascii=False)


def _getter(column: Column, missing: Any = None) -> Callable[[Document], Any]:
    """What reads the column's value from a stored document (`missing` when it has none)."""
    if len(column.stored) == 1:
        key = column.stored[0]
        return lambda document: document.get(key, missing)
    path = ".".join(column.stored)
    return lambda document: get_path(document, path, missing)


class DelimitedWriter:
    """CSV / TSV: a header of model paths, then one row of text cells per document."""

    def __init__(self, stream: IO[bytes], plan: ExportPlan, delimiter: str) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=False)
        self.writer = csv.writer(self.text, delimiter=delimiter, lineterminator="\r\n")
        self.writer.writerow([column.name for column in plan.columns])
        self.heads = [column.stored[0] for column in plan.columns]
        self.nested = [(at, column.stored[1:]) for at, column in enumerate(plan.columns) if len(column.stored) > 1]

    def write(self, documents: list[Document]) -> None:
        cells, other, native, heads, nested = TEXT.get, text, WRITTEN_AS_IS, self.heads, self.nested
        rows = []
        for document in documents:
            values: list[Any] = list(map(document.get, heads))
            for at, rest in nested:  # a sub-document's fields: its top-level value, then the rest of the path
                values[at] = _dig(values[at], rest)
            rows.append(
                [
                    v if (t := type(v)) in native or (t is str and v[:1].isalnum()) else (cells(t) or other)(v)
                    for v in values
                ]
            )
        self.writer.writerows(rows)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


def _dig(value: Any, rest: tuple[str, ...]) -> Any:
    for part in rest:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def open_delimited(delimiter: str) -> Callable[[IO[bytes], ExportPlan, WriteOptions], Writer]:
    def open_writer(stream: IO[bytes], plan: ExportPlan, options: WriteOptions) -> Writer:
        return DelimitedWriter(stream, plan, delimiter)

    return open_writer


class JsonWriter:
    """A JSON array (`lines=False`) or one object per line (NDJSON), keyed by model field names;
    with `extended_json`, each document as stored, in canonical Extended JSON."""

    def __init__(self, stream: IO[bytes], plan: ExportPlan, options: WriteOptions, *, lines: bool) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n", write_through=False)
        self.lines, self.extended = lines, options.extended_json
        self.fields = [(column.name.split("."), _getter(column, _MISSING)) for column in plan.fields]
        flat = all("." not in column.name and len(column.stored) == 1 for column in plan.fields)
        self.top_level = [(column.name, column.stored[0]) for column in plan.fields] if flat else None
        self.first = True
        if not lines:
            self.text.write("[")

    def _encode(self, document: Document) -> str:
        if self.extended:
            return json_util.dumps(document, json_options=CANONICAL_JSON, ensure_ascii=False)
        if self.top_level is not None:  # every field a top-level one: one pass, no path to follow
            missing = _MISSING
            pairs = self.top_level
            return _JSON.encode({name: v for name, key in pairs if (v := document.get(key, missing)) is not missing})
        item: Document = {}
        for parts, get in self.fields:
            value = get(document)
            if value is _MISSING:  # a stored null is written as null, a missing field left out
                continue
            target = item
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
        return _JSON.encode(item)

    def write(self, documents: list[Document]) -> None:
        encoded = [self._encode(document) for document in documents]
        if not encoded:
            return
        if self.lines:
            self.text.write("\n".join(encoded) + "\n")
            return
        self.text.write(("\n" if self.first else ",\n") + ",\n".join(encoded))
        self.first = False

    def close(self) -> None:
        if not self.lines:
            self.text.write("]\n" if self.first else "\n]\n")
        self.text.flush()
        self.text.detach()


def open_json(stream: IO[bytes], plan: ExportPlan, options: WriteOptions) -> Writer:
    return JsonWriter(stream, plan, options, lines=False)


def open_ndjson(stream: IO[bytes], plan: ExportPlan, options: WriteOptions) -> Writer:
    return JsonWriter(stream, plan, options, lines=True)


def holdable(text: str) -> bool:
    """Whether a worksheet holds `text` exactly: XML has no control characters, and reads a
    carriage return as a line feed."""
    return "\r" not in text and not ILLEGAL_CHARACTERS_RE.search(text)


class XlsxWriter:
    """One worksheet written with openpyxl's write-only mode (rows go to a temporary file as they
    come, memory stays flat): numbers and booleans typed, other values as `values.text`."""

    def __init__(self, stream: IO[bytes], plan: ExportPlan, options: WriteOptions) -> None:
        self.stream = stream
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(options.sheet[:SHEET_TITLE_LENGTH] or "export")
        self.columns = plan.columns
        self.getters = [_getter(column) for column in plan.columns]
        self.sheet.append([column.name for column in plan.columns])
        self.rows = 0

    def write(self, documents: list[Document]) -> None:
        append, getters = self.sheet.append, self.getters
        for document in documents:
            try:
                append([spreadsheet(get(document)) for get in getters])
            except IllegalCharacterError:
                self.sheet.close()  # ends the sheet's temporary file; the workbook is not saved
                raise self._refusal(document) from None
            self.rows += 1

    def _refusal(self, document: Document) -> ExportError:
        """The error naming the document (its number in the export, its id when exported) and the field whose
        text a worksheet cannot hold."""
        values = [(column.name, get(document)) for column, get in zip(self.columns, self.getters, strict=True)]
        field = next((name for name, value in values if isinstance(value, str) and not holdable(value)), None)
        number = f"#{self.rows + 1} of the export"
        where = f"document {document['_id']} ({number})" if "_id" in document else f"document {number}"
        return ExportError(
            f"{where}: {field or 'a field'} holds a control character or carriage return, "
            "which XLSX cannot hold; export it as CSV or JSON.",
            field=field,
        )

    def close(self) -> None:
        self.book.save(self.stream)


formats = FormatRegistry()
formats.register(ExportFormat(name="csv", label="CSV", extensions=(".csv",), open=open_delimited(",")))
formats.register(ExportFormat(name="tsv", label="TSV", extensions=(".tsv", ".tab"), open=open_delimited("\t")))
formats.register(
    ExportFormat(
        name="json",
        label="JSON",
        extensions=(".json",),
        open=open_json,
        tabular=False,
        options=frozenset({"extended_json"}),
    )
)
formats.register(
    ExportFormat(
        name="ndjson",
        label="NDJSON",
        extensions=(".ndjson", ".jsonl"),
        open=open_ndjson,
        tabular=False,
        options=frozenset({"extended_json"}),
    )
)
formats.register(ExportFormat(name="xlsx", label="XLSX", extensions=(".xlsx",), open=XlsxWriter))
