"""The synchronous bulk service on pymongo's `MongoClient`: the seed API's functions, each a
`BulkWriter` session run over its items, and the session for operations writing batch by batch.

This module and `bulkadmin.bulk.aio` are the only code that calls pymongo's write methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any, Unpack

import pymongo.errors
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.collection import Collection
from pymongo.database import Database

from bulkadmin.bulk.batching import iter_batches, known_total
from bulkadmin.bulk.options import BulkOptions, Clock, build_plan, with_defaults
from bulkadmin.bulk.pipelining import pipelined
from bulkadmin.bulk.plans import REFUSED_WHOLE, Find, Plan, Prepared, ProgressCallback, Steps, write_failed
from bulkadmin.bulk.results import BulkResult
from bulkadmin.bulk.would_be import WouldBe
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.mongo import get_db
from bulkadmin.core.registry import ensure_indexes
from bulkadmin.core.types import Document


def bulk_insert(model: type[MongoModel], docs: Iterable[Any], **options: Unpack[BulkOptions]) -> BulkResult:
    """Validate and insert documents (dicts or model instances), streamed batch by batch."""
    return _run("insert", model, docs, with_defaults(options))


def bulk_update(
    model: type[MongoModel], updates: Iterable[dict[str, Any]], **options: Unpack[BulkOptions]
) -> BulkResult:
    """Run `{"filter", "update", "upsert"}` entries, each as an update_many."""
    return _run("update", model, updates, with_defaults(options))


def bulk_delete(
    model: type[MongoModel], deletes: Iterable[dict[str, Any]], **options: Unpack[BulkOptions]
) -> BulkResult:
    """Run `{"filter"}` entries, each as a delete_many."""
    return _run("delete", model, deletes, with_defaults(options))


def bulk_write(model: type[MongoModel], operations: Iterable[Any], **options: Unpack[BulkOptions]) -> BulkResult:
    """Run mixed operations: the seed's dict forms (`insert_one`, `update_one`, `update_many`,
    `replace_one`, `delete_one`, `delete_many`) or pymongo operation objects."""
    return _run("write", model, operations, with_defaults(options))


def bulk_restore(
    model: type[MongoModel], documents: Iterable[dict[str, Any]], **options: Unpack[BulkOptions]
) -> BulkResult:
    """Write documents back exactly as they were stored (undo's pre-images): replace each by
    `_id`, inserting it when it is gone. Not re-validated: they come from the database.
    Unordered and not raising by default."""
    return _run("restore", model, documents, with_defaults(options, ordered=False, raise_on_error=False))


def bulk_upsert(
    model: type[MongoModel],
    docs: Iterable[Any],
    *,
    key_fields: Iterable[str] | None = None,
    mode: str = "merge",
    dry_run: bool = False,
    on_pre_images: Callable[[list[dict[str, Any]]], None] | None = None,
    **options: Unpack[BulkOptions],
) -> BulkResult:
    """Insert new documents and write changed ones by key (`merge`: `$set` the given fields;
    `replace`: the whole document; `delete`: remove by key), counting created / updated /
    unchanged exactly. `on_pre_images` receives documents as they were before each write."""
    plan_options = {"key_fields": key_fields, "mode": mode, "dry_run": dry_run, "on_pre_images": on_pre_images}
    return _run("upsert", model, docs, with_defaults(options), **plan_options)


class BulkWriter:
    """One operation's writes to one collection, a session of batches: the plan's options
    checked, the model's indexes created (upserts, unless a dry run) and the update translated
    (`update_ids`) once, then each batch written with no thread of its own.

    `write(batch)` writes one batch in the calling thread and returns its result (row indexes
    within the batch; failed rows are in the result, never raised); `run(items, ...)` is a whole
    bulk function: one plan over every batch, pipelined (`bulk.pipelining`)."""

    def __init__(
        self,
        model: type[MongoModel],
        kind: str,
        *,
        db: Database[Document] | None = None,
        ordered: bool = True,
        indexes: bool | None = None,
        **plan_options: Any,
    ) -> None:
        self.model, self.kind = model, kind
        self.plan_options = {"ordered": ordered, **plan_options}
        if kind == "upsert" and plan_options.get("dry_run"):
            self.plan_options["would_be"] = WouldBe()  # a dry run's later batches see its earlier rows' writes
        build_plan(kind, model, **self.plan_options)  # a bad option is refused before anything is written
        self.collection = _collection(model, db)
        if indexes is None:  # by default as the bulk functions: an upsert's key index refuses duplicate keys
            indexes = kind == "upsert" and not plan_options.get("dry_run")
        if indexes:
            ensure_indexes(model, self.collection.database)
        self.closed = False

    def write(self, batch: Sequence[Any]) -> BulkResult:
        """Write one batch now; its result, row indexes counted from the batch's first row."""
        plan = self._plan()
        seconds = self._send(plan, plan.prepare(list(enumerate(batch))))
        plan.batch_done(len(batch), seconds)
        return plan.finish(seconds)

    def run(
        self, items: Iterable[Any], *, batch_size: int, progress: ProgressCallback | None, raise_on_error: bool
    ) -> BulkResult:
        """Write `items` batch by batch, each validated while the previous one is written;
        progress is reported from the calling thread, after each batch's write."""
        plan = self._plan()
        total = known_total(items)
        clock = Clock(plan, total, progress)
        batches = iter_batches(items, batch_size)
        unread = pipelined(
            batches,
            prepare=lambda rows: (len(rows), plan.prepare(rows)),
            write=lambda prepared: self._send(plan, prepared[1]),
            settle=lambda prepared, seconds: clock.batch_finished(prepared[0], seconds),
            stopped=lambda: plan.stopped,
            inline=total is not None and total <= batch_size,  # one batch: a thread would only cost
        )
        for rows in chain([unread], batches) if unread is not None else ():
            plan.skip_unread(len(rows))
        return clock.conclude(raise_on_error)

    def close(self) -> None:
        """End the session: later writes are refused (a dry run's would-be documents are forgotten)."""
        self.closed = True
        if "would_be" in self.plan_options:
            self.plan_options["would_be"].close()

    def __enter__(self) -> BulkWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _plan(self) -> Plan:
        if self.closed:
            raise RuntimeError(f"This {self.kind} session on {self.model.collection} is closed.")
        return build_plan(self.kind, self.model, **self.plan_options)

    def _send(self, plan: Plan, prepared: list[Prepared]) -> float:
        """Write a prepared batch (in whichever thread calls); the seconds it took."""
        started = time.perf_counter()
        _drive(plan.batch(prepared), self.collection)
        return time.perf_counter() - started


def _collection(
    model: type[MongoModel], db: Database[Document] | AsyncDatabase[Document] | None
) -> Collection[Document]:
    if isinstance(db, AsyncDatabase):
        raise TypeError("An async database was given to a synchronous bulk function; use bulkadmin.bulk.aio.")
    return (db if db is not None else get_db())[model.collection]


def _run(
    kind: str, model: type[MongoModel], items: Iterable[Any], options: BulkOptions, **plan_options: Any
) -> BulkResult:
    with BulkWriter(model, kind, db=options["db"], ordered=options["ordered"], **plan_options) as writer:
        return writer.run(
            items,
            batch_size=options["batch_size"],
            progress=options["progress"],
            raise_on_error=options["raise_on_error"],
        )


def _drive(steps: Steps, collection: Collection[Document]) -> None:
    outcome: Any = None
    while True:
        try:
            request = steps.send(outcome)
        except StopIteration:
            return
        outcome = _execute(collection, request)


def _execute(collection: Collection[Document], request: Any) -> Any:
    if isinstance(request, Find):
        return list(collection.find(request.filter))
    try:
        return collection.bulk_write(request.requests, ordered=request.ordered).bulk_api_result
    except pymongo.errors.BulkWriteError as error:
        return error.details
    except REFUSED_WHOLE as error:
        return write_failed(error)


__all__ = ["BulkWriter", "bulk_delete", "bulk_insert", "bulk_restore", "bulk_update", "bulk_upsert", "bulk_write"]
