"""`BulkResult`: the one frozen result every bulk function returns, and its row errors."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, SupportsIndex, cast

VALIDATION_FAILED = 121  # MongoDB's DocumentValidationFailure code, used for rejected rows


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a row."""

    field: str
    message: str


@dataclass(frozen=True)
class RowError:
    """A row that was not written: rejected by validation or failed by the server.

    `index` is the 0-based position in the caller's whole input, never within a batch."""

    index: int
    message: str
    code: int = VALIDATION_FAILED
    kind: str = "validation"  # "validation" or "write"
    field: str | None = None
    field_errors: tuple[FieldError, ...] = ()

    def as_write_error(self) -> dict[str, Any]:
        """The error in pymongo's `writeErrors` shape."""
        return {"index": self.index, "code": self.code, "errmsg": self.message, "field": self.field}


@dataclass(frozen=True)
class BatchStat:
    """Figures for one batch, for progress and throughput charts."""

    number: int
    rows: int
    seconds: float


@dataclass(frozen=True)
class BulkResult:
    """What a bulk operation did. Counts of rows read reconcile:
    `rows == inserted + updated + unchanged + deleted_rows + skipped + failed` for imports;
    update and delete specs count documents matched, modified and deleted."""

    operation: str
    rows: int = 0
    inserted: int = 0
    matched: int = 0
    modified: int = 0
    upserted: int = 0
    deleted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    upserted_ids: dict[int, Any] = field(default_factory=dict)
    errors: tuple[RowError, ...] = ()
    batches: tuple[BatchStat, ...] = ()
    elapsed: float = 0.0
    dry_run: bool = False

    # The seed API's names.
    @property
    def inserted_count(self) -> int:
        return self.inserted

    @property
    def matched_count(self) -> int:
        return self.matched

    @property
    def modified_count(self) -> int:
        return self.modified

    @property
    def upserted_count(self) -> int:
        return self.upserted

    @property
    def deleted_count(self) -> int:
        return self.deleted

    @property
    def failed(self) -> int:
        """Rows not written because of an error (validation or write)."""
        return len({error.index for error in self.errors})

    @property
    def validation_errors(self) -> tuple[RowError, ...]:
        return tuple(error for error in self.errors if error.kind == "validation")

    @property
    def write_errors(self) -> tuple[RowError, ...]:
        return tuple(error for error in self.errors if error.kind == "write")

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def docs_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    def __int__(self) -> int:
        """The headline count: documents inserted, modified or deleted by the operation."""
        headline = {"insert": self.inserted, "update": self.modified, "delete": self.deleted}
        return headline.get(self.operation, self.inserted + self.modified + self.deleted)

    __index__ = __int__

    # The guide uses what `bulk_insert` returns as its count: `total += count`, `count + 1`,
    # `f"Inserted {count} documents"`, `f"{count:,}"`. These give the headline count; `str()` and
    # `repr()` stay the full result, for debugging.
    def __add__(self, other: object) -> int:
        return int(self) + operator.index(cast(SupportsIndex, other)) if _is_count(other) else NotImplemented

    def __radd__(self, other: object) -> int:
        return operator.index(cast(SupportsIndex, other)) + int(self) if _is_count(other) else NotImplemented

    def __sub__(self, other: object) -> int:
        return int(self) - operator.index(cast(SupportsIndex, other)) if _is_count(other) else NotImplemented

    def __rsub__(self, other: object) -> int:
        return operator.index(cast(SupportsIndex, other)) - int(self) if _is_count(other) else NotImplemented

    def __format__(self, spec: str) -> str:
        """`f"{result}"` and `f"{result:,}"` format the headline count."""
        return format(int(self), spec)

    def details(self) -> dict[str, Any]:
        """The result in pymongo's `BulkWriteError.details` shape, indexes global."""
        return {
            "nInserted": self.inserted,
            "nUpserted": self.upserted,
            "nMatched": self.matched,
            "nModified": self.modified,
            "nRemoved": self.deleted,
            "upserted": [{"index": i, "_id": _id} for i, _id in sorted(self.upserted_ids.items())],
            "writeErrors": [error.as_write_error() for error in sorted(self.errors, key=_by_index)],
            "writeConcernErrors": [],
        }

    def summary(self) -> str:
        """One line for logs and the command line."""
        counts = {
            "rows": self.rows,
            "inserted": self.inserted,
            "matched": self.matched,
            "modified": self.modified,
            "upserted": self.upserted,
            "deleted": self.deleted,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "failed": self.failed,
        }
        shown = ", ".join(f"{name} {value}" for name, value in counts.items() if value)
        return f"{self.operation}: {shown or 'nothing to do'} in {self.elapsed:.2f}s"


def _is_count(value: object) -> bool:
    return isinstance(value, int | BulkResult) and not isinstance(value, bool)


def _by_index(error: RowError) -> int:
    return error.index
