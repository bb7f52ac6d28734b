"""Streaming readers: CSV / TSV, a JSON array (ijson) and NDJSON, yielding one `Record` per row.

With `extended_json`, the JSON readers read MongoDB Extended JSON (canonical, relaxed or legacy:
`{"$oid": ...}`, `{"$date": ...}`, `{"$numberDecimal": ...}`) as the BSON values it stands for,
through pymongo's `json_util`.

Readers never hold more than the row at hand. A row they cannot make sense of (ragged, broken
JSON, undecodable bytes, an Extended JSON value json_util refuses) is yielded with its `problem`
set, so it is reported as a rejected row; only a file that cannot be read at all raises
`ImportFileError`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from itertools import repeat
from typing import Any

import ijson
from bson import json_util
from bson.binary import UuidRepresentation
from bson.errors import BSONError

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.storable import MarkedObject, check_depth, loads_json, plain_unique
from bulkadmin.operations.imports.limits import ReadLimits, bounded_blocks
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

_SURROGATES = re.compile("[\udc80-\udcff]")  # bytes that did not decode (surrogateescape)
_SURROGATES_OR_REPLACED = re.compile("[\udc80-\udcff\ufffd]")  # ... or were replaced (UTF-16/32)
# Extended JSON read as the MongoDB client returns stored values (`core.mongo.CLIENT_OPTIONS`).
EXTENDED_JSON_OPTIONS = json_util.JSONOptions(
    tz_aware=True, tzinfo=dt.UTC, uuid_representation=UuidRepresentation.STANDARD
)
# What json_util raises for a value it cannot read (a bad date, an ObjectId of bad hex, ...).
_UNREADABLE = (ValueError, TypeError, KeyError, ArithmeticError, BSONError)


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
    field: str | None = None  # the column at fault, when a problem is in one

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
    extended_json: bool = False

    def given(self) -> dict[str, str | bool]:
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
        encoding = encoding_for(source, options)
        delimiter = options.delimiter or default_delimiter
        if not delimiter:
            delimiter = sniff_delimiter(decode_sample(source.sample, encoding, source.at_eof))
        return CsvReader(source, encoding, delimiter)

    return open_reader


def open_json(source: Source, options: ReadOptions) -> JsonReader:
    return JsonReader(source, encoding_for(source, options), extended=options.extended_json)


def open_ndjson(source: Source, options: ReadOptions) -> NdjsonReader:
    return NdjsonReader(source, encoding_for(source, options), extended=options.extended_json)


def encoding_for(source: Source, options: ReadOptions) -> str:
    """The encoding chosen, else the one detected. UTF-16 or UTF-32 named without an endianness
    needs the file's byte-order mark: without one the choice is refused, naming the option."""
    named = options.encoding
    if not named:
        return detect_encoding(source.sample, source.at_eof)
    wide = codecs.lookup(named).name
    if wide in ("utf-16", "utf-32") and source.sample and not source.sample.startswith(_BOMS[wide]):
        raise ImportFileError(
            f"The file has no byte-order mark, so {named!r} cannot tell its byte order: choose {wide}-le or {wide}-be.",
            option="encoding",
        )
    return named


