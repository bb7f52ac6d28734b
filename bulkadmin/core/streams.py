"""Matching documents read in batches from one cursor, so memory stays flat however many match.

Operations that write by `_id` (cleanup rules, composed updates and deletes, sync's
mark-missing) read the `_id`s of the documents to touch from one cursor sorted by `_id`,
`batch_size` at a time, instead of collecting them all first. Sorting by `_id` also means a
document the operation itself changes is never met twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pymongo.collection import Collection

from bulkadmin.core.types import Document


def matching_batches(
    collection: Collection[Document],
    query: Mapping[str, Any],
    batch_size: int,
    *,
    fields: Sequence[str] = (),
) -> Iterator[list[dict[str, Any]]]:
    """The documents matching `query` in `_id` order, `batch_size` at a time, each with its
    `_id` and `fields` only."""
    projection = {"_id": 1, **{field: 1 for field in fields}}
    cursor = collection.find(dict(query), projection).sort("_id", 1).batch_size(batch_size)
    batch: list[dict[str, Any]] = []
    try:
        for document in cursor:
            batch.append(document)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        cursor.close()


def id_batches(collection: Collection[Document], query: Mapping[str, Any], batch_size: int) -> Iterator[list[Any]]:
    """The `_id`s matching `query` in `_id` order, `batch_size` at a time (see `matching_batches`)."""
    for batch in matching_batches(collection, query, batch_size):
        yield [document["_id"] for document in batch]
