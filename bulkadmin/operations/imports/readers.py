"""Streaming readers: CSV / TSV, a JSON array (ijson) and NDJSON, yielding one `Record` per row.

Readers never hold more than the row at hand. A row they cannot make sense of (ragged, broken
JSON, undecodable bytes) is yielded with its `problem` set, so it is reported as a rejected row;
only a file that cannot be read at all raises `ImportFileError`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import ijson

from bulkadmin.operations.imports.sources import (
    ImportFileError,
    Source,
    decode_errors,
    decode_sample,
    detect_encoding,
    undecodable_at,
)

DELIMITERS = (",", ";", "\t", "|")  # sniffed in this order of preference
SNIFF_ROWS = 50
MAX_FIELD_SIZE = 16 * 1024 * 1024  # MongoDB's document size limit

_SURROGATES = re.compile("[\udc80-\udcff]")  # bytes that did not decode (surrogateescape)
_SURROGATES_OR_REPLACED = re.compile("[\udc80-\udcff\ufffd]")  # ... or were replaced (UTF-16/32)


def undecodable_pattern(encoding: str) -> re.Pattern[str]:
    return _SURROGATES_OR_REPLACED if decode_errors(encoding) == "replace" else _SURROGATES


@dataclass(slots=True)
class Record:
    """One row of the input.

    `number` is its 1-based position among the rows (blank lines are not rows); `line` the
    1-based line it starts on, header counted (None inside a JSON array, where `number` locates it);
    `raw` what was read (a list of cells, a line of text, or a JSON value)."""

    number: int
    line: int | None
    raw: Any
    problem: str | None = None

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line is not None else f"item {self.number}"


@dataclass(frozen=True)
class ReadOptions:
    """How a file is read: the encoding, delimiter and sheet, as chosen ('' = detect / default)
    or, on a reader's `settings`, as used."""

    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""

    def given(self) -> dict[str, str]:
        """The options that are set, by name."""
        return {name: value for name, value in asdict(self).items() if value}


def header_problems(header: list[str]) -> list[str]:
    """What is wrong with a header row: a column without a name, two columns with the same name."""
    problems = [f"column {position} has no name" for position, name in enumerate(header, start=1) if not name]
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name and name in seen:
            problems.append(f"columns {seen[name]} and {position} are both named {name!r}")
        seen.setdefault(name, position)
    return problems


def open_delimited(default_delimiter: str = "") -> Any:
    """The reader factory of a delimited text format: the encoding detected unless given, the
    delimiter given, else `default_delimiter`, else sniffed from the sample."""

    def open_reader(source: Source, options: ReadOptions) -> CsvReader:
        encoding = options.encoding or detect_encoding(source.sample, source.at_eof)
        delimiter = options.delimiter or default_delimiter
        if not delimiter:
            delimiter = sniff_delimiter(decode_sample(source.sample, encoding, source.at_eof))
        return CsvReader(source, encoding, delimiter)

    return open_reader


def open_json(source: Source, options: ReadOptions) -> JsonReader:
    return JsonReader(source, options.encoding or detect_encoding(source.sample, source.at_eof))


def open_ndjson(source: Source, options: ReadOptions) -> NdjsonReader:
    return NdjsonReader(source, options.encoding or detect_encoding(source.sample, source.at_eof))


