"""The bulk service's logic, free of I/O and written once for the sync and async drivers.

A plan turns one batch of rows into a generator of I/O requests (`Find`, `Write`); the driver
executes each request and sends back its outcome. Counts, global error indexes and
ordered/unordered semantics across batches all live here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.database import Database

from bulkadmin.bulk.batching import Row, check_batch_size
from bulkadmin.bulk.results import BatchStat, BulkResult, RowError
from bulkadmin.bulk.specs import (
    RequestBuilder,
    WriteRequest,
    delete_request,
    insert_request,
    restore_request,
    update_request,
    write_request,
)
from bulkadmin.bulk.validation import RowInvalid, validate_document, validate_partial
from bulkadmin.core.documents import MongoModel, get_path, stored_key, to_storage, unflatten
from bulkadmin.core.exceptions import BulkWriteError, InvalidSpec
from bulkadmin.core.safety import coerce_value
from bulkadmin.core.types import Document

DUPLICATE_KEY = 11000
UPSERT_MODES = ("merge", "replace", "delete")


@dataclass(frozen=True)
class Find:
    """Read the documents matching `filter`; the outcome is a list of documents."""

    filter: dict[str, Any]


@dataclass(frozen=True)
class Write:
    """Run `requests` with `bulk_write`; the outcome is pymongo's `bulk_api_result` dict."""

    requests: list[WriteRequest]
    ordered: bool


Steps = Generator[Find | Write, Any, None]
Prepared = tuple[int, Any]  # (global index, the row's request or pending row, or the error that rejected it)


