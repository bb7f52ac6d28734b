"""XLSX workbooks: the rows of one worksheet (the first unless a sheet is named), streamed with
openpyxl's read-only mode, each cell keeping its type (numbers, dates, booleans, text).

The first non-blank row is the header, checked like a CSV header. Rows are located by the sheet's
own row number (1-based, as Excel shows it). Empty cells are '' like empty CSV cells; rows with
no value are skipped like blank CSV lines.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import CELL_TAG, DATA_TAG, ROW_TAG, WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from bulkadmin.operations.imports.bounded_zip import BoundedZip, check_entries
from bulkadmin.operations.imports.limits import ReadLimits
from bulkadmin.operations.imports.readers import ReadOptions, Record, header_problems
from bulkadmin.operations.imports.sources import ImportFileError, Source

ZIP_MAGIC = b"PK\x03\x04"
CONTENT_TYPES = "[Content_Types].xml"
WORKBOOK_TYPE = b"spreadsheetml.sheet.main+xml"  # the content type of an XLSX workbook part
MAX_CONTENT_TYPES = 1024 * 1024
PROGRESS_EVERY = 1000  # rows between updates of the bytes read
STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
TEXT_TAGS = (f"{{{SHEET_MAIN_NS}}}t", f"{{{SHEET_MAIN_NS}}}v")  # a text run; a cell's value
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, TypeError, ParseError, OSError)


def is_zip(sample: bytes) -> bool:
    """Whether the first bytes are a zip archive's (an XLSX workbook is one)."""
    return sample.startswith(ZIP_MAGIC)


def check_workbook(path: Path) -> None:
    """Refuse a file that is not a zip archive declaring an OOXML workbook part."""
    refused = ImportFileError(f"{path.name} is not an XLSX workbook (a zip archive with a workbook part).")
    try:
        with path.open("rb") as file:
            check_entries(file, ReadLimits.current())
            with zipfile.ZipFile(file) as archive:
                info = archive.getinfo(CONTENT_TYPES)
                if info.file_size > MAX_CONTENT_TYPES:
                    raise refused
                declared = archive.read(info)
    except _UNREADABLE:
        raise refused from None
    if WORKBOOK_TYPE not in declared:
        raise refused


def open_xlsx(source: Source, options: ReadOptions) -> XlsxReader:
    return XlsxReader(source, options.sheet)


class XlsxReader:
    """The rows of one worksheet as lists of typed cells, after the header (trimmed, checked)."""

    def __init__(self, source: Source, sheet: str = "") -> None:
        self.source = source
        self.header: list[str] | None = None
        self.header_line: int | None = None
        self._file = _seekable(source)
        self._workbook: ExcelReader | None = None
        source.on_close(self.close)
        try:
            self._workbook = workbook = _open_workbook(self._file)
            paths = {
                entry.name: rel.target
                for entry, rel in workbook.parser.find_sheets()
                if rel.target in workbook.valid_files and "chartsheet" not in rel.Type
            }
        except _UNREADABLE as error:
            raise ImportFileError(f"{source.name} is not an XLSX workbook that can be read ({error}).") from None
        self.sheets = tuple(paths)
        if not self.sheets:
            raise ImportFileError(f"{source.name} has no worksheet.")
        name = sheet or self.sheets[0]
        if name not in self.sheets:
            listed = ", ".join(repr(title) for title in self.sheets)
            raise ImportFileError(f"{source.name} has no sheet {name!r}; its sheets are {listed}.")
        self.settings = ReadOptions(sheet=name)
        self._rows = _values(_parser(workbook, paths[name]).parse(), workbook.archive.limits)
        self._read_header()

    def _read_header(self) -> None:
        first = next(self._rows, None)
        if first is None:
            return
        self.header_line, cells = first
        self.header = [str(cell).strip() for cell in cells]
        problems = header_problems(self.header)
        if problems:
            raise ImportFileError(f"line {self.header_line}: bad header: {'; '.join(problems)}.")

    def __iter__(self) -> Iterator[Record]:
        if self.header is None:
            return
        width, number, stream = len(self.header), 0, self.source.stream
        for line, cells in self._rows:
            number += 1
            if number % PROGRESS_EVERY == 0:
                stream.bytes_read = max(stream.bytes_read, self._file.tell())
            if len(cells) > width:
                where = f"{get_column_letter(len(cells))}{line}"
                yield Record(number, line, cells, f"cell {where} is outside the header's {width} columns")
                continue
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            yield Record(number, line, cells)
        stream.bytes_read = max(stream.bytes_read, self.source.size or 0)

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.archive.close()
            if isinstance(self._workbook.shared_strings, SharedStrings):
                self._workbook.shared_strings.close()
        self._file.close()


