"""The bulk functions' options, their run clock and the plan behind each function (shared by the
sync and async drivers)."""

from __future__ import annotations

import time
from typing import Any, TypedDict, cast

from bulkadmin.bulk.batching import check_batch_size
from bulkadmin.bulk.plans import InsertPlan, OpsPlan, Plan, ProgressCallback, resolve_key_fields
from bulkadmin.bulk.results import BulkResult
from bulkadmin.bulk.specs import delete_request, ids_request, restore_request, update_request, write_request
from bulkadmin.bulk.upserts import UpsertPlan
from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import BulkWriteError


class BulkOptions(TypedDict, total=False):
    """The keyword-only options of every bulk function, sync and async."""

    batch_size: int  # rows sent per server call; default DEFAULT_BATCH_SIZE (1000)
    ordered: bool  # stop at the first failed row, across batches; default True
    raise_on_error: bool  # raise BulkWriteError when a row failed or a write concern failed; default True
    progress: ProgressCallback | None  # called after each batch with (rows done, total or None)
    db: Any  # the database to write to (pymongo's, sync or async); default: the configured one


DEFAULT_OPTIONS: BulkOptions = {
    "batch_size": DEFAULT_BATCH_SIZE,
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
    complete = cast(BulkOptions, {**DEFAULT_OPTIONS, **defaults, **options})
    check_batch_size(complete["batch_size"])
    return complete


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
        """Freeze the result; raise `BulkWriteError` carrying it when rows failed or the server
        reported write-concern errors (as pymongo's bulk API does)."""
        result = self.plan.finish(time.perf_counter() - self.started)
        if raise_on_error and not result.ok:
            raise BulkWriteError(result)
        return result


def raise_failed_rows(result: BulkResult) -> BulkResult:
    """`result` when no row failed, else `BulkWriteError` carrying it. For callers that end on a
    failed row but report the server's write-concern errors with their own result."""
    if result.errors:
        raise BulkWriteError(result)
    return result


def build_plan(kind: str, model: type[MongoModel], **options: Any) -> Plan:
    """The plan behind each public bulk function (shared by the sync and async APIs). Besides
    the functions' kinds, `update_ids` / `delete_ids` write one batch of stored `_id`s per row
    with an `update` translated once (see `specs.ids_request`)."""
    if kind == "upsert":
        return UpsertPlan(model, **{**options, "key_fields": resolve_key_fields(model, options.get("key_fields"))})
    if kind in ("update_ids", "delete_ids"):
        return OpsPlan(model, kind.removesuffix("_ids"), ids_request(options.pop("update", None)), **options)
    if kind == "insert":
        return InsertPlan(model, **options)
    builders = {
        "update": update_request,
        "delete": delete_request,
        "write": write_request,
        "restore": restore_request,
    }
    return OpsPlan(model, kind, builders[kind](model), **options)