@dataclass
class Tally:
    """Mutable counts gathered while a plan runs; frozen into a `BulkResult` at the end."""

    operation: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    upserted_ids: dict[int, Any] = field(default_factory=dict)
    batches: list[BatchStat] = field(default_factory=list)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def reject(self, index: int, error: Exception) -> None:
        field_errors = getattr(error, "field_errors", ())
        field_name = getattr(error, "field", None)
        self.errors.append(RowError(index, str(error), field=field_name, field_errors=field_errors))

    def fail(self, index: int, write_error: dict[str, Any]) -> None:
        code = write_error.get("code", 0)
        self.errors.append(RowError(index, write_error.get("errmsg", ""), code=code, kind="write"))

    def result(self, elapsed: float, dry_run: bool = False) -> BulkResult:
        return BulkResult(
            operation=self.operation,
            **self.counts,
            upserted_ids=dict(self.upserted_ids),
            errors=tuple(sorted(self.errors, key=lambda e: e.index)),
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

    def _accepted(self, prepared: list[Prepared]) -> list[Any]:
        """Record the rejected rows of a prepared batch (stopping at the first under `ordered`);
        return the values of the rows before that point that were accepted."""
        accepted = []
        for position, (index, value) in enumerate(prepared):
            if not isinstance(value, Exception):
                accepted.append((index, value))
            elif self._rejected(index, value, len(prepared) - position - 1):
                break
        return accepted

    def batch_done(self, rows: int, seconds: float) -> None:
        self.rows_done += rows
        self.tally.add("rows", rows)
        self.tally.batches.append(BatchStat(len(self.tally.batches) + 1, rows, seconds))

    def finish(self, elapsed: float) -> BulkResult:
        return self.tally.result(elapsed, self.dry_run)

    def _rejected(self, index: int, error: Exception, remaining: int) -> bool:
        """Record a rejected row; under `ordered`, skip the `remaining` rows and stop."""
        self.tally.reject(index, error)
        if self.ordered:
            self.tally.add("skipped", remaining)
            self.stopped = True
        return self.stopped

    def _written(self, outcome: dict[str, Any], op_rows: list[int]) -> set[int]:
        """Record a write's failures; return the positions in `op_rows` that did not succeed."""
        failed = {error["index"] for error in outcome.get("writeErrors", [])}
        for error in outcome.get("writeErrors", []):
            self.tally.fail(op_rows[error["index"]], error)
        not_done = set(failed)
        if self.ordered and failed:
            not_done |= set(range(min(failed) + 1, len(op_rows)))
            self.tally.add("skipped", len(op_rows) - min(failed) - 1)
            self.stopped = True
        return not_done


class OpsPlan(Plan):
    """Each row becomes one write request (insert, update_many, delete_many, or any op)."""

    def __init__(self, model: type[MongoModel], operation: str, to_request: RequestBuilder, **options: Any) -> None:
        self.operation = operation
        super().__init__(model, **options)
        self.to_request = to_request

    def prepare_row(self, index: int, item: Any) -> WriteRequest:
        return self.to_request(item)

    def batch(self, prepared: list[Prepared]) -> Steps:
        accepted = self._accepted(prepared)
        requests = [request for _, request in accepted]
        op_rows = [index for index, _ in accepted]
        if requests:
            outcome = yield Write(requests, self.ordered)
            self._record(outcome, op_rows)

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


@dataclass(frozen=True)
class Pending:
    """A validated upsert row waiting for its key to be resolved."""

    index: int
    document: dict[str, Any]
    key: tuple[Any, ...]


class UpsertPlan(Plan):
    """Match rows to existing documents by key with one `$in` read per batch, then insert new
    ones and write changed ones by `_id`, counting created / updated / unchanged exactly."""

    operation = "upsert"

    def __init__(
        self,
        model: type[MongoModel],
        *,
        key_fields: tuple[str, ...],
        mode: str,
        on_pre_images: Callable[[list[dict[str, Any]]], None] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, **options)
        if mode not in UPSERT_MODES:
            raise InvalidSpec(f"mode must be one of {', '.join(UPSERT_MODES)}, got {mode!r}.", field="mode")
        if not key_fields:
            raise InvalidSpec(f"{model.__name__} declares no key_fields; pass key_fields=.", field="key_fields")
        self.keys = tuple(stored_key(model, name) for name in key_fields)
        self.mode = mode
        self.on_pre_images = on_pre_images

    def batch(self, prepared: list[Prepared]) -> Steps:
        pending = [row for _, row in self._accepted(prepared)]
        groups = list(split_on_duplicate_keys(pending))
        for number, group in enumerate(groups):
            yield from self._upsert(group, retry=True)
            if self.stopped:
                self.tally.add("skipped", sum(len(rest) for rest in groups[number + 1 :]))
                break

    def prepare_row(self, index: int, item: Any) -> Pending:
        validate = validate_document if self.mode == "replace" else validate_partial
        document = validate(self.model, item)
        missing = [key for key in self.keys if key not in document]
        if missing:
            raise InvalidSpec(f"key field {missing[0]!r} is missing.", field=missing[0])
        return Pending(index, document, self._key(document))

    def _key(self, document: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(_hashable(to_storage(document.get(key))) for key in self.keys)

    def _key_filter(self, group: list[Pending]) -> dict[str, Any]:
        if len(self.keys) == 1:
            return {self.keys[0]: {"$in": [row.document[self.keys[0]] for row in group]}}
        return {"$or": [{key: row.document[key] for key in self.keys} for row in group]}

    def _upsert(self, group: list[Pending], *, retry: bool) -> Steps:
        existing = yield Find(self._key_filter(group))
        current = {self._key(document): document for document in existing}
        requests, op_rows, kinds, pre_images = [], [], [], []
        for position, row in enumerate(group):
            try:
                kind, request, row = self._request_for(row, current.get(row.key))
            except (RowInvalid, InvalidSpec) as error:
                if self._rejected(row.index, error, len(group) - position - 1):
                    break
                continue
            if kind == "unchanged":
                self.tally.add("unchanged")
                continue
            if kind != "created":
                pre_images.append(current[row.key])
            requests.append(request)
            op_rows.append(row)
            kinds.append(kind)
        if pre_images and self.on_pre_images and not self.dry_run:
            self.on_pre_images(pre_images)
        if self.dry_run or not requests:
            self._count(kinds, op_rows, not_done=set())
            return
        outcome = yield Write(requests, self.ordered)
        yield from self._settle(outcome, op_rows, kinds, retry)

    def _settle(self, outcome: dict[str, Any], op_rows: list[Pending], kinds: list[str], retry: bool) -> Steps:
        """Count a write's outcome; re-run rows whose insert lost a race for their key."""
        errors = outcome.get("writeErrors", [])
        raced = {e["index"] for e in errors if e.get("code") == DUPLICATE_KEY and kinds[e["index"]] == "created"}
        if retry and raced:
            first = min(raced)
            again = raced | (set(range(first + 1, len(op_rows))) if self.ordered else set())
            outcome = {**outcome, "writeErrors": [e for e in errors if e["index"] not in again]}
            self._count(kinds, op_rows, not_done=self._written_rows(outcome, op_rows) | again)
            yield from self._upsert([op_rows[i] for i in sorted(again)], retry=False)
            return
        self._count(kinds, op_rows, not_done=self._written_rows(outcome, op_rows))

    def _written_rows(self, outcome: dict[str, Any], op_rows: list[Pending]) -> set[int]:
        return self._written(outcome, [row.index for row in op_rows])

    def _count(self, kinds: list[str], op_rows: list[Pending], not_done: set[int]) -> None:
        for position, kind in enumerate(kinds):
            if position in not_done:
                continue
            self.tally.add(kind)
            if kind == "created" and not self.dry_run:
                self.tally.add("inserted")
                self.tally.upserted_ids[op_rows[position].index] = op_rows[position].document["_id"]

    def _request_for(self, row: Pending, current: dict[str, Any] | None) -> tuple[str, Any, Pending]:
        """What to do with a row: ("created" | "updated" | "deleted" | "unchanged", request, row);
        a created row comes back with its whole validated document."""
        if self.mode == "delete":
            if current is None:
                return "unchanged", None, row
            return "deleted", DeleteOne({"_id": current["_id"]}), row
        if current is None:
            if self.mode == "merge":
                row = Pending(row.index, validate_document(self.model, unflatten(row.document)), row.key)
            return "created", InsertOne(row.document), row
        stored = to_storage(current)
        if self.mode == "replace":
            document = {**row.document, "_id": current["_id"]}
            if document == stored:
                return "unchanged", None, row
            return "updated", ReplaceOne({"_id": current["_id"]}, document), row
        changes = merge_changes(self.model, stored, row.document)
        if not changes:
            return "unchanged", None, row
        return "updated", UpdateOne({"_id": current["_id"]}, {"$set": changes}), row


_MISSING = object()


def merge_changes(model: type[MongoModel], stored: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
    """The `$set` merging a partial document (sub-fields as dotted paths) into a stored one: only
    changed values; sub-fields whose parent is not stored as an object set the whole parent,
    validated with its model's defaults (MongoDB cannot set a field inside a null)."""
    changes: dict[str, Any] = {}
    orphans: dict[str, dict[str, Any]] = {}
    for path, value in partial.items():
        parent = _missing_parent(stored, path)
        if parent:
            orphans.setdefault(parent, {})[path[len(parent) + 1 :]] = value
        elif path != "_id" and get_path(stored, path, _MISSING) != value:
            changes[path] = value
    for parent, values in orphans.items():
        changes[parent] = coerce_value(model, parent, unflatten(values))
    return changes


def _missing_parent(stored: dict[str, Any], path: str) -> str:
    """The first ancestor of a dotted path that is not an object in `stored`, or ''."""
    parts = path.split(".")
    for end in range(1, len(parts)):
        prefix = ".".join(parts[:end])
        if not isinstance(get_path(stored, prefix), dict):
            return prefix
    return ""


def split_on_duplicate_keys(rows: Iterable[Pending]) -> Iterable[list[Pending]]:
    """Cut a batch wherever a key repeats, so a later row sees the earlier row's write."""
    group: list[Pending] = []
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        if row.key in seen:
            yield group
            group, seen = [], set()
        group.append(row)
        seen.add(row.key)
    if group:
        yield group


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    return value


ProgressCallback = Callable[[int, int | None], None]


class BulkOptions(TypedDict, total=False):
    """The keyword-only options of every bulk function, sync and async."""

    batch_size: int  # rows sent per server call; default 1000
    ordered: bool  # stop at the first failed row, across batches; default True
    raise_on_error: bool  # raise BulkWriteError when any row failed; default True
    progress: ProgressCallback | None  # called after each batch with (rows done, total or None)
    db: Database[Document] | AsyncDatabase[Document] | None  # the database to write to; default: the configured one


DEFAULT_OPTIONS: BulkOptions = {
    "batch_size": 1000,
    "ordered": True,
    "raise_on_error": True,
    "progress": None,
    "db": None,
}


def with_defaults(options: BulkOptions, **defaults: Any) -> BulkOptions:
    """`options` completed with the defaults; an unknown option is a TypeError naming it."""
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        raise TypeError(f"Unknown option {sorted(unknown)[0]!r}; options are {', '.join(DEFAULT_OPTIONS)}.")
    complete = {**DEFAULT_OPTIONS, **defaults, **options}
    check_batch_size(complete["batch_size"])
    return cast(BulkOptions, complete)


class Clock:
    """Times a run and its batches and reports progress after each batch."""

    def __init__(self, plan: Plan, total: int | None, progress: ProgressCallback | None) -> None:
        self.plan, self.total, self.progress = plan, total, progress
        self.started = time.perf_counter()

    def batch_finished(self, rows: int, seconds: float) -> None:
        self.plan.batch_done(rows, seconds)
        if self.progress is not None:
            self.progress(self.plan.rows_done, self.total)

    def conclude(self, raise_on_error: bool) -> BulkResult:
        """Freeze the result; raise `BulkWriteError` carrying it when rows failed."""
        result = self.plan.finish(time.perf_counter() - self.started)
        if raise_on_error and result.errors:
            raise BulkWriteError(result)
        return result


def build_plan(kind: str, model: type[MongoModel], **options: Any) -> Plan:
    """The plan behind each public bulk function (shared by the sync and async APIs)."""
    if kind == "upsert":
        return UpsertPlan(model, **options)
    builders = {
        "insert": insert_request,
        "update": update_request,
        "delete": delete_request,
        "write": write_request,
        "restore": restore_request,
    }
    return OpsPlan(model, kind, builders[kind](model), **options)


def resolve_key_fields(model: type[MongoModel], key_fields: Iterable[str] | None) -> tuple[str, ...]:
    """The key fields to match on: those given, else the model's declared `key_fields`."""
    keys = tuple(key_fields) if key_fields else model.key_fields
    for name in keys:
        stored_key(model, name)
    return keys
