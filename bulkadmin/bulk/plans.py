"""The bulk service's logic, free of I/O and written once for the sync and async drivers.

A plan turns one batch of rows into a generator of I/O requests (`Find`, `Write`); the driver
executes each request and sends back its outcome. Counts, global error indexes, the server's
write-concern errors and ordered/unordered semantics across batches all live here.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import bson.errors
import pymongo.errors
from pymongo import InsertOne

from bulkadmin.bulk.batching import Row
from bulkadmin.bulk.results import VALIDATION_FAILED, BatchStat, BulkResult, FieldError, RowError, WriteConcernError
from bulkadmin.bulk.specs import insert_request
from bulkadmin.bulk.validation import RowInvalid, validate_documents
from bulkadmin.core.documents import MongoModel, stored_key
from bulkadmin.core.exceptions import InvalidSpec

DUPLICATE_KEY = 11000
REFUSED_ROW = 2  # MongoDB's BadValue: a row the driver or server refused without a code of its own

# What a write refused as a whole raises besides `BulkWriteError`: the server failing the command,
# or the driver unable to encode a document. Connection errors are not here: they end the run.
REFUSED_WHOLE: tuple[type[Exception], ...] = (
    pymongo.errors.OperationFailure,
    bson.errors.InvalidDocument,
    OverflowError,
    UnicodeEncodeError,
)


@dataclass(frozen=True)
class Find:
    """Read the documents matching `filter`; the outcome is a list of documents."""

    filter: dict[str, Any]


@dataclass(frozen=True)
class Write:
    """Run `requests` with `bulk_write`; the outcome is pymongo's `bulk_api_result` dict."""

    requests: list[Any]
    ordered: bool


@dataclass(frozen=True)
class WriteFailed:
    """The outcome of a `Write` the driver or server refused as a whole (not a `BulkWriteError`):
    the plan splits the batch to find the rows at fault."""

    message: str
    code: int


@dataclass(frozen=True)
class Cut:
    """Under `ordered`, the first rejected row of a batch and the rows after it: they wait for
    the writes of the rows before it, since a failed write comes first."""

    index: int
    error: Exception
    remaining: int


def write_failed(error: Exception) -> WriteFailed:
    """The outcome of a write refused as a whole by `error` (one of `REFUSED_WHOLE`)."""
    code = getattr(error, "code", None)
    return WriteFailed(str(error) or type(error).__name__, code if isinstance(code, int) else REFUSED_ROW)


Steps = Generator[Find | Write, Any, None]
Outcome = Generator[Find | Write, Any, dict[str, Any]]
Prepared = tuple[int, Any]  # (global index, the row's request or pending row, or the error that rejected it)


@dataclass
class Tally:
    """Mutable counts gathered while a plan runs; frozen into a `BulkResult` at the end."""

    operation: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    write_concern_errors: list[WriteConcernError] = field(default_factory=list)
    upserted_ids: dict[int, Any] = field(default_factory=dict)
    batches: list[BatchStat] = field(default_factory=list)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def reject(self, index: int, error: Exception) -> None:
        field_errors = getattr(error, "field_errors", ())
        field_name = getattr(error, "field", None)
        code, kind = (error.code, error.kind) if isinstance(error, RowInvalid) else (VALIDATION_FAILED, "validation")
        self.errors.append(RowError(index, str(error), code, kind, field_name, field_errors))

    def fail(self, index: int, write_error: dict[str, Any]) -> None:
        code = write_error.get("code", 0)
        self.errors.append(RowError(index, write_error.get("errmsg", ""), code=code, kind="write"))

    def concern(self, outcome: dict[str, Any]) -> None:
        """Keep a write's `writeConcernErrors`, in the order the writes ran (as pymongo merges them)."""
        self.write_concern_errors.extend(WriteConcernError.from_reply(e) for e in outcome.get("writeConcernErrors", []))

    def result(self, elapsed: float, dry_run: bool = False) -> BulkResult:
        return BulkResult(
            operation=self.operation,
            **self.counts,
            upserted_ids=dict(self.upserted_ids),
            errors=tuple(sorted(self.errors, key=lambda e: e.index)),
            write_concern_errors=tuple(self.write_concern_errors),
            batches=tuple(self.batches),
            elapsed=elapsed,
            dry_run=dry_run,
        )