_BOMS = {
    "utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
    "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE),
}


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
        self.limits = limits = ReadLimits.current()
        csv.field_size_limit(limits.max_cell_bytes)
        self._undecodable_read = False  # whether any text read so far holds bytes that did not decode
        self._blocks = self._read_blocks(bounded_blocks(self.text, delimiter, limits))
        self._held: list[str] | None = None  # a block read here, for the csv module to parse next
        self._given = 0  # lines handed to the csv module
        self.reader = csv.reader(itertools.chain.from_iterable(self._for_csv()), delimiter=delimiter, strict=False)
        self.header: list[str] | None = None
        self.header_line: int | None = None
        self._read_header()

    def _read_blocks(self, blocks: Iterable[list[str]]) -> Iterator[tuple[list[str], bool]]:
        """Each block of lines with whether it holds no quote (so each line is one row, split at
        the delimiter as the csv module would), noting whether one holds bytes that did not
        decode (rows read before the first such block need no check of their own)."""
        for lines in blocks:
            text = "".join(lines)
            if not self._undecodable_read:
                self._undecodable_read = not text.isascii() and self._undecodable.search(text) is not None
            yield lines, '"' not in text

    def _for_csv(self) -> Iterator[list[str]]:
        """The blocks the csv module parses: the one held for it, else the next one read."""
        while True:
            lines, self._held = self._held, None
            if lines is None:
                block = next(self._blocks, None)
                if block is None:
                    return
                lines = block[0]
            self._given += len(lines)
            yield lines

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
        if len(cells) > self.limits.max_columns:
            raise self.limits.too_many_columns(f"line {self.header_line} (the header)", f"{len(cells):,}")
        self.header = [cell.strip() for cell in cells]
        problems = header_problems(self.header)
        problems += [
            f"column {position} header is not valid {self.encoding}; choose the file's encoding"
            for position, name in enumerate(self.header, start=1)
            if name and self._undecodable.search(name)
        ]
        if problems:
            raise ImportFileError(f"line {self.header_line}: bad header: {'; '.join(problems)}.")

    def _ragged_record(self, number: int, start: int, end: int, cells: list[str]) -> Record:
        """The row (lines `start` to `end`) as a rejection: it has more or fewer cells than the
        header; refused when it has more than a row may."""
        if len(cells) > self.limits.max_columns:
            raise self.limits.too_many_columns(f"line {start}", f"{len(cells):,}")
        problem = f"{len(cells)} cells, but the header has {len(self.header or ())}"
        if end > start:
            problem += f" (the row runs from line {start} to {end}: is a quote left open?)"
        return Record(number, start, cells, problem)

    def _undecodable_record(self, number: int, line: int, cells: list[str]) -> Record:
        """The row as a rejection naming the column that holds bytes that did not decode, and
        where (e.g. "at byte 3 (\\xc3)")."""
        for name, cell in zip(self.header or (), cells, strict=False):
            found = undecodable_at(cell, self.encoding)
            if found:
                problem = f"column {name!r}: {found}; if the file is not {self.encoding}, pass --encoding"
                return Record(number, line, cells, problem, name)
        return Record(number, line, cells, f"some bytes are not valid {self.encoding}; pass --encoding")

    def __iter__(self) -> Iterator[Record]:
        if self.header is None:
            return
        width, undecodable, number = len(self.header), self._undecodable, 0
        for start, end, cells in self._lined_rows():
            if (not cells or not cells[0] or cells[0].isspace()) and not "".join(cells).strip():
                continue  # a blank row (a first cell of text, the usual case, is not)
            number += 1
            if len(cells) != width:
                yield self._ragged_record(number, start, end, cells)
            elif (
                self._undecodable_read
                and not "".join(cells).isascii()
                and any(undecodable.search(cell) for cell in cells)
            ):
                yield self._undecodable_record(number, start, cells)
            else:
                yield Record(number, start, cells)

    def _lined_rows(self) -> Iterator[tuple[int, int, list[str]]]:
        """The cells of each row after the header, with the lines it starts and ends on. When the
        csv module holds no line, a block without quotes is split here (one row per line), faster;
        the other blocks go to the csv module."""
        reader, delimiter = self.reader, self.delimiter
        here, end = 0, reader.line_num  # lines split here (not in the csv module's count); the last row's end
        try:
            while True:
                if reader.line_num == self._given:
                    block = next(self._blocks, None)
                    if block is None:
                        return
                    lines, quoteless = block
                    if quoteless:
                        numbers = range(end + 1, end + 1 + len(lines))
                        stripped = map(str.rstrip, lines, repeat("\r\n"))  # a line has one line end
                        yield from zip(numbers, numbers, map(str.split, stripped, repeat(delimiter)), strict=True)
                        here, end = here + len(lines), end + len(lines)
                        continue
                    self._held = lines
                for cells in reader:
                    start, end = end + 1, reader.line_num + here
                    yield start, end, cells
                    if reader.line_num == self._given:
                        break
        except csv.Error as error:
            raise ImportFileError(f"line {end + 1}: {error}.") from None


class NdjsonReader:
    """One JSON object per line; blank lines are skipped, broken lines are rejected rows."""

    header: list[str] | None = None  # rows are objects, not cells under a header
    header_line: int | None = None
    sheets: tuple[str, ...] = ()

    def __init__(self, source: Source, encoding: str, *, extended: bool = False) -> None:
        self.encoding, self.extended = encoding, extended
        self.settings = ReadOptions(encoding=encoding, extended_json=extended)
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
                value = loads_json(text, unique_keys=True)
            except InvalidSpec as error:
                yield Record(number, line_number, text, str(error), error.field)
                continue
            except ValueError as error:
                message = getattr(error, "msg", str(error))
                column = getattr(error, "colno", None)
                where = f" at column {column}" if column else ""
                yield Record(number, line_number, text, f"invalid JSON{where}: {message}")
                continue
            yield object_record(number, line_number, value, extended=self.extended)


