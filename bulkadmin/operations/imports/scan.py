"""A bounded check of a whole import file before the dry run: every row read, shaped and
validated as the import would (nothing written), up to a number of rows or seconds, keeping the
first bad rows and the counts. Streams the file: memory does not grow with its size."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.operations.imports.preview import PreviewRow, checked_rows
from bulkadmin.operations.progress import Cancelled

SCAN_ROWS = 1_000_000
SCAN_SECONDS = 60.0
KEEP_BAD = 20
REPORT_EVERY = 2000  # rows between two reports


@dataclass(frozen=True)
class ScanResult:
    """How far the scan got and what it found: rows checked, bad rows (the first `KEEP_BAD`
    kept), whether it reached the end of the file or stopped at a limit ("rows", "time")."""

    rows: int = 0
    bad: int = 0
    first_bad: tuple[PreviewRow, ...] = ()
    complete: bool = False
    stopped: str = ""
    problem: str = ""
    seconds: float = 0.0

    @property
    def good(self) -> int:
        return self.rows - self.bad


def scan_file(
    *,
    model: type[MongoModel],
    path: str | os.PathLike[str],
    max_rows: int = SCAN_ROWS,
    max_seconds: float = SCAN_SECONDS,
    keep: int = KEEP_BAD,
    report: Callable[[ScanResult], None] | None = None,
    **read: Any,
) -> ScanResult:
    """Check every row of the file at `path` (`read`: `checked_rows`' options) until its end,
    `max_rows` rows or `max_seconds`; `report` gets the result so far every few thousand rows."""
    started = time.perf_counter()
    result = ScanResult()
    with checked_rows(model=model, path=path, **read) as (plan, rows):
        if plan.problems:
            return replace(result, complete=True, problem="; ".join(plan.problems))
        try:
            for row in rows:
                result = _add(result, row, keep)
                elapsed = time.perf_counter() - started
                if result.rows >= max_rows or elapsed >= max_seconds:
                    stopped = "rows" if result.rows >= max_rows else "time"
                    return replace(result, stopped=stopped, seconds=elapsed)
                if report is not None and result.rows % REPORT_EVERY == 0:
                    report(replace(result, seconds=elapsed))
        except Cancelled:
            raise  # from `report`: whoever runs the scan stops it
        except BulkAdminError as error:
            result = replace(result, problem=str(error))
    return replace(result, complete=True, seconds=time.perf_counter() - started)


def _add(result: ScanResult, row: PreviewRow, keep: int) -> ScanResult:
    if row.ok:
        return replace(result, rows=result.rows + 1)
    kept = (*result.first_bad, row) if len(result.first_bad) < keep else result.first_bad
    return replace(result, rows=result.rows + 1, bad=result.bad + 1, first_bad=kept)