class Plan:
    """Shared state of every plan: the tally, ordered semantics and the stop flag."""

    operation = ""

    def __init__(self, model: type[MongoModel], *, ordered: bool, dry_run: bool = False) -> None:
        self.model = model
        self.ordered = ordered
        self.dry_run = dry_run
        self.stopped = False
        self.stopped_at = -1  # the global index of the failed write that stopped an ordered run
        self.rows_done = 0
        self.tally = Tally(self.operation)

    def prepare(self, rows: list[Row]) -> list[Prepared]:
        """Validate a batch without touching the plan's state, so it can run while the previous
        batch is being written. Each row becomes its request (or pending row) or its error."""
        return [(index, self._attempt(index, item)) for index, item in rows]

    def prepare_row(self, index: int, item: Any) -> Any:
        raise NotImplementedError

    def batch(self, prepared: list[Prepared]) -> Steps:
        raise NotImplementedError

    def _attempt(self, index: int, item: Any) -> Any:
        try:
            return self.prepare_row(index, item)
        except (RowInvalid, InvalidSpec) as error:
            return error
        except RecursionError:
            return RowInvalid((FieldError("", "the row is nested too deeply to process"),))

    def _accepted(self, prepared: list[Prepared]) -> tuple[list[Any], Cut | None]:
        """The accepted rows of a prepared batch. Unordered, rejected rows are recorded at once;
        ordered, the first one ends the batch and comes back as a `Cut` to settle after the
        writes of the rows before it (`_conclude`)."""
        accepted = []
        for position, (index, value) in enumerate(prepared):
            if not isinstance(value, Exception):
                accepted.append((index, value))
            elif self.ordered:
                return accepted, Cut(index, value, len(prepared) - position - 1)
            else:
                self.tally.reject(index, value)
        return accepted, None

    def _conclude(self, cut: Cut | None) -> None:
        """Settle an ordered batch's first rejected row: it is the run's first failure unless a
        write before it failed, in which case it and the rows after it are skipped."""
        if cut is None:
            return
        if self.stopped:
            self.tally.add("skipped", cut.remaining + 1)
            return
        self.tally.reject(cut.index, cut.error)
        self.tally.add("skipped", cut.remaining)
        self.stopped = True

    def skip_unread(self, rows: int) -> None:
        """Count rows read after an ordered run stopped: skipped, never validated or written."""
        self.rows_done += rows
        self.tally.add("rows", rows)
        self.tally.add("skipped", rows)

    def _write(self, requests: list[Any]) -> Outcome:
        """Write `requests`; when the batch is refused as a whole, split it in halves until the
        refused rows are alone, write the others and fail those with the refusal's message."""
        outcome = yield Write(requests, self.ordered)
        if not isinstance(outcome, WriteFailed):
            return cast(dict[str, Any], outcome)
        if len(requests) == 1:
            refused: dict[str, Any] = {"writeErrors": [{"index": 0, "code": outcome.code, "errmsg": outcome.message}]}
            return refused
        middle = len(requests) // 2
        first = yield from self._write(requests[:middle])
        if self.ordered and first.get("writeErrors"):
            return first
        second = yield from self._write(requests[middle:])
        return merge_outcomes(first, second, middle)

    def batch_done(self, rows: int, seconds: float) -> None:
        self.rows_done += rows
        self.tally.add("rows", rows)
        self.tally.batches.append(BatchStat(len(self.tally.batches) + 1, rows, seconds))

    def finish(self, elapsed: float) -> BulkResult:
        return self.tally.result(elapsed, self.dry_run)

    def _written(self, outcome: dict[str, Any], op_rows: list[int]) -> set[int]:
        """Record a write's failures (row errors and write-concern errors); return the positions
        in `op_rows` that did not succeed."""
        self.tally.concern(outcome)
        failed = {error["index"] for error in outcome.get("writeErrors", [])}
        for error in outcome.get("writeErrors", []):
            self.tally.fail(op_rows[error["index"]], error)
        not_done = set(failed)
        if self.ordered and failed:
            not_done |= set(range(min(failed) + 1, len(op_rows)))
            self.tally.add("skipped", len(op_rows) - min(failed) - 1)
            self.stopped = True
            self.stopped_at = op_rows[min(failed)]
        return not_done