class _RowParser(WorkSheetParser):
    """openpyxl's worksheet parser, yielding rows only and dropping each parsed row from the XML
    tree: openpyxl's own `parse` keeps every row element it has read (memory grows with the rows).
    What comes before the rows (column widths...) is dropped as it is read, and what comes after
    them (merged cells, links...) is not read."""

    limits: ReadLimits

    def parse(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        sheet_data, cells, text, limits, where = None, 0, 0, self.limits, "row 1"
        opened: list[Any] = []  # the elements open before the rows, dropped as each ends
        strings = self.shared_strings if isinstance(self.shared_strings, SharedStrings) else None
        for event, element in iterparse(self.source, events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == CELL_TAG:
                    cells += 1
                    if cells > limits.max_columns:
                        raise limits.too_many_columns(where, f"more than {limits.max_columns:,}")
                elif tag == ROW_TAG:
                    where = f"row {element.get('r') or self.row_counter + 1}"
                elif sheet_data is None:
                    if tag == DATA_TAG:
                        sheet_data = element
                    else:
                        opened.append(element)
            elif tag in TEXT_TAGS:
                text += len(element.text or "")
                if text > limits.max_cell_bytes:
                    raise limits.cell_too_long(where)
            elif tag == ROW_TAG:
                if strings is not None:
                    strings.budget = limits.max_cell_bytes - text
                row = self.parse_row(element)
                cells, text = 0, 0
                if sheet_data is not None:
                    sheet_data.clear()
                self.row_dimensions.clear()  # row heights and styles: not needed
                yield row
            elif tag == DATA_TAG:
                return
            elif sheet_data is None and opened:
                opened.pop()
                if opened:
                    opened[-1].clear()


def _open_workbook(file: IO[bytes]) -> ExcelReader:
    """The workbook's parts that its sheets need (shared strings, styles with the date formats,
    the sheets' names and places), read by openpyxl in read-only mode. openpyxl's own
    `load_workbook` would also read each sheet that does not state its size, whole."""
    limits = ReadLimits.current()
    check_entries(file, limits)
    workbook = ExcelReader(file, read_only=True, data_only=True, keep_links=False)
    workbook.archive = BoundedZip(file, limits)  # every part read through a counting stream
    workbook.read_manifest()
    part = workbook.package.find(SHARED_STRINGS)
    if part is not None:
        with workbook.archive.open(part.PartName[1:]) as strings:
            workbook.shared_strings = SharedStrings(strings, limits.max_cell_bytes)
    workbook.read_workbook()
    apply_stylesheet(workbook.archive, workbook.wb)
    return workbook


class SharedStrings:
    """A workbook's shared strings (Excel keeps each distinct text of the workbook there, once),
    in a temporary file, and their offsets (`Offsets`: past a million, in another). A string longer
    than a cell may be is refused as it is read; `budget` is what the row being read may still
    take from the table (a row of cells all referring to one long string is refused too)."""

    def __init__(self, part: IO[bytes], max_bytes: int) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the reader)
        self._offsets = Offsets()
        self.max_bytes = self.budget = max_bytes
        end, write, text = 0, self._file.write, 0
        table = None
        for event, element in iterparse(part, events=("start", "end")):
            if event == "start":
                table = element if table is None else table
            elif element.tag in TEXT_TAGS:
                text += len(element.text or "")
                if text > max_bytes:
                    raise ReadLimits.current().cell_too_long(f"shared string {len(self)} of the workbook")
            elif element.tag == STRING_TAG:
                data = Text.from_tree(element).content.replace("x005F_", "").encode("utf-8", "surrogatepass")
                end += write(data)
                self._offsets.append(end)
                text = 0
                if table is not None:
                    table.clear()  # iterparse keeps what it has read under the root

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self):
            raise ImportFileError(f"A cell refers to shared string {index}; the workbook has {len(self)}.")
        start, end = self._offsets[index], self._offsets[index + 1]
        self.budget -= end - start
        if self.budget < 0:
            raise ReadLimits.current().cell_too_long("a row (its cells' shared strings together)")
        self._file.seek(start)
        return self._file.read(end - start).decode("utf-8", "surrogatepass")

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def close(self) -> None:
        self._file.close()
        self._offsets.close()


