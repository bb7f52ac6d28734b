"""Page marks: a page number typed in, read at the cost of a shallow page at any depth.

For a listing in `_id` order (collection + filter + direction) the `_id` that starts every
`BULKADMIN_BROWSE_MARK_PAGES`-th page is remembered (a "mark"). Page N is then read as the
documents at or past the nearest mark below it, skipping less than that many pages. Marks are
found by a chain of skips, each from the previous mark, only as deep as a page asks; they are
kept in Django's cache with when they were taken and the collection's estimated size then, and
taken again when the estimate has changed (inserts and deletes move positions) or after
`MAX_AGE` seconds. Page numbers read through marks are positions as of the marks.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from bson import json_util
from django.core.cache import cache
from pymongo.collection import Collection

from bulkadmin.core import conf
from bulkadmin.core.streams import with_id_condition
from bulkadmin.web import counts

MAX_AGE = 300.0


@dataclass(frozen=True)
class Marks:
    """The `_id`s starting pages `1 + k * pages` (k = 1, 2, ...), when taken, and the estimate then;
    `complete` when no further mark exists (the listing ends, or an `_id` cannot be a bound)."""

    ids: tuple[Any, ...]
    estimate: int | None
    taken_at: float
    complete: bool = False


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
    usable: Callable[[Any], bool],
) -> Start | None:
    """Where page `number` of `filter` in `_id` order `direction` begins, from the nearest mark
    below it; None when it has no mark (a shallow page, or `_id`s that `usable` refuses as bounds)."""
    pages = conf.browse_mark_pages()
    wanted = (number - 1) // pages
    if wanted < 1:
        return None
    marks = _marks(collection, filter, direction, wanted, pages * per_page, usable)
    found = min(wanted, len(marks.ids))
    if found < 1:
        return None
    return Start(marks.ids[found - 1], (number - 1 - found * pages) * per_page, marks.taken_at)


def _marks(
    collection: Collection,
    filter: dict[str, Any],
    direction: int,
    wanted: int,
    step: int,
    usable: Callable[[Any], bool],
) -> Marks:
    """The kept marks, taken again when stale, extended up to `wanted` marks (what was found is
    kept even when the time limit stops the chain)."""
    key = _key(collection, filter, direction, step)
    estimate = counts.estimated(collection.name, db=collection.database).value
    marks = cache.get(key)
    if not isinstance(marks, Marks) or marks.estimate != estimate or time.time() - marks.taken_at > MAX_AGE:
        marks = Marks((), estimate, time.time())
    if len(marks.ids) >= wanted or marks.complete:
        return marks
    ids, complete = list(marks.ids), False
    chain = _chain(collection, filter, direction, ids[-1] if ids else None, step)
    try:
        while len(ids) < wanted and not complete:
            found = next(chain)
            complete = found is None or not usable(found)
            ids.extend([] if complete else [found])
    finally:
        marks = replace(marks, ids=tuple(ids), complete=complete)
        cache.set(key, marks, MAX_AGE)
    return marks


def _chain(
    collection: Collection, filter: dict[str, Any], direction: int, last: Any, step: int
) -> Iterator[Any | None]:
    """The marks after `last` (None: from the start), each one skip of `step` documents on from
    the previous one; None when the listing ends."""
    while True:
        query = with_id_condition(filter, from_bound(last, direction)) if last is not None else filter
        found = list(collection.find(query, {"_id": 1}).sort("_id", direction).skip(step).limit(1))
        last = found[0]["_id"] if found else None
        yield last
        if last is None:
            return


def _key(collection: Collection, filter: dict[str, Any], direction: int, step: int) -> str:
    """The cache key of a listing's marks."""
    listing = [collection.database.name, collection.name, filter, direction, step]
    return "bulkadmin:marks:" + hashlib.sha256(json_util.dumps(listing, sort_keys=True).encode()).hexdigest()[:40]
