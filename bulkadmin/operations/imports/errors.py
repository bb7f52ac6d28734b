"""Rejected and failed rows: the first ones kept in memory (and on the job), every one written
to a CSV error file holding the original row plus an `error` column."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bson import json_util
from bson.binary import UuidRepresentation

from bulkadmin.bulk.results import VALIDATION_FAILED, RowError
from bulkadmin.core.exceptions import BulkAdminError, InvalidSpec
from bulkadmin.core.storable import MAX_DEPTH, check_depth
from bulkadmin.operations.cells import guard_formula
from bulkadmin.operations.imports.readers import Record

_LONE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
KEPT_ERRORS = 100
RELAXED_JSON = json_util.RELAXED_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)


def row_error(record: Record, message: str, field: str | None = None, *, code: int | None = None) -> RowError:
    """A row of the file that was not imported: rejected (invalid) or, with a write error's
    `code`, failed."""
    kind = "validation" if code is None else "write"
    found = code if code is not None else VALIDATION_FAILED
    return RowError(record.number - 1, message, found, kind, field, line=record.line)


def neutralise(value: str) -> str:
    """A cell made safe for spreadsheets: a leading `= + - @` (or tab / CR) is escaped with `'`,
    as exports escape it, so the importer removes the guard when the file is imported again."""
    return guard_formula(value)


class ErrorFileFailed(BulkAdminError):
    """The error file could not be written (a full disk, say): the import stops; `.path` and
    `.reason` say which file and why."""

    def __init__(self, path: Path, error: OSError) -> None:
        self.path, self.reason = path, error.strerror or str(error)
        super().__init__(f"The import stopped: its error file {path.name} could not be written ({self.reason}).")


class ErrorFile:
    """The CSV error file, opened on the first error (or at once when the user named it). A
    failed write (a full disk) closes it and raises `ErrorFileFailed`."""

    def __init__(self, path: Path, header: list[str] | None, *, resume_at: int | None = None, eager: bool = False):
        self.path = path
        self.header = header
        self.count = 0
        self._file: IO[str] | None = None
        self._writer: Any = None
        self._resume_at = resume_at
        if eager or (resume_at is not None and path.exists()):
            self._open()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        except OSError as error:
            if self._file is not None:
                with contextlib.suppress(OSError):  # what is buffered cannot be written either
                    self._file.close()
            raise ErrorFileFailed(self.path, error) from None

    def _open(self) -> None:
        with self._writing():
            self._open_file()

    def _open_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._resume_at is not None and self.path.exists():
            with self.path.open("r+b") as existing:  # drop what was written after the last checkpoint
                existing.truncate(min(self._resume_at, os.fstat(existing.fileno()).st_size))
            mode = "a"
        else:
            mode = "w"
        self._file = self.path.open(mode, encoding="utf-8", errors="surrogateescape", newline="")
        self._writer = csv.writer(self._file)
        if self.flush() == 0:
            columns = self.header if self.header is not None else ["row"]
            error_column = "error" if "error" not in columns else "import_error"
            self._writer.writerow([error_column, *(neutralise(name) for name in columns)])

    def write(self, record: Record, error: RowError) -> None:
        if self._file is None:
            self._open()
        raw = record.raw
        cells = raw if isinstance(raw, list) and self.header is not None else [cell_text(raw)]
        with self._writing():
            self._writer.writerow([neutralise(str(error)), *(neutralise(str(cell)) for cell in cells)])
        self.count += 1

    def flush(self) -> int:
        """Flush to disk; return the file's size (where a resumed run carries on)."""
        if self._file is None or self._file.closed:
            return 0
        with self._writing():
            self._file.flush()
            return os.fstat(self._file.fileno()).st_size

    @property
    def opened(self) -> bool:
        return self._file is not None

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            with self._writing():
                self._file.close()


def cell_text(value: Any) -> str:
    """A read value as text for a person: JSON for objects and arrays (never too deep to write)."""
    if isinstance(value, str):
        return value
    try:
        if isinstance(value, dict | list):
            check_depth(value)
    except InvalidSpec:
        return f"(not written: nested deeper than {MAX_DEPTH} levels)"
    text = json.dumps(value, ensure_ascii=False, default=_extended_or_text)
    # A lone surrogate that is not an undecodable byte (a JSON "\ud800") stays escaped.
    return text if _LONE_SURROGATE.search(text) is None else json.dumps(value, default=_extended_or_text)


def _extended_or_text(value: Any) -> Any:
    """A BSON value read from Extended JSON (`--extended-json`) written back as relaxed Extended
    JSON, so the error file's row can be imported again; any other value as its text."""
    try:
        return json_util.default(value, RELAXED_JSON)
    except TypeError:
        return str(value)
