"""An import's resume state: everything a later run needs to carry on after the last committed
row (counts so far, first errors, batches, how the file was read, the error file's size), and
the progress reported after each batch.

Whoever runs the import keeps the state (the jobs runner stores it on the job) and hands it back
to resume. Inserted rows get `_id`s derived from the run's identity and the row number, so a
resumed run recognises rows written past the last checkpoint (kill -9) instead of inserting
them twice.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from bulkadmin.bulk.results import RowError

COUNTS = ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed")


@dataclass(frozen=True)
class RunIdentity:
    """Who is importing: `run_id` keys undo data and names the error file; the 4-byte time and
    3-byte seed start the `_id` of every inserted row (the row number ends it)."""

    run_id: int
    id_time: int
    id_seed: str  # 6 hex digits

    @classmethod
    def new(cls, run_id: int) -> RunIdentity:
        return cls(run_id, int(time.time()), secrets.token_hex(3))

    @property
    def prefix(self) -> bytes:
        return self.id_time.to_bytes(4, "big") + bytes.fromhex(self.id_seed)

    def row_id(self, number: int) -> ObjectId:
        """The `_id` of row `number`."""
        return ObjectId(self.prefix + number.to_bytes(5, "big"))

    def owns(self, value: Any) -> bool:
        return isinstance(value, ObjectId) and value.binary[:7] == self.prefix


@dataclass
class ImportState:
    """Where an import is. `runs` is 0 before its first run; a state with runs carries on after
    `last_row`. Updated in place, batch by batch, by the import."""

    runs: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    errors: list[RowError] = field(default_factory=list)  # the first ones
    error_count: int = 0
    batches: list[list[float]] = field(default_factory=list)  # [rows, seconds]
    last_row: int = 0
    last_line: int | None = None
    error_file: str = ""
    error_file_bytes: int = 0
    bytes_read: int = 0
    bytes_sha256: str = ""  # the SHA-256 of the file's first `bytes_read` bytes
    bytes_total: int | None = None
    fingerprint: dict[str, Any] | None = None
    format: str = ""
    encoding: str = ""
    encoding_reason: str = ""  # why, when the file is not plain UTF-8
    sheet: str = ""
    delimiter: str | None = None
    undo_records: int = 0
    undo_available: bool = False

    def mark(self) -> Checkpoint:
        """What is committed now (cheap: a few numbers, no copies of the lists)."""
        return Checkpoint(
            dict(self.counts),
            self.last_row,
            self.last_line,
            len(self.errors),
            self.error_count,
            len(self.batches),
            self.error_file,
            self.error_file_bytes,
            self.bytes_read,
            self.bytes_sha256,
            self.undo_records,
            self.undo_available,
        )


@dataclass(frozen=True)
class Checkpoint:
    """The committed part of an `ImportState` at the end of a batch."""

    counts: dict[str, int]
    last_row: int
    last_line: int | None
    kept_errors: int
    error_count: int
    batch_count: int
    error_file: str
    error_file_bytes: int
    bytes_read: int
    bytes_sha256: str
    undo_records: int
    undo_available: bool


@dataclass(frozen=True)
class ImportProgress:
    """Where a running import is, given to the `progress` callback once the file is open (no
    rows yet: a first checkpoint of how it is read) and after each batch."""

    run_id: int
    rows: int  # rows read so far, over the whole import (resumed runs included)
    bytes_read: int
    bytes_total: int | None
    elapsed: float  # seconds in this run
    rows_this_run: int
    checkpoint: Checkpoint
    state: ImportState

    @property
    def fraction(self) -> float | None:
        if not self.bytes_total:
            return None
        return min(1.0, self.bytes_read / self.bytes_total)


ImportProgressCallback = Callable[[ImportProgress], None]
