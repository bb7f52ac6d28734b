"""Page marks: a page number typed in, read at the cost of a shallow page at any depth.

For a listing in `_id` order (collection + filter + direction) the `_id` that starts every
`mark_pages`-th page (`BULKADMIN_BROWSE_MARK_PAGES`) may be remembered (a "mark"). Page N is read
as the documents at or past the mark below it, skipping fewer than that many pages. Only the marks
pages ask for are taken, each with one skip: from the nearest mark below it on MongoDB, from the
start on the embedded server (where a skip within an `_id` range costs ten times a plain skip).
Marks are kept in Django's cache with when they were taken and the collection's estimated size
then, and taken again when the estimate has changed (inserts and deletes move positions) or
after `MAX_AGE` seconds. Page numbers read through marks are positions as of the marks.

A mark is taken in a thread of `MarkTakers` (the caller's, one set per process), and a page
waits for it at most `WAIT_SECONDS` (usually it takes a fraction of that). A longer skip (the
embedded server's file not yet in memory) goes on in the background: the page says so
(`PositionsPending`) and reloads, and the next view gets the mark.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitedTooLong
from dataclasses import dataclass, replace
from typing import Any

from bson import json_util
from django.core.cache import cache
from pymongo.collection import Collection

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.core.streams import with_id_condition

MAX_AGE = 300.0
WAIT_SECONDS = 1.0  # a page waits this long for a mark, then shows that it is on its way
RELOAD_SECONDS = 2  # a page waiting for a mark reloads after this long


class PositionsPending(BulkAdminError):
    """Where a deep page starts is still being found (a long skip, in the background)."""

    def __init__(self, number: int) -> None:
        self.number = number
        super().__init__(
            f"Finding where page {number:,} starts: the first view of a page this deep reads through the "
            "listing once, which takes a while here. This page reloads until it is shown."
        )


class MarkTakers:
    """Threads that take marks: one taking of a mark at a time (one started more than `MAX_AGE`
    seconds ago is not used), the threads started on first use."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._taking: dict[tuple[str, int], tuple[float, Future[Any]]] = {}  # mark: (started, taking)
        self._lock = threading.Lock()

    def taken(self, mark: tuple[str, int], take: Callable[[], Any], number: int) -> Any:
        """Mark `mark` (listing key, k), taken by `take` in a thread, waited for `WAIT_SECONDS`;
        `PositionsPending` (for page `number`) while it goes on."""
        with self._lock:
            started, taking = self._taking.get(mark, (0.0, None))
            if taking is None or time.time() - started > MAX_AGE:
                started, taking = time.time(), self._threads().submit(take)
                self._taking[mark] = (started, taking)
        try:
            return taking.result(timeout=WAIT_SECONDS)
        except WaitedTooLong:
            raise PositionsPending(number) from None
        finally:
            if taking.done():
                with self._lock:
                    if self._taking.get(mark, (0.0, None))[1] is taking:
                        del self._taking[mark]

    def shutdown(self) -> None:
        """Stop the threads once the takings under way are done."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _threads(self) -> ThreadPoolExecutor:
        """The pool, started on first use (called holding the lock)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="bulkadmin-page-marks")
        return self._pool


@dataclass(frozen=True)
class Marks:
    """Mark k (the `_id` starting page `1 + k * pages`) by k, when taken, the estimate then, and
    the first k known to have no mark (the listing ends, or its `_id` cannot be a bound)."""

    ids: dict[int, Any]
    estimate: int | None
    taken_at: float
    missing_from: int | None = None


@dataclass(frozen=True)
class Start:
    """Where a page begins: `skip` documents on from `bound` (included), positions as of `taken_at`."""

    bound: Any
    skip: int
    taken_at: float

    def condition(self, direction: int) -> dict[str, Any]:
        """The page's `_id` condition in order `direction`: at or past the bound."""
        return from_bound(self.bound, direction)


def from_bound(bound: Any, direction: int) -> dict[str, Any]:
    """An `_id` condition: `bound` and what follows it in order `direction`."""
    return {"$lte" if direction < 0 else "$gte": bound}


def page_start(
    collection: Collection,
    filter: dict[str, Any],
    direction: int,
    number: int,
    *,
    per_page: int,
    mark_pages: int,
    estimate: Callable[[], int | None],
    takers: MarkTakers,
    usable: Callable[[Any], bool],
    from_start: bool = False,
) -> Start | None:
    """Where page `number` of `filter` in `_id` order `direction` begins, from the nearest mark
    (one every `mark_pages` pages) below it, taken now by `takers` when missing (from the start
    when `from_start`); None when there is no mark below it (a shallow page, or `_id`s that
    `usable` refuses as bounds). `estimate` gives the collection's estimated size now."""
    wanted = (number - 1) // mark_pages
    if wanted < 1:
        return None
    key = _key(collection, filter, direction, mark_pages * per_page)
    marks = _kept(key, estimate())
    if wanted not in marks.ids and (marks.missing_from is None or wanted < marks.missing_from):
        step = mark_pages * per_page
        take = functools.partial(_take, collection, filter, direction, marks, wanted, step, from_start)
        found = takers.taken((key, wanted), take, number)
        if found is None or not usable(found):
            marks = replace(marks, missing_from=min(wanted, marks.missing_from or wanted))
        else:
            marks = replace(marks, ids={**marks.ids, wanted: found})
        cache.set(key, marks, MAX_AGE)
    below = max((k for k in marks.ids if k <= wanted), default=0)
    if below < 1:
        return None
    return Start(marks.ids[below], (number - 1 - below * mark_pages) * per_page, marks.taken_at)


def _kept(key: str, estimate: int | None) -> Marks:
    """The marks kept under `key`, unless taken at another estimate or too long ago."""
    marks = cache.get(key)
    if not isinstance(marks, Marks) or marks.estimate != estimate or time.time() - marks.taken_at > MAX_AGE:
        return Marks({}, estimate, time.time())
    return marks


def _take(
    collection: Collection,
    filter: dict[str, Any],
    direction: int,
    marks: Marks,
    wanted: int,
    step: int,
    from_start: bool,
) -> Any:
    """Mark `wanted`: one skip from the nearest mark below it (or the start); None past the end."""
    below = 0 if from_start else max((k for k in marks.ids if k < wanted), default=0)
    query = with_id_condition(filter, from_bound(marks.ids[below], direction)) if below else filter
    cursor = collection.find(query, {"_id": 1}).sort("_id", direction).skip((wanted - below) * step).limit(1)
    found = list(cursor)
    return found[0]["_id"] if found else None


def _key(collection: Collection, filter: dict[str, Any], direction: int, step: int) -> str:
    """The cache key of a listing's marks."""
    listing = [collection.database.name, collection.name, filter, direction, step]
    return "bulkadmin:marks:" + hashlib.sha256(json_util.dumps(listing, sort_keys=True).encode()).hexdigest()[:40]