class JsonReader:
    """The items of a top-level JSON array, streamed with ijson."""

    header: list[str] | None = None  # rows are objects, not cells under a header
    header_line: int | None = None
    sheets: tuple[str, ...] = ()

    def __init__(self, source: Source, encoding: str, *, extended: bool = False) -> None:
        self.source, self.extended = source, extended
        self.settings = ReadOptions(encoding=encoding, extended_json=extended)
        first = decode_sample(source.sample, encoding, source.at_eof).lstrip()
        if first and not first.startswith("["):
            hint = " (for one object per line, choose the NDJSON format)" if first.startswith("{") else ""
            raise ImportFileError(f"Expected a JSON array at the top level{hint}.")
        self.empty = not first
        self.encoding = encoding
        self.stream = self._utf8(source.binary())

    def _utf8(self, stream: Any) -> Any:
        if codecs.lookup(self.encoding).name not in ("utf-8", "utf-8-sig"):
            return io.BufferedReader(_Utf8Recoder(io.TextIOWrapper(stream, encoding=self.encoding)))
        if self.source.sample.startswith(codecs.BOM_UTF8):
            stream.read(len(codecs.BOM_UTF8))
        return stream

    def __iter__(self) -> Iterator[Record]:
        """Items parsed by the fast (C) parser; when it gives up on a value it cannot hold (an
        integer beyond 64 bits, a lone surrogate escape), a file on disk is read again from that
        item with the pure-Python parser, so the value becomes its own item's rejection."""
        if self.empty:
            return
        number = 0
        try:
            for value in ijson.items(self.stream, "item", use_float=True, map_type=MarkedObject):
                number += 1
                yield unique_object_record(number, value, extended=self.extended)
        except (ijson.JSONError, UnicodeDecodeError) as error:
            failure = ImportFileError(f"Invalid JSON after item {number}: {_first_line(error)}.")
            if self.source.path is None:
                raise failure from None
            yield from self._carry_on_slowly(number, failure)

    def _carry_on_slowly(self, done: int, failure: ImportFileError) -> Iterator[Record]:
        """The items after `done`, parsed again; `failure` is raised if the slow parser cannot
        get past the point the fast one gave up at either (bytes that are not UTF-8)."""
        path = self.source.path
        if path is None:  # only a file on disk can be read again
            raise failure
        raw = open(path, "rb")  # noqa: SIM115 - closed with the source
        self.source.on_close(raw.close)
        number = 0
        try:
            items = ijson.get_backend("python").items(self._utf8(raw), "item", use_float=True, map_type=MarkedObject)
            for value in items:
                number += 1
                if number > done:
                    yield unique_object_record(number, value, extended=self.extended)
        except (ijson.JSONError, UnicodeDecodeError) as error:
            if number <= done:
                raise failure from None
            raise ImportFileError(f"Invalid JSON after item {number}: {_first_line(error)}.") from None


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


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def object_record(number: int, line: int | None, value: Any, *, extended: bool) -> Record:
    """The record of one JSON row: a rejection unless it is an object; with `extended`, its
    Extended JSON values read as BSON values (a value that cannot be read rejects the row, naming
    its field)."""
    problem = _not_an_object(value)
    if problem is not None or not extended:
        return Record(number, line, value, problem)
    try:
        check_depth(value)  # decoding recurses: refuse first what MongoDB could not store anyway
        return Record(number, line, {key: _from_extended(item, key) for key, item in value.items()})
    except InvalidSpec as error:
        return Record(number, line, value, str(error), error.field)


def unique_object_record(number: int, value: Any, *, extended: bool) -> Record:
    """`object_record` of an item read with `MarkedObject`s: a rejection naming the first key an
    object gives twice, at any depth."""
    try:
        try:
            plain = plain_unique(value)
        except RecursionError:  # nested far past MongoDB's limit: say so, naming the path
            check_depth(value)
            raise
    except InvalidSpec as error:
        return Record(number, None, value, str(error), error.field)
    return object_record(number, None, plain, extended=extended)


# json_util's error for a date Python cannot hold advises pymongo's codec options: say what is wrong.
_OUT_OF_RANGE_DATE = "a date outside the years 1 to 9999"


def _from_extended(value: Any, path: str) -> Any:
    """`value` with every object in it read as json_util.loads reads it (innermost first), so
    `{"$date": {"$numberLong": "1"}}` is a datetime; raises `InvalidSpec` naming the path of a
    value json_util refuses."""
    if isinstance(value, dict):
        inner = {key: _from_extended(item, f"{path}.{key}") for key, item in value.items()}
        try:
            return json_util.object_hook(inner, EXTENDED_JSON_OPTIONS)
        except _UNREADABLE as error:
            shown = _OUT_OF_RANGE_DATE if "datetime_conversion" in str(error) else _first_line(error)
            raise InvalidSpec(f"{path}: not valid Extended JSON ({shown}).", field=path) from None
    if isinstance(value, list):
        return [_from_extended(item, f"{path}.{position}") for position, item in enumerate(value)]
    return value


def _not_an_object(value: Any) -> str | None:
    if isinstance(value, dict):
        return None
    return f"expected a JSON object, got {type(value).__name__ if value is not None else 'null'}"
