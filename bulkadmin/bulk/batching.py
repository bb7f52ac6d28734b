"""Split any iterable or async iterable into batches of (global index, item)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from itertools import islice
from typing import Any

from bulkadmin.core.exceptions import InvalidSpec

Row = tuple[int, Any]


def check_batch_size(batch_size: int) -> None:
    """Reject a batch size that is not a positive integer."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidSpec(f"batch_size must be a positive integer, got {batch_size!r}.", option="batch_size")


def known_total(items: object) -> int | None:
    """The number of items when it is known without consuming them."""
    try:
        return len(items)  # type: ignore[arg-type]
    except TypeError:
        return None


def iter_batches(items: Iterable[Any], batch_size: int) -> Iterator[list[Row]]:
    """Yield lists of at most `batch_size` (index, item) pairs, streaming `items`."""
    numbered = enumerate(items)
    while batch := list(islice(numbered, batch_size)):
        yield batch


async def aiter_batches(items: Iterable[Any] | AsyncIterable[Any], batch_size: int) -> AsyncIterator[list[Row]]:
    """The async twin of `iter_batches`; accepts plain and async iterables."""
    if not isinstance(items, AsyncIterable):
        for whole in iter_batches(items, batch_size):
            yield whole
        return
    batch: list[Row] = []
    index = 0
    async for item in items:
        batch.append((index, item))
        index += 1
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
