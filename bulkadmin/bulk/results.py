"""`BulkResult`: the one frozen result every bulk function returns, its row errors and the
server's write-concern errors."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, SupportsIndex, cast

VALIDATION_FAILED = 121  # MongoDB's DocumentValidationFailure code, used for rejected rows


class Outcome(StrEnum):
    """How an operation ended, as its job's status stores it."""

    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some rows not written, or written without the write concern's confirmation
    FAILED = "failed"


class RowOutcome(StrEnum):
    """What an upsert by key did with one row; each is also the name of the count it adds to."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a row."""

    field: str
    message: str


@dataclass(frozen=True)
class RowError:
    """A row that was not written: rejected by validation or failed by the server.

    `index` is the 0-based position in the caller's whole input, never within a batch; a row read
    from a file also has `line`, the 1-based line it starts on (header counted; None inside a JSON
    array)."""

    index: int
    message: str
    code: int = VALIDATION_FAILED
    kind: str = "validation"  # "validation" or "write"
    field: str | None = None
    field_errors: tuple[FieldError, ...] = ()
    line: int | None = None

    @classmethod
    def from_row(cls, stored: Mapping[str, Any]) -> RowError:
        """An error as a job row keeps it (`dataclasses.asdict`); also the shape older import
        jobs kept (`row`, 1-based, and `kind` "rejected" or "failed")."""
        if "row" in stored:
            kind = "validation" if stored.get("kind") == "rejected" else "write"
            code = VALIDATION_FAILED if kind == "validation" else 0
            return cls(stored["row"] - 1, stored["message"], code, kind, stored.get("field"), line=stored.get("line"))
        found = tuple(FieldError(**item) for item in stored.get("field_errors") or ())
        return cls(**{**stored, "field_errors": found})

    @property
    def row(self) -> int:
        """The row's 1-based position in the input."""
        return self.index + 1

    @property
    def outcome(self) -> str:
        """The count the row adds to: "rejected" (invalid) or "failed" (its write failed)."""
        return "rejected" if self.kind == "validation" else "failed"

    @property
    def where(self) -> str:
        """Where the row is, for a person: its line in the file, else its position."""
        return f"line {self.line}" if self.line is not None else f"item {self.row}"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def as_write_error(self) -> dict[str, Any]:
        """The error in pymongo's `writeErrors` shape."""
        return {"index": self.index, "code": self.code, "errmsg": self.message, "field": self.field}


@dataclass(frozen=True)
class WriteConcernError:
    """What the server said when a write was applied but its write concern was not satisfied
    (e.g. `w: "majority"` timing out): the rows were written on the primary, their durability
    is not confirmed. It concerns a whole write command, so it has no row index."""

    code: int
    message: str
    code_name: str = ""
    err_info: Mapping[str, Any] = field(default_factory=dict, hash=False)
    error_labels: tuple[str, ...] = ()

    @classmethod
    def from_reply(cls, reply: Mapping[str, Any]) -> WriteConcernError:
        """One entry of pymongo's `writeConcernErrors` (a reply's `writeConcernError`)."""
        return cls(
            code=int(reply.get("code", 0)),
            message=str(reply.get("errmsg", "")),
            code_name=str(reply.get("codeName", "")),
            err_info=dict(reply.get("errInfo") or {}),
            error_labels=tuple(reply.get("errorLabels") or ()),
        )

    def as_reply(self) -> dict[str, Any]:
        """The error in pymongo's `writeConcernErrors` shape, keys in the server's order."""
        reply = {
            "code": self.code,
            "codeName": self.code_name,
            "errmsg": self.message,
            "errInfo": dict(self.err_info),
            "errorLabels": list(self.error_labels),
        }
        return {key: value for key, value in reply.items() if value or key in ("code", "errmsg")}

    def __str__(self) -> str:
        name = f" {self.code_name}" if self.code_name else ""
        return f"code {self.code}{name}: {self.message}"


def describe_write_concern_errors(errors: Iterable[WriteConcernError]) -> str:
    """One clause naming the write-concern errors (empty when there are none), for summaries."""
    errors = tuple(errors)
    if not errors:
        return ""
    kinds = list(dict.fromkeys(str(error) for error in errors))
    return f"write concern not met for {len(errors)} write(s): {'; '.join(kinds)}"


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
    write_concern_errors: tuple[WriteConcernError, ...] = ()
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
        """No row failed and every write's write concern was satisfied."""
        return not self.errors and not self.write_concern_errors

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
            "writeConcernErrors": [error.as_reply() for error in self.write_concern_errors],
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
        concern = describe_write_concern_errors(self.write_concern_errors)
        concern = f"; {concern}" if concern else ""
        return f"{self.operation}: {shown or 'nothing to do'} in {self.elapsed:.2f}s{concern}"


def _is_count(value: object) -> bool:
    return isinstance(value, int | BulkResult) and not isinstance(value, bool)


def _by_index(error: RowError) -> int:
    return error.index
