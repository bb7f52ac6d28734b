"""The async bulk service: the same functions as `bulkadmin.bulk`, as coroutines on pymongo's
native `AsyncMongoClient`. The logic is shared (`bulkadmin.bulk.plans`); only the I/O differs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any

import pymongo.errors
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from bulkadmin.bulk.batching import aiter_batches, check_batch_size, known_total
from bulkadmin.bulk.plans import Clock, Find, Plan, ProgressCallback, Steps, build_plan, resolve_key_fields
from bulkadmin.bulk.results import BulkResult
from bulkadmin.documents import MongoModel
from bulkadmin.mongo import get_async_db
from bulkadmin.registry import index_models

Items = Iterable[Any] | AsyncIterable[Any]


async def bulk_insert(
    model: type[MongoModel],
    docs: Items,
    *,
    batch_size: int = 1000,
    ordered: bool = True,
    raise_on_error: bool = True,
    progress: ProgressCallback | None = None,
    db: AsyncDatabase | None = None,
) -> BulkResult:
    """Validate and insert documents from any iterable or async iterable, batch by batch."""
    plan = build_plan("insert", model, ordered=ordered)
    return await _run(plan, docs, _collection(model, db), batch_size, progress, raise_on_error)


async def bulk_update(
    model: type[MongoModel],
    updates: Items,
    *,
    batch_size: int = 1000,
    ordered: bool = True,
    raise_on_error: bool = True,
    progress: ProgressCallback | None = None,
    db: AsyncDatabase | None = None,
) -> BulkResult:
    """Run `{"filter", "update", "upsert"}` entries, each as an update_many."""
    plan = build_plan("update", model, ordered=ordered)
    return await _run(plan, updates, _collection(model, db), batch_size, progress, raise_on_error)


async def bulk_delete(
    model: type[MongoModel],
    deletes: Items,
    *,
    batch_size: int = 1000,
    ordered: bool = True,
    raise_on_error: bool = True,
    progress: ProgressCallback | None = None,
    db: AsyncDatabase | None = None,
) -> BulkResult:
    """Run `{"filter"}` entries, each as a delete_many."""
    plan = build_plan("delete", model, ordered=ordered)
    return await _run(plan, deletes, _collection(model, db), batch_size, progress, raise_on_error)


async def bulk_write(
    model: type[MongoModel],
    operations: Items,
    *,
    batch_size: int = 1000,
    ordered: bool = True,
    raise_on_error: bool = True,
    progress: ProgressCallback | None = None,
    db: AsyncDatabase | None = None,
) -> BulkResult:
    """Run mixed operations (the seed's dict forms or pymongo operation objects)."""
    plan = build_plan("write", model, ordered=ordered)
    return await _run(plan, operations, _collection(model, db), batch_size, progress, raise_on_error)


async def bulk_upsert(
    model: type[MongoModel],
    docs: Items,
    *,
    key_fields: Iterable[str] | None = None,
    mode: str = "merge",
    batch_size: int = 1000,
    ordered: bool = True,
    dry_run: bool = False,
    raise_on_error: bool = True,
    progress: ProgressCallback | None = None,
    on_pre_images: Callable[[list[dict[str, Any]]], None] | None = None,
    db: AsyncDatabase | None = None,
) -> BulkResult:
    """Insert new documents and write changed ones by key; see `bulkadmin.bulk.bulk_upsert`."""
    keys = resolve_key_fields(model, key_fields)
    plan = build_plan(
        "upsert",
        model,
        key_fields=keys,
        mode=mode,
        ordered=ordered,
        dry_run=dry_run,
        on_pre_images=on_pre_images,
    )
    collection = _collection(model, db)
    if not dry_run and index_models(model):
        await collection.create_indexes(index_models(model))
    return await _run(plan, docs, collection, batch_size, progress, raise_on_error)


def _collection(model: type[MongoModel], db: AsyncDatabase | None) -> AsyncCollection:
    return (db if db is not None else get_async_db())[model.collection]


async def _run(
    plan: Plan,
    items: Items,
    collection: AsyncCollection,
    batch_size: int,
    progress: ProgressCallback | None,
    raise_on_error: bool,
) -> BulkResult:
    check_batch_size(batch_size)
    clock = Clock(plan, known_total(items), progress)
    async for batch in aiter_batches(items, batch_size):
        started = time.perf_counter()
        await _drive(plan.batch(plan.prepare(batch)), collection)
        clock.batch_finished(len(batch), time.perf_counter() - started)
        if plan.stopped:
            break
    return clock.conclude(raise_on_error)


async def _drive(steps: Steps, collection: AsyncCollection) -> None:
    outcome: Any = None
    while True:
        try:
            request = steps.send(outcome)
        except StopIteration:
            return
        outcome = await _execute(collection, request)


async def _execute(collection: AsyncCollection, request: Any) -> Any:
    if isinstance(request, Find):
        return await collection.find(request.filter).to_list()
    try:
        return (await collection.bulk_write(request.requests, ordered=request.ordered)).bulk_api_result
    except pymongo.errors.BulkWriteError as error:
        return error.details