def sniff_delimiter(text: str) -> str:
    """The delimiter among `, ; tab |` that splits the sample's rows into the most consistent
    number (> 1) of cells; `,` when none does."""
    best, best_score = ",", (False, 0.0, 0)
    for delimiter in DELIMITERS:
        counts: list[int] = []
        with contextlib.suppress(csv.Error):  # the sample may end inside a quoted field
            for cells in csv.reader(io.StringIO(text), delimiter=delimiter):
                if any(cell.strip() for cell in cells):
                    counts.append(len(cells))
                if len(counts) >= SNIFF_ROWS:
                    break
        if not counts:
            continue
        mode = max(set(counts), key=lambda n: (counts.count(n), n))
        score = (mode > 1, counts.count(mode) / len(counts), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class CsvReader:
    """CSV / TSV rows as lists of cells, after the header (trimmed, checked)."""

    sheets: tuple[str, ...] = ()

    def __init__(self, source: Source, encoding: str, delimiter: str) -> None:
        self.source, self.encoding, self.delimiter = source, encoding, delimiter
        self.settings = ReadOptions(encoding=encoding, delimiter=delimiter)
        self._undecodable = undecodable_pattern(encoding)
        self.text = io.TextIOWrapper(source.binary(), encoding=encoding, errors=decode_errors(encoding), newline="")
        csv.field_size_limit(MAX_FIELD_SIZE)
        self.reader = csv.reader(self.text, delimiter=delimiter, strict=False)
        self.header: list[str] | None = None
        self.header_line: int | None = None
        self._read_header()

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        """Non-blank rows (not every cell empty or spaces), each with the line it starts on."""
        reader = self.reader
        end = reader.line_num
        try:
            for cells in reader:
                start, end = end + 1, reader.line_num
                if "".join(cells).strip():
                    yield start, cells
        except csv.Error as error:
            raise ImportFileError(f"line {end + 1}: {error}.") from None

    def _read_header(self) -> None:
        first = next(self._rows(), None)
        if first is None:
            return
        self.header_line, cells = first
        if cells:
            cells[0] = cells[0].removeprefix("\ufeff")
        self.header = [cell.strip() for cell in cells]
        problems = header_problems(self.header)
        problems += [
            f"column {position} header is not valid {self.encoding}; pass --encoding"
            for position, name in enumerate(self.header, start=1)
            if name and self._undecodable.search(name)
        ]
        for position, name in enumerate(self.header, start=1):
            if name and self._undecodable.search(name):
                problems.append(f"column {position} header is not valid {self.encoding}; choose the file's encoding")
        if problems:
            raise ImportFileError(f"line {self.header_line}: bad header: {'; '.join(problems)}.")

    def _undecodable_problem(self, cells: list[str]) -> str:
        """Which column holds bytes that did not decode, and where (e.g. "at byte 3 (\\xc3)")."""
        for name, cell in zip(self.header or (), cells, strict=False):
            found = undecodable_at(cell, self.encoding)
            if found:
                return f"column {name!r}: {found}; if the file is not {self.encoding}, pass --encoding"
        return f"some bytes are not valid {self.encoding}; pass --encoding"

    def __iter__(self) -> Iterator[Record]:
        if self.header is None:
            return
        width, undecodable, reader = len(self.header), self._undecodable, self.reader
        number, end = 0, reader.line_num
        try:
            for cells in reader:  # the loop of _rows, inlined: it runs once per row
                start, end = end + 1, reader.line_num
                joined = "".join(cells)
                if not joined.strip():
                    continue
                number += 1
                if len(cells) != width:
                    problem = f"{len(cells)} cells, but the header has {width}"
                    if end > start:
                        problem += f" (the row runs from line {start} to {end}: is a quote left open?)"
                    yield Record(number, start, cells, problem)
                elif not joined.isascii() and any(undecodable.search(cell) for cell in cells):
                    yield Record(number, start, cells, self._undecodable_problem(cells))
                else:
                    yield Record(number, start, cells)
        except csv.Error as error:
            raise ImportFileError(f"line {end + 1}: {error}.") from None


class NdjsonReader:
    """One JSON object per line; blank lines are skipped, broken lines are rejected rows."""

    header: list[str] | None = None  # rows are objects, not cells under a header
    header_line: int | None = None
    sheets: tuple[str, ...] = ()

    def __init__(self, source: Source, encoding: str) -> None:
        self.encoding = encoding
        self.settings = ReadOptions(encoding=encoding)
        self._undecodable = undecodable_pattern(encoding)
        self.text = io.TextIOWrapper(source.binary(), encoding=encoding, errors=decode_errors(encoding))

    def __iter__(self) -> Iterator[Record]:
        number = 0
        for line_number, line in enumerate(self.text, start=1):
            text = line.strip().removeprefix("\ufeff") if line_number == 1 else line.strip()
            if not text:
                continue
            number += 1
            if not text.isascii() and self._undecodable.search(text):
                found = undecodable_at(text, self.encoding)
                yield Record(
                    number,
                    line_number,
                    text,
                    f"{found}; if the file is not {self.encoding}, choose the file's encoding",
                )
                continue
            try:
                value = json.loads(text)
            except ValueError as error:
                message = getattr(error, "msg", str(error))
                column = getattr(error, "colno", None)
                where = f" at column {column}" if column else ""
                yield Record(number, line_number, text, f"invalid JSON{where}: {message}")
                continue
            yield Record(number, line_number, value, _not_an_object(value))


class JsonReader:
    """The items of a top-level JSON array, streamed with ijson."""

    header: list[str] | None = None  # rows are objects, not cells under a header
    header_line: int | None = None
    sheets: tuple[str, ...] = ()

    def __init__(self, source: Source, encoding: str) -> None:
        self.source = source
        self.settings = ReadOptions(encoding=encoding)
        first = decode_sample(source.sample, encoding, source.at_eof).lstrip()
        if first and not first.startswith("["):
            hint = " (for one object per line, choose the NDJSON format)" if first.startswith("{") else ""
            raise ImportFileError(f"Expected a JSON array at the top level{hint}.")
        self.empty = not first
        stream = source.binary()
        if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
            stream = io.BufferedReader(_Utf8Recoder(io.TextIOWrapper(stream, encoding=encoding)))
        elif source.sample.startswith(codecs.BOM_UTF8):
            stream.read(len(codecs.BOM_UTF8))
        self.stream = stream

    def __iter__(self) -> Iterator[Record]:
        if self.empty:
            return
        number = 0
        try:
            for value in ijson.items(self.stream, "item", use_float=True):
                number += 1
                yield Record(number, None, value, _not_an_object(value))
        except ijson.JSONError as error:
            raise ImportFileError(f"Invalid JSON after item {number}: {error}.") from None


class _Utf8Recoder(io.RawIOBase):
    """Text read from a decoding stream, served as UTF-8 bytes (ijson reads UTF-8)."""

    def __init__(self, text: io.TextIOBase) -> None:
        super().__init__()
        self.text = text
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            chunk = self.text.read(16 * 1024)
            if not chunk:
                return 0
            self.pending = chunk.encode("utf-8", "surrogatepass")
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        return count


def _not_an_object(value: Any) -> str | None:
    if isinstance(value, dict):
        return None
    return f"expected a JSON object, got {type(value).__name__ if value is not None else 'null'}"
