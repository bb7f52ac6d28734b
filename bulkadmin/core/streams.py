"""Matching documents read in batches, so memory stays flat however many match.

Operations that write by `_id` (cleanup rules, composed updates and deletes, sync's
mark-missing) read the documents to touch a batch at a time, in `_id` order, each batch just
before it is written (composed updates and deletes read one batch ahead, `read_ahead`): its
documents are fresh (they serve as undo pre-images) and a document the operation itself
changes is never met twice.

When the query is on `_id` alone (or empty) and every matching `_id` is an ObjectId (one
indexed check), each batch is one indexed query: the matches past the previous batch's last
`_id` (keyset paging). Otherwise the `_id`s come from one cursor and each batch's documents are
read by `_id` (cursors of the embedded server are snapshots): a range stays inside one type of
`_id`, and the embedded server answers some filters on other fields (dates, `$or`) by reading
every document, which once per batch would cost in proportion to the square of the matches.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import bson
from bson import ObjectId
from pymongo.collection import Collection
from pymongo.errors import OperationFailure

from bulkadmin.core.types import Document

Query = Mapping[str, Any]
T = TypeVar("T")
_END: Any = object()


def matching_batches(
    collection: Collection[Document],
    query: Query,
    batch_size: int,
    *,
    fields: Sequence[str] | None = (),
) -> Iterator[list[dict[str, Any]]]:
    """The documents matching `query` in `_id` order, `batch_size` at a time, each with its
    `_id` and `fields` only (whole documents when `fields` is None)."""
    projection = None if fields is None else {"_id": 1, **{field: 1 for field in fields}}
    if set(query) <= {"_id"} and _only_object_ids(collection, query):
        return _keyset_batches(collection, query, batch_size, projection)
    return _cursor_batches(collection, query, batch_size, projection)


def read_ahead(batches: Iterator[T]) -> Iterator[T]:
    """`batches`, each next one read in a thread while the caller works on the one it has, so
    the server reads while this process validates and writes (one batch ahead, no more)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as reader:
        try:
            pending = reader.submit(next, batches, _END)
            while (batch := pending.result()) is not _END:
                pending = reader.submit(next, batches, _END)
                yield batch
        finally:
            if not pending.cancel():
                pending.exception()  # wait for the batch being read; it is dropped
            close = getattr(batches, "close", None)
            if close is not None:
                close()


def _only_object_ids(collection: Collection[Document], query: Query) -> bool:
    other = with_id_condition(query, {"$not": {"$type": "objectId"}})
    try:
        return collection.find_one(other, {"_id": 1}) is None
    except OperationFailure:  # a server without `$not` for this query: read by cursor
        return False


def _keyset_batches(
    collection: Collection[Document], query: Query, batch_size: int, projection: dict[str, int] | None
) -> Iterator[list[dict[str, Any]]]:
    last: ObjectId | None = None
    while True:
        page = query if last is None else with_id_condition(query, {"$gt": last})
        batch = list(collection.find(dict(page), projection).sort("_id", 1).limit(batch_size))
        if batch:
            yield batch
        if len(batch) < batch_size:
            return
        last = batch[-1]["_id"]


def _cursor_batches(
    collection: Collection[Document], query: Query, batch_size: int, projection: dict[str, int] | None
) -> Iterator[list[dict[str, Any]]]:
    cursor = collection.find(dict(query), {"_id": 1}).sort("_id", 1).batch_size(batch_size)
    try:
        ids: list[Any] = []
        for document in cursor:
            ids.append(document["_id"])
            if len(ids) >= batch_size:
                yield _read(collection, ids, projection)
                ids = []
        if ids:
            yield _read(collection, ids, projection)
    finally:
        cursor.close()


def _read(collection: Collection[Document], ids: list[Any], projection: dict[str, int] | None) -> list[dict[str, Any]]:
    """The documents with these `_id`s as they are now, in `_id` order (those gone are left out)."""
    if projection == {"_id": 1}:
        return [{"_id": doc_id} for doc_id in ids]
    found = by_id(collection.find({"_id": {"$in": ids}}, projection))
    return [found[id_key(doc_id)] for doc_id in ids if id_key(doc_id) in found]


def id_key(value: Any) -> Hashable:
    """A dictionary key for an `_id` that is equal where MongoDB's `_id`s are: any `_id` (an
    embedded document or Decimal128 too), `True` apart from `1`, `1` the same as `1.0`."""
    if isinstance(value, ObjectId | str):
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    return ("bson", bson.encode({"_id": value}))


def by_id(documents: Iterable[dict[str, Any]]) -> dict[Hashable, dict[str, Any]]:
    """`documents` by `id_key` of their `_id`."""
    return {id_key(document["_id"]): document for document in documents}


def with_id_condition(query: Query, condition: dict[str, Any]) -> dict[str, Any]:
    """`query` with a condition on `_id` added, as a plain field condition where possible (both
    servers answer it from the `_id` index; the embedded server reads every document for `$and`)."""
    if "_id" not in query:
        return {**query, "_id": condition}
    present = query["_id"]
    if not (isinstance(present, Mapping) and all(str(key).startswith("$") for key in present)):
        present = {"$eq": present}
    if present.keys().isdisjoint(condition):
        return {**query, "_id": {**present, **condition}}
    return {"$and": [dict(query), {"_id": condition}]}
