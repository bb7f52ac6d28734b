"""`OperationResult`: the one frozen result every operation ends with (import, update, delete,
undo, cleanup, sync, export, edit). The command's summary and the job's message
(`jobs.summaries`), the job row and the result page all render it.

Its `counts` are typed per kind of operation (`ImportCounts`, `SyncCounts`, ...), each a frozen
dataclass that also reads as a mapping (for the job row); they reconcile with `rows` as each
operation defines (an import: rows read = inserted + updated + unchanged + deleted + rejected +
failed). The server's write-concern errors are kept as it sent them; a result with any is not a
success.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar, cast

from bulkadmin.bulk.results import BatchStat, BulkResult, Outcome, WriteConcernError


class Counts(Mapping[str, int]):
    """What became of the rows an operation read; each kind declares its own counts as the
    fields of a frozen dataclass, in the order they are shown. Reads as a mapping of count name
    to value (the job row stores it so)."""

    rows: int

    @property
    def failed(self) -> int:
        """Rows that failed (none for kinds that do not count failures)."""
        return 0

    def __getitem__(self, name: str) -> int:
        if name not in self._names():
            raise KeyError(name)
        return int(getattr(self, name))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        return tuple(item.name for item in dataclasses.fields(self))  # type: ignore[arg-type]

    def plus(self, earlier: Mapping[str, int]) -> Self:
        """These counts with those of an earlier run added."""
        return dataclasses.replace(self, **{name: self[name] + earlier.get(name, 0) for name in self})  # type: ignore[type-var]


@dataclass(frozen=True, eq=False)
class BulkCounts(Counts):
    """A bulk update, delete or undo: documents matched, modified, deleted, restored."""

    rows: int = 0
    inserted: int = 0
    matched: int = 0
    modified: int = 0
    upserted: int = 0
    deleted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


@dataclass(frozen=True, eq=False)
class UpdateCounts(BulkCounts):
    """A composed bulk update: also the documents whose update the model rejected."""

    rejected: int = 0


@dataclass(frozen=True, eq=False)
class CleanupCounts(BulkCounts):
    """A cleanup run: an archived document counts as deleted, and as archived."""

    archived: int = 0


@dataclass(frozen=True, eq=False)
class ImportCounts(Counts):
    """An import: rows read = inserted + updated + unchanged + deleted + rejected + failed."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    failed: int = 0


@dataclass(frozen=True, eq=False)
class SyncCounts(Counts):
    """A sync: records read from the feed's pages and what became of them."""

    rows: int = 0
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    marked_missing: int = 0
    pages: int = 0
    failed: int = 0


@dataclass(frozen=True, eq=False)
class EditCounts(Counts):
    """A single-document edit: one row, added, saved, deleted or left unchanged."""

    rows: int = 1
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


@dataclass(frozen=True, eq=False)
class ExportCounts(Counts):
    """An export: documents written."""

    rows: int = 0


C = TypeVar("C", bound=Counts)
D = TypeVar("D", bound=Counts)


@dataclass(frozen=True)
class OperationResult(Generic[C]):
    """What an operation did: counts, the first errors (global indexes), the server's
    write-concern errors, per-batch figures, operation-specific details, and the status a job
    of it ends with."""

    operation: str
    counts: C
    target: str = ""
    errors: tuple[Any, ...] = ()
    error_count: int = 0
    write_concern_errors: tuple[WriteConcernError, ...] = ()
    batches: tuple[BatchStat, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0
    dry_run: bool = False
    status: Outcome = Outcome.SUCCEEDED
    job_id: int | None = None

    @property
    def rows(self) -> int:
        return self.counts.rows

    @property
    def failed(self) -> int:
        return self.counts.failed

    @property
    def ok(self) -> bool:
        return self.status == Outcome.SUCCEEDED

    @property
    def rows_this_run(self) -> int:
        return int(self.details.get("rows_this_run", self.rows))

    @property
    def rows_per_second(self) -> float:
        return self.rows_this_run / self.elapsed if self.elapsed > 0 else 0.0

    def with_counts(self, counts: D) -> OperationResult[D]:
        """The same result with other counts (a kind that counts more than the bulk service)."""
        return cast(OperationResult[D], dataclasses.replace(self, counts=counts))  # type: ignore[arg-type]

    def for_job(self, job_id: int) -> Self:
        """The same result, naming the job that recorded it."""
        return dataclasses.replace(self, job_id=job_id)


def from_bulk(
    result: BulkResult, *, target: str = "", details: Mapping[str, Any] | None = None, status: Outcome | None = None
) -> OperationResult[BulkCounts]:
    """A bulk service result as an operation's result."""
    names = (item.name for item in dataclasses.fields(BulkCounts))
    return OperationResult(
        operation=result.operation,
        target=target,
        counts=BulkCounts(**{name: getattr(result, name) for name in names}),
        errors=result.errors,
        error_count=len(result.errors),
        write_concern_errors=result.write_concern_errors,
        batches=result.batches,
        details=dict(details or {}),
        elapsed=result.elapsed,
        dry_run=result.dry_run,
        status=status or bulk_status(result),
    )


def bulk_status(result: BulkResult) -> Outcome:
    """Succeeded when no row failed and every write concern was met; partially failed when
    some rows were written."""
    if not result.failed:
        return concerned(Outcome.SUCCEEDED, result.write_concern_errors)
    written = result.inserted + result.updated + result.modified + result.deleted + result.upserted
    return Outcome.PARTIAL if written or result.unchanged else Outcome.FAILED


def concerned(status: Outcome, write_concern_errors: tuple[WriteConcernError, ...]) -> Outcome:
    """`status`, made partial when it says succeeded but the server reported write-concern
    errors: the rows were written, but not confirmed as the write concern asked."""
    return Outcome.PARTIAL if status == Outcome.SUCCEEDED and write_concern_errors else status
