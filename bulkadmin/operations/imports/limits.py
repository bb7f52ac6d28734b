"""The bounds every import file is read within (columns, cell sizes, a workbook's zip parts),
read from the settings when a file is opened, and the refusal that names the limit and the
setting that changes it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TextIO

from bulkadmin.core import conf
from bulkadmin.operations.imports.sources import ImportFileError


class LimitExceeded(ImportFileError):
    """A file passes one of the import limits; `setting` names the setting that raises it."""

    def __init__(self, what: str, limit: int | float, setting: str) -> None:
        self.limit, self.setting = limit, setting
        super().__init__(f"{what}: the limit is {limit:,} ({setting}).")


@dataclass(frozen=True)
class ReadLimits:
    """The bounds of one read: columns per row, bytes per cell (and per XLSX row), and an XLSX
    workbook's zip entries, decompressed bytes per part and compression ratio."""

    max_columns: int
    max_cell_bytes: int
    max_part_bytes: int
    max_ratio: float
    max_entries: int

    @classmethod
    def current(cls) -> ReadLimits:
        return cls(
            max_columns=conf.import_max_columns(),
            max_cell_bytes=conf.import_max_cell_bytes(),
            max_part_bytes=conf.xlsx_max_part_bytes(),
            max_ratio=conf.xlsx_max_ratio(),
            max_entries=conf.xlsx_max_entries(),
        )

    def too_many_columns(self, where: str, count: int | str) -> LimitExceeded:
        return LimitExceeded(f"{where} has {count} cells", self.max_columns, "BULKADMIN_IMPORT_MAX_COLUMNS")

    def cell_too_long(self, where: str) -> LimitExceeded:
        what = f"{where} holds more text than a cell may"
        return LimitExceeded(what, self.max_cell_bytes, "BULKADMIN_IMPORT_MAX_CELL_BYTES")


def bounded_lines(text: TextIO, delimiter: str, limits: ReadLimits) -> Iterator[str]:
    """Lines of delimited text for the csv module, refused at a line longer than a cell may be
    (before it is read whole) and at a row with more columns than allowed (before it is split).
    Each row's delimiters are counted (an upper bound); past the limit, those outside quotes are
    counted exactly (the csv reader's own count is checked after it, too). A row's lines are
    kept only while a quote is open."""
    upper, inside, most, number, size = 0, False, limits.max_columns, 0, limits.max_cell_bytes + 1
    row: list[str] = []
    for line in iter(partial(text.readline, size), ""):
        number += 1
        upper += line.count(delimiter)
        if upper >= most and _outside_quotes([*row, line], delimiter) >= most:
            raise limits.too_many_columns(f"line {number}", f"more than {most:,}")
        if len(line) == size and line[-1] not in "\r\n":
            raise limits.cell_too_long(f"line {number}")
        if inside or '"' in line:
            if line.count('"') % 2:
                inside = not inside
            if inside:
                row.append(line)
                yield line
                continue
            row = []
        upper = 0
        yield line


def _outside_quotes(lines: list[str], delimiter: str) -> int:
    """How many delimiters of a row's lines lie outside quotes."""
    parts = "".join(lines).split('"')
    return sum(part.count(delimiter) for part in parts[::2])
