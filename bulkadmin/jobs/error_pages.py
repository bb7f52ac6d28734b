"""Pages of a job's full error file (the rejected rows with an `error` column before their
cells), read by seeking, never by loading the file.

The first read scans the file once up to the page asked for and caches, on the job, the byte
offset of every 1,000th row (`Job.error_index`); later pages seek to the nearest offset and read
at most 1,000 rows more. A file that grew (a running job) is scanned on from where the index
ends; one that changed under the index (a resumed run truncated it) is scanned again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, overload

from bulkadmin.core import conf
from bulkadmin.models import Job

STEP = 1000  # rows between two cached offsets
TAIL = 32  # bytes before the index's end kept to notice a file changed under it
CHUNK = 1 << 20
RECORD = re.compile(rb'(?:[^"\n]++|"[^"]*+")*+\n')  # one CSV record: a line break outside quotes ends it
WHERE = re.compile(r"^(line|item) (\d+): (.*)$", re.DOTALL)


@dataclass(frozen=True)
class ErrorLine:
    """One row of the error file: its position among the errors (1-based), where it was in the
    input (`line 5002`), why it was refused, and the row's own cells."""

    number: int
    where: str
    message: str
    cells: tuple[str, ...]


@dataclass
class ErrorIndex:
    """Offsets of rows 0, STEP, 2*STEP… and how far the file has been scanned."""

    header: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    rows: int = 0
    end: int = 0
    tail: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorIndex:
        names = ("header", "offsets", "rows", "end", "tail")
        return cls(**{name: data[name] for name in names if name in data})

    def as_dict(self) -> dict[str, Any]:
        return {"header": self.header, "offsets": self.offsets, "rows": self.rows, "end": self.end, "tail": self.tail}


def error_file_path(job: Job) -> Path | None:
    """The job's error file when it exists in the jobs or data folder (a path elsewhere is never served)."""
    if not job.error_file:
        return None
    path = Path(job.error_file)
    folders = [Path(conf.var_dir()).resolve(), Path(conf.jobs_dir()).resolve()]
    if not path.is_file() or not any(path.resolve().is_relative_to(folder) for folder in folders):
        return None
    return path


def open_error_file(job: Job) -> IO[bytes] | None:
    """The job's error file opened for reading in binary, or None when it has none."""
    path = error_file_path(job)
    return path.open("rb") if path is not None else None


def write_error_file(job: Job, errors: Iterable[Any]) -> str:
    """Write every error of a job that has no error file of its own (a sync, an update, an undo
    with more errors than the job row keeps) to `<jobs folder>/<job>/errors.csv`; return its path."""
    path = Path(conf.jobs_dir()) / str(job.pk) / "errors.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["error", "kind", "field", "code"])
        for error in errors:
            where = getattr(error, "where", "") or f"item {error.index + 1}"
            writer.writerow([f"{where}: {error.message}", error.kind, error.field or "", getattr(error, "code", "")])
    return str(path)


class ErrorFileRows:
    """The rows of a job's error file as a sequence Django's `Paginator` can page: its length
    is the job's stored error count, a slice reads only the rows asked for."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.header: list[str] = list(job.error_index.get("header", [])) if job.error_index else []

    def __len__(self) -> int:
        return int(self.job.error_count)

    @overload
    def __getitem__(self, chosen: int) -> ErrorLine: ...
    @overload
    def __getitem__(self, chosen: slice) -> list[ErrorLine]: ...
    def __getitem__(self, chosen: int | slice) -> ErrorLine | list[ErrorLine]:
        if isinstance(chosen, int):
            found = self.rows(chosen, chosen + 1)
            if not found:
                raise IndexError(chosen)
            return found[0]
        return self.rows(chosen.start or 0, chosen.stop if chosen.stop is not None else len(self))

    def __iter__(self) -> Iterator[ErrorLine]:
        for start in range(0, len(self), STEP):
            yield from self.rows(start, start + STEP)

    def rows(self, start: int, stop: int) -> list[ErrorLine]:
        """Errors `start` to `stop` (0-based, `stop` excluded), reading only those rows."""
        handle = open_error_file(self.job)
        if handle is None:
            return []
        with handle:
            index = self._index(handle)
            scanned = _scan_to(handle, index, stop)
            if scanned:
                self._save(index)
            self.header = index.header
            return list(_read(handle, index, start, stop))

    def _index(self, handle: IO[bytes]) -> ErrorIndex:
        index = ErrorIndex.from_dict(self.job.error_index or {})
        if index.offsets and _tail(handle, index.end) == index.tail:
            return index
        handle.seek(0)
        header = _next_record(handle)
        columns = _cells(header) if header else []
        return ErrorIndex(header=columns[1:], offsets=[handle.tell()], rows=0, end=handle.tell(), tail="")

    def _save(self, index: ErrorIndex) -> None:
        self.job.error_index = index.as_dict()
        if self.job.pk is not None:
            Job.objects.filter(pk=self.job.pk).update(error_index=self.job.error_index)


def _scan_to(handle: IO[bytes], index: ErrorIndex, stop: int) -> bool:
    """Scan on from the index's end until it covers `stop` rows or the file ends (a record still
    being written is left for later); True if it moved. Reads the file in chunks."""
    if index.rows >= stop:
        return False
    handle.seek(index.end)
    start_rows, carry = index.rows, b""
    while index.rows < stop:
        chunk = handle.read(CHUNK)
        if not chunk:
            break
        data, base, position = carry + chunk, index.end, 0
        while index.rows < stop and (match := RECORD.match(data, position)) is not None:
            if index.rows % STEP == 0 and index.rows // STEP == len(index.offsets):
                index.offsets.append(base + position)
            position = match.end()
            index.rows += 1
        index.end = base + position
        carry = data[position:]
        if index.rows >= stop:
            break
    if index.rows > start_rows:
        index.tail = _tail(handle, index.end)
    return index.rows > start_rows


def _read(handle: IO[bytes], index: ErrorIndex, start: int, stop: int) -> Iterator[ErrorLine]:
    if start >= index.rows or not index.offsets:
        return
    handle.seek(index.offsets[start // STEP])
    for _ in range(start % STEP):
        _next_record(handle)
    for number in range(start, min(stop, index.rows)):
        record = _next_record(handle)
        if record is None:
            return
        yield _line(number + 1, _cells(record))


def _next_record(handle: IO[bytes]) -> bytes | None:
    """The next complete CSV record (one or more lines: a quoted cell may hold line breaks), or
    None at the end of the file or before a record still being written."""
    parts: list[bytes] = []
    quotes = 0
    while True:
        line = handle.readline()
        if not line:
            return None
        parts.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0 and line.endswith(b"\n"):
            return b"".join(parts)


def _cells(record: bytes) -> list[str]:
    text = record.decode("utf-8", errors="replace")
    return next(csv.reader(io.StringIO(text, newline="")), [])


def _line(number: int, cells: list[str]) -> ErrorLine:
    error, *rest = cells or [""]
    match = WHERE.match(error)
    where, message = (f"{match[1]} {match[2]}", match[3]) if match else ("", error)
    return ErrorLine(number, where, message, tuple(rest))


def _tail(handle: IO[bytes], end: int) -> str:
    handle.seek(max(0, end - TAIL))
    return handle.read(min(end, TAIL)).hex()
