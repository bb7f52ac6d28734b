"""The bounds every import file is read within (columns, cell sizes, a workbook's zip parts),
read from the settings when a file is opened, and the refusal that names the limit and the
setting that changes it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat
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


BLOCK_CHARS = 64 * 1024  # text read at a time; its lines are checked together
# str.splitlines also ends a line at these; the csv module (and `readline`) does not
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_odd = (1).__and__


def bounded_blocks(text: TextIO, delimiter: str, limits: ReadLimits) -> Iterator[list[str]]:
    """Lines of delimited text for the csv module (chained), as `text.readline` gives them, a
    block at a time, refused at a line longer than a cell may be (before it is read whole) and at
    a row with more columns than allowed (before it is split). Each row's delimiters are counted
    (an upper bound); past the limit, those outside quotes are counted exactly (the csv reader's
    own count is checked after it, too). A row's lines are kept only while a quote is open. A
    block no line of which comes near a limit is checked as a whole; at a refusal, the lines
    before it are given, then the refusal is raised."""
    check = _LineCheck(delimiter, limits)
    for lines, read in _line_blocks(text, check.size):
        if check.passes(lines, read):
            yield lines
            continue
        passed, refusal = check.each(lines)
        yield passed
        if refusal is not None:
            raise refusal


def _line_blocks(text: TextIO, size: int, block: int = BLOCK_CHARS) -> Iterator[tuple[list[str], str | None]]:
    """The lines `text.readline(size)` would return (a line longer than `size` cut into pieces of
    `size`), a block at a time, each with the text that holds them (None when not at hand)."""
    tail: list[str] = []  # a line not ended yet, or ended by "\r" that a "\n" may follow
    held = 0
    while chunk := text.read(block):
        read: str | None = chunk
        if "\n" in chunk or "\r" in chunk or (tail and tail[-1][-1] == "\r"):
            read = "".join([*tail, chunk]) if tail else chunk
            lines = _split(read)
            tail = [] if lines[-1][-1] == "\n" else [lines.pop()]
            held = len(tail[0]) if tail else 0
        else:
            lines = []
            tail.append(chunk)
            held += len(chunk)
        if held >= size:  # a line longer than `size` so far: its pieces of `size`
            pieces = _whole_pieces(tail, size)
            lines, held, read = lines + pieces, held - len(pieces) * size, None
        if lines:
            yield lines, read
    if tail:
        yield ["".join(tail)], None


def _whole_pieces(parts: list[str], size: int) -> list[str]:
    """The pieces of `size` characters the text held in `parts` starts with; `parts` keeps the
    rest (the text is held at most twice over)."""
    text = "".join(parts)
    cut = len(text) - len(text) % size
    parts[:] = [text[cut:]] if cut < len(text) else []
    return [text[start : start + size] for start in range(0, cut, size)]


def _split(text: str) -> list[str]:
    """`text`'s lines, each with its line end (\\r\\n, \\r or \\n), as `readline` ends them."""
    if any(mark in text for mark in _OTHER_BREAKS[: 5 if text.isascii() else None]):
        return _LINE.findall(text)
    return text.splitlines(True)


class _LineCheck:
    """The limits checked line by line, and what is carried from one line to the next: the
    delimiters counted in the row so far, whether a quote is open and the row's lines."""

    def __init__(self, delimiter: str, limits: ReadLimits) -> None:
        self.delimiter, self.limits = delimiter, limits
        self.most, self.size = limits.max_columns, limits.max_cell_bytes + 1
        self.number, self.upper, self.inside = 0, 0, False
        self.row: list[str] = []

    def passes(self, lines: list[str], read: str | None) -> bool:
        """Whether a block's lines pass as a whole (no quote left open, no line near a limit),
        checked by C-level calls; counted as read when they do."""
        if self.inside or read is None or max(map(len, lines)) >= self.size:
            return False
        if '"' in read and any(map(_odd, map(str.count, lines, repeat('"')))):
            return False
        delimiter, most = self.delimiter, self.most
        if read.count(delimiter) >= most and max(map(str.count, lines, repeat(delimiter))) >= most:
            return False
        self.number += len(lines)
        return True

    def each(self, lines: list[str]) -> tuple[list[str], LimitExceeded | None]:
        """A block's lines checked one by one (a line longer than a cell may be in pieces, as
        `readline` reads it): those that pass, and the refusal of the next one, if any."""
        passed: list[str] = []
        size = self.size
        for whole in lines:
            for line in (whole,) if len(whole) <= size else _pieces(whole, size):
                refusal = self.refusal(line)
                if refusal is not None:
                    return passed, refusal
                passed.append(line)
        return passed, None

    def refusal(self, line: str) -> LimitExceeded | None:
        """Count the next line in; what refuses it, if anything."""
        self.number += 1
        self.upper += line.count(self.delimiter)
        if self.upper >= self.most and _outside_quotes([*self.row, line], self.delimiter) >= self.most:
            return self.limits.too_many_columns(f"line {self.number}", f"more than {self.most:,}")
        if len(line) == self.size and line[-1] not in "\r\n":
            return self.limits.cell_too_long(f"line {self.number}")
        if self.inside or '"' in line:
            if line.count('"') % 2:
                self.inside = not self.inside
            if self.inside:
                self.row.append(line)
                return None
            self.row = []
        self.upper = 0
        return None


def _pieces(line: str, size: int) -> Iterator[str]:
    return (line[start : start + size] for start in range(0, len(line), size))


def _outside_quotes(lines: list[str], delimiter: str) -> int:
    """How many delimiters of a row's lines lie outside quotes."""
    parts = "".join(lines).split('"')
    return sum(part.count(delimiter) for part in parts[::2])
