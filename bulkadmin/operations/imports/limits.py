"""The bounds every import file is read within (columns, cell sizes, a workbook's zip parts),
read from the settings when a file is opened, and the refusal that names the limit and the
setting that changes it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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


def bounded_lines(lines: Iterable[str], delimiter: str, limits: ReadLimits) -> Iterator[str]:
    """Lines of delimited text for the csv module, refused at a row with more columns than
    allowed before it is split: delimiters outside quotes are counted, quotes followed across
    the lines of one row (the csv reader's own count is checked after it, too)."""
    count, inside, most = 0, False, limits.max_columns
    for number, line in enumerate(lines, start=1):
        if '"' not in line:
            count += 0 if inside else line.count(delimiter)
        else:
            parts = line.split('"')
            count += sum(part.count(delimiter) for part in parts[1 if inside else 0 :: 2])
            inside = inside != (len(parts) % 2 == 0)
        if count >= most:
            raise limits.too_many_columns(f"line {number}", f"more than {most:,}")
        if not inside:
            count = 0
        yield line