class Offsets:
    """A growing list of 8-byte offsets, starting with 0: the first `IN_MEMORY` in memory, the
    others in a temporary file (a workbook of millions of tiny shared strings stays small)."""

    IN_MEMORY = 1 << 20
    BLOCK = 1 << 16  # offsets written to the file at a time

    def __init__(self) -> None:
        self._head, self._tail = array("q", [0]), array("q")
        self._file: IO[bytes] | None = None
        self._spilled = 0

    def append(self, value: int) -> None:
        if len(self._head) < self.IN_MEMORY:
            self._head.append(value)
            return
        self._tail.append(value)
        if len(self._tail) >= self.BLOCK:
            if self._file is None:
                self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the strings)
            self._file.seek(0, os.SEEK_END)
            self._tail.tofile(self._file)
            self._spilled += len(self._tail)
            self._tail = array("q")

    def __len__(self) -> int:
        return len(self._head) + self._spilled + len(self._tail)

    def __getitem__(self, index: int) -> int:
        if index < len(self._head):
            return self._head[index]
        index -= len(self._head)
        if index >= self._spilled or self._file is None:
            return self._tail[index - self._spilled]
        self._file.seek(index * 8)
        return int.from_bytes(self._file.read(8), sys.byteorder, signed=True)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _parser(workbook: ExcelReader, path: str) -> _RowParser:
    """A row parser of the worksheet at `path`, set up as openpyxl's read-only worksheets set up theirs."""
    book = workbook.wb
    parser = _RowParser(
        workbook.archive.open(path),
        workbook.shared_strings,
        data_only=True,
        epoch=book.epoch,
        date_formats=book._date_formats,
        timedelta_formats=book._timedelta_formats,
    )
    parser.limits = workbook.archive.limits
    return parser


def _values(rows: Iterator[tuple[int, list[dict[str, Any]]]], limits: ReadLimits) -> Iterator[tuple[int, list[Any]]]:
    """Each row with a value, with its row number: the cells' values by column, '' for an empty
    cell (or one of spaces), trailing empty cells left out."""
    number = 0
    try:
        for number, cells in rows:
            values = _row_values(number, cells, limits)
            if values:
                yield number, values
    except _UNREADABLE as error:
        raise ImportFileError(f"The sheet cannot be read after row {number}: {error}.") from None


def _row_values(number: int, cells: list[dict[str, Any]], limits: ReadLimits) -> list[Any]:
    values: list[Any] = []
    for cell in cells:
        value = cell["value"]
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        column = cell["column"]
        if column > limits.max_columns:
            shown = f"a cell in column {column:,}, so more than {limits.max_columns:,}"
            raise limits.too_many_columns(f"row {number}", shown)
        if column > len(values):
            values.extend([""] * (column - len(values)))
        values[column - 1] = value
    return values


def _seekable(source: Source) -> IO[bytes]:
    """The workbook as a seekable file (a zip archive is read from its end): the file itself, or
    standard input (or a stream) copied to a temporary file."""
    if source.path is not None:
        return source.path.open("rb")
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the source)
    shutil.copyfileobj(source.binary(), spool, 1024 * 1024)
    spool.seek(0)
    return spool
