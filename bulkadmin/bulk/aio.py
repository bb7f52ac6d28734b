"""The async bulk service: the same functions as `bulkadmin.bulk`, as coroutines on pymongo's
native `AsyncMongoClient`. The logic is shared (`bulkadmin.bulk.plans`); only the I/O differs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any, Unpack

import pymongo.errors
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.database import Database

from bulkadmin.bulk.batching import aiter_batches, known_total
from bulkadmin.bulk.options import BulkOptions, Clock, build_plan, with_defaults
from bulkadmin.bulk.plans import REFUSED_WHOLE, Find, Steps, write_failed
from bulkadmin.bulk.results import BulkResult
from bulkadmin.bulk.would_be import WouldBe
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.mongo import get_async_db
from bulkadmin.core.registry import index_models
from bulkadmin.core.types import Document

Items = Iterable[Any] | AsyncIterable[Any]


async def bulk_insert(model: type[MongoModel], docs: Items, **options: Unpack[BulkOptions]) -> BulkResult:
    """Validate and insert documents from any iterable or async iterable, batch by batch."""
    return await _run("insert", model, docs, with_defaults(options))


async def bulk_update(model: type[MongoModel], updates: Items, **options: Unpack[BulkOptions]) -> BulkResult:
    """Run `{"filter", "update", "upsert"}` entries, each as an update_many."""
    return await _run("update", model, updates, with_defaults(options))


async def bulk_delete(model: type[MongoModel], deletes: Items, **options: Unpack[BulkOptions]) -> BulkResult:
    """Run `{"filter"}` entries, each as a delete_many."""
    return await _run("delete", model, deletes, with_defaults(options))


async def bulk_write(model: type[MongoModel], operations: Items, **options: Unpack[BulkOptions]) -> BulkResult:
    """Run mixed operations (the seed's dict forms or pymongo operation objects)."""
    return await _run("write", model, operations, with_defaults(options))


async def bulk_upsert(
    model: type[MongoModel],
    docs: Items,
    *,
    key_fields: Iterable[str] | None = None,
    mode: str = "merge",
    dry_run: bool = False,
    on_pre_images: Callable[[list[dict[str, Any]]], None] | None = None,
    **options: Unpack[BulkOptions],
) -> BulkResult:
    """Insert new documents and write changed ones by key; see `bulkadmin.bulk.bulk_upsert`."""
    options = with_defaults(options)
    plan_options = {"key_fields": key_fields, "mode": mode, "dry_run": dry_run, "on_pre_images": on_pre_images}
    build_plan("upsert", model, ordered=options["ordered"], **plan_options)  # refused before the indexes
    if not dry_run and index_models(model):
        await _collection(model, options["db"]).create_indexes(index_models(model))
    if not dry_run:
        return await _run("upsert", model, docs, options, **plan_options)
    with WouldBe() as would_be:  # the dry run's would-be documents, forgotten when it ends
        return await _run("upsert", model, docs, options, would_be=would_be, **plan_options)


def _collection(
    model: type[MongoModel], db: Database[Document] | AsyncDatabase[Document] | None
) -> AsyncCollection[Document]:
    if isinstance(db, Database):
        raise TypeError("A synchronous database was given to an async bulk function; use bulkadmin.bulk.")
    return (db if db is not None else get_async_db())[model.collection]


async def _run(
    kind: str, model: type[MongoModel], items: Items, options: BulkOptions, **plan_options: Any
) -> BulkResult:
    plan = build_plan(kind, model, ordered=options["ordered"], **plan_options)
    collection = _collection(model, options["db"])
    clock = Clock(plan, known_total(items), options["progress"])
    async for batch in aiter_batches(items, options["batch_size"]):
        if plan.stopped:
            plan.skip_unread(len(batch))
            continue
        started = time.perf_counter()
        await _drive(plan.batch(plan.prepare(batch)), collection)
        clock.batch_finished(len(batch), time.perf_counter() - started)
    return clock.conclude(options["raise_on_error"])


async def _drive(steps: Steps, collection: AsyncCollection[Document]) -> None:
    outcome: Any = None
    while True:
        try:
            request = steps.send(outcome)
        except StopIteration:
            return
        outcome = await _execute(collection, request)


async def _execute(collection: AsyncCollection[Document], request: Any) -> Any:
    if isinstance(request, Find):
        return await collection.find(request.filter).to_list()
    try:
        return (await collection.bulk_write(request.requests, ordered=request.ordered)).bulk_api_result
    except pymongo.errors.BulkWriteError as error:
        return error.details
    except REFUSED_WHOLE as error:
        return write_failed(error)