class OpsPlan(Plan):
    """Each row becomes one write request (insert, update_many, delete_many, or any op)."""

    def __init__(
        self, model: type[MongoModel], operation: str, to_request: Callable[[Any], Any], **options: Any
    ) -> None:
        self.operation = operation
        super().__init__(model, **options)
        self.to_request = to_request

    def prepare_row(self, index: int, item: Any) -> Any:
        return self.to_request(item)

    def batch(self, prepared: list[Prepared]) -> Steps:
        accepted, cut = self._accepted(prepared)
        if accepted:
            outcome = yield from self._write([request for _, request in accepted])
            self._record(outcome, [index for index, _ in accepted])
        self._conclude(cut)

    def _record(self, outcome: dict[str, Any], op_rows: list[int]) -> None:
        for name, key in (
            ("inserted", "nInserted"),
            ("matched", "nMatched"),
            ("modified", "nModified"),
            ("upserted", "nUpserted"),
            ("deleted", "nRemoved"),
        ):
            self.tally.add(name, outcome.get(key, 0))
        for upserted in outcome.get("upserted", []):
            self.tally.upserted_ids[op_rows[upserted["index"]]] = upserted["_id"]
        self._written(outcome, op_rows)


class InsertPlan(OpsPlan):
    """Inserts, a batch's documents validated together (`validate_documents`: one pydantic call,
    the same documents and errors as row by row)."""

    def __init__(self, model: type[MongoModel], **options: Any) -> None:
        super().__init__(model, "insert", insert_request(model), **options)

    def prepare(self, rows: list[Row]) -> list[Prepared]:
        try:
            checked = validate_documents(self.model, [item for _, item in rows])
        except RecursionError:  # an object nested past Python's stack: each row settles its own
            return super().prepare(rows)
        return [
            (index, value if isinstance(value, RowInvalid) else InsertOne(value))
            for (index, _), value in zip(rows, checked, strict=True)
        ]


def merge_outcomes(first: dict[str, Any], second: dict[str, Any], offset: int) -> dict[str, Any]:
    """Two `bulk_api_result`s of consecutive slices as one; the second's indexes shifted, the
    write-concern errors of both kept in order."""
    merged: dict[str, Any] = {
        key: first.get(key, 0) + second.get(key, 0)
        for key in ("nInserted", "nMatched", "nModified", "nUpserted", "nRemoved")
    }
    merged["upserted"] = first.get("upserted", []) + [
        {**item, "index": item["index"] + offset} for item in second.get("upserted", [])
    ]
    merged["writeErrors"] = first.get("writeErrors", []) + [
        {**item, "index": item["index"] + offset} for item in second.get("writeErrors", [])
    ]
    merged["writeConcernErrors"] = first.get("writeConcernErrors", []) + second.get("writeConcernErrors", [])
    return merged


ProgressCallback = Callable[[int, int | None], None]


def resolve_key_fields(model: type[MongoModel], key_fields: Iterable[str] | None) -> tuple[str, ...]:
    """The key fields to match on: those given, else the model's declared `key_fields`."""
    keys = tuple(key_fields) if key_fields else model.key_fields
    for name in keys:
        stored_key(model, name)
    return keys
