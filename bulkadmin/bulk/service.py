"""The synchronous bulk service: the seed API's functions on pymongo's `MongoClient`.

This module and `bulkadmin.bulk.aio` are the only code that calls pymongo's write methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Unpack

import pymongo.errors
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.collection import Collection
from pymongo.database import Database

from bulkadmin.bulk.batching import iter_batches, known_total
from bulkadmin.bulk.options import BulkOptions, Clock, build_plan, with_defaults
from bulkadmin.bulk.plans import REFUSED_WHOLE, Find, Steps, resolve_key_fields, write_failed
from bulkadmin.bulk.results import BulkResult
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
    options = with_defaults(options)
    keys = resolve_key_fields(model, key_fields)
    if not dry_run:
        ensure_indexes(model, _collection(model, options["db"]).database)
    plan_options = {"key_fields": keys, "mode": mode, "dry_run": dry_run, "on_pre_images": on_pre_images}
    return _run("upsert", model, docs, options, **plan_options)


def _collection(
    model: type[MongoModel], db: Database[Document] | AsyncDatabase[Document] | None
) -> Collection[Document]:
    if isinstance(db, AsyncDatabase):
        raise TypeError("An async database was given to a synchronous bulk function; use bulkadmin.bulk.aio.")
    return (db if db is not None else get_db())[model.collection]


def _run(
    kind: str, model: type[MongoModel], items: Iterable[Any], options: BulkOptions, **plan_options: Any
) -> BulkResult:
    """Validate each batch while the previous one is written by a writer thread; progress is
    reported from the calling thread, after each batch's write."""
    plan = build_plan(kind, model, ordered=options["ordered"], **plan_options)
    collection = _collection(model, options["db"])
    clock = Clock(plan, known_total(items), options["progress"])
    batches = iter_batches(items, options["batch_size"])
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulkadmin-writer") as writer:
        in_flight: tuple[Future[float], int] | None = None
        try:
            for batch in batches:
                prepared = plan.prepare(batch)
                if in_flight is not None:
                    _settle(clock, *in_flight)
                    in_flight = None
                    if plan.stopped:
                        plan.skip_unread(len(batch))
                        break
                in_flight = (writer.submit(_timed_drive, plan.batch(prepared), collection), len(batch))
        finally:
            if in_flight is not None:
                _settle(clock, *in_flight)
    for batch in batches if plan.stopped else ():
        plan.skip_unread(len(batch))
    return clock.conclude(options["raise_on_error"])


def _settle(clock: Clock, write: Future[float], rows: int) -> None:
    clock.batch_finished(rows, write.result())


def _timed_drive(steps: Steps, collection: Collection[Document]) -> float:
    started = time.perf_counter()
    _drive(steps, collection)
    return time.perf_counter() - started


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


__all__ = ["bulk_delete", "bulk_insert", "bulk_restore", "bulk_update", "bulk_upsert", "bulk_write"]
