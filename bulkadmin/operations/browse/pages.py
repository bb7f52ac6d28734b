"""One page of a collection at any depth, at the same cost on the embedded server and on MongoDB.

Pages are numbered and read with `skip` + `limit` (one more than a page, to know whether a
next page exists; no total is counted). A skip costs in proportion to its depth on both servers,
so in `_id` order two things keep deep pages cheap:

- beyond the first `SKIP_PAGES` pages the previous / next links carry the neighbouring page's
  last (or first) `_id`, and the page is read as an `_id` range (keyset);
- a page number typed in is read from the page mark below it (`browse.marks`): the documents
  at or past a remembered `_id`, skipping fewer than `Reading.mark_pages` pages; its first view
  takes the mark with one skip.

The embedded server answers an `_id` range from its index only for ObjectIds, so there other
`_id`s are read with skip. `Reading.paging` forces "skip" or "keyset" (ranges for any `_id`).
Every read carries a time limit (`Reading.seconds`, sent as `maxTimeMS` and kept by the client
too, since the embedded server ignores `maxTimeMS`). The caller passes the settings and the
collection (its database with it): nothing here reads settings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pymongo
from bson import ObjectId
from pymongo import MongoClient
from pymongo.collection import Collection

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.core.mongo import capabilities
from bulkadmin.core.streams import with_id_condition
from bulkadmin.operations.browse.marks import MarkTakers, page_start

PER_PAGE = 50
SKIP_PAGES = 20
UNION_PAGES = 20  # pages of a search over several fields (each read up to the page's end)


class ReadTimeout(BulkAdminError):
    """A read composed on a page took longer than the time limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            f"The query took longer than {seconds:g} s and was stopped: narrow it "
            "(filter on an indexed field, or search for a longer text)."
        )


@dataclass(frozen=True)
class Reading:
    """How pages of one collection are read: the time limit of each read in `seconds`, the
    `paging` mode (one of `core.conf.BROWSE_PAGING_MODES`), a page mark every `mark_pages` pages, the collection's
    `estimate`d size (asked only when a mark is needed) and the `takers` of marks."""

    seconds: float
    paging: str
    mark_pages: int
    estimate: Callable[[], int | None]
    takers: MarkTakers


@dataclass(frozen=True)
class Sort:
    """The order of a listing: a model field, its stored key, and 1 (ascending) or -1."""

    field: str
    key: str
    direction: int

    @property
    def param(self) -> str:
        return self.field if self.direction == 1 else f"-{self.field}"


@dataclass(frozen=True)
class Page:
    """The documents of page `number`, whether a next page exists, the `_id`s bounding the
    neighbouring pages for keyset links (None: the link carries a page number only), and when
    the page marks it was read from were taken (its number is a position as of then)."""

    number: int
    documents: list[dict[str, Any]]
    has_next: bool
    next_after: Any = None
    previous_before: Any = None
    positions_taken_at: float | None = None


@contextlib.contextmanager
def time_limited(seconds: float) -> Iterator[None]:
    """Run the reads inside with a time limit of `seconds`; raise `ReadTimeout` when it is exceeded."""
    try:
        with pymongo.timeout(seconds):
            yield
    except pymongo.errors.PyMongoError as error:
        if getattr(error, "timeout", False):
            raise ReadTimeout(seconds) from None
        raise


def bounds_by_id(client: MongoClient, paging: str, value: Any) -> bool:
    """Whether pages in `_id` order may be read as `_id` ranges bounded by `value`: as `paging`
    forces, else on MongoDB always, on the embedded server for ObjectIds only (it scans for other ranges)."""
    if paging in ("skip", "keyset"):
        return paging == "keyset"
    return isinstance(value, ObjectId) or capabilities(client).id_ranges_for_any_id


def read_page(
    collection: Collection,
    filter: dict[str, Any],
    sort: Sort,
    number: int,
    *,
    reading: Reading,
    after: Any = None,
    before: Any = None,
    projection: dict[str, int] | None = None,
) -> Page:
    """Page `number` (1-based) of the documents matching `filter` in `sort` order: the page past
    the `_id` `after` (or before `before`) when given and usable as a bound."""
    client = collection.database.client
    by_id = sort.key == "_id"
    bound, backwards = (after, False) if after is not None and number > 1 else (before, True)
    usable = functools.partial(bounds_by_id, client, reading.paging)
    taken_at = None
    with time_limited(reading.seconds):
        if by_id and bound is not None and usable(bound):
            documents = _keyset(collection, filter, sort.direction, bound, backwards, projection)
        else:
            documents, taken_at = _numbered(collection, filter, sort, number, projection, reading)
    shown = documents[:PER_PAGE]
    page = Page(number, shown, len(documents) > PER_PAGE, positions_taken_at=taken_at)
    if not by_id or not shown:
        return page
    last, first = shown[-1]["_id"], shown[0]["_id"]
    next_after = last if number + 1 > SKIP_PAGES and usable(last) else None
    previous_before = first if number - 1 > SKIP_PAGES and usable(first) else None
    return replace(page, next_after=next_after, previous_before=previous_before)


def _numbered(
    collection: Collection,
    filter: dict[str, Any],
    sort: Sort,
    number: int,
    projection: dict[str, int] | None,
    reading: Reading,
) -> tuple[list[dict[str, Any]], float | None]:
    """Page `number` read with skip: from the nearest page mark below it in `_id` order, else from
    the start; and when the mark was taken."""
    start = None
    if sort.key == "_id" and reading.paging != "skip":
        client = collection.database.client
        start = page_start(
            collection,
            filter,
            sort.direction,
            number,
            per_page=PER_PAGE,
            mark_pages=reading.mark_pages,
            estimate=reading.estimate,
            takers=reading.takers,
            usable=functools.partial(bounds_by_id, client, reading.paging),
            from_start=capabilities(client).deep_skips_from_start,
        )
    query = with_id_condition(filter, start.condition(sort.direction)) if start else filter
    skip = start.skip if start else (number - 1) * PER_PAGE
    cursor = collection.find(query, projection).sort(sort.key, sort.direction)
    return list(cursor.skip(skip).limit(PER_PAGE + 1)), start.taken_at if start else None


def _keyset(
    collection: Collection,
    filter: dict[str, Any],
    direction: int,
    bound: Any,
    backwards: bool,
    projection: dict[str, int] | None,
) -> list[dict[str, Any]]:
    """The page after `bound` (or, `backwards`, the page before it, followed by a stand-in for
    the page it was reached from, so that it has a next link)."""
    if not backwards:
        return _range(collection, filter, direction, bound, projection)
    earlier = _range(collection, filter, -direction, bound, projection)[:PER_PAGE]
    return [*earlier[::-1], {}]


@dataclass(frozen=True)
class Part:
    """One filter of a union.

    `newest`: the same documents among the newest few (an `_id` window), as a filter the server
    reads along `_id`. Newest first, when it fills what is asked, those are the newest matches,
    and the part's filter (read from another index, every match of it sorted) is not needed.
    `windowed`: the filter itself holds such a window (a bounded scan of a field without an
    index); in another order than `_id` it is read whole along `_id`, since the server could
    otherwise walk that order's index far past the window."""

    filter: dict[str, Any]
    windowed: bool = False
    newest: dict[str, Any] | None = None


def read_union_page(
    collection: Collection,
    parts: list[Part],
    sort: Sort,
    number: int,
    *,
    seconds: float,
    projection: dict[str, int] | None = None,
) -> Page:
    """Page `number` of the documents matching any of `parts`, in `sort` order, each read within
    `seconds`: each part is read up to the page's end and the results are merged. Both servers
    answer a single-field filter in index order and stop early, where an `$or` of text searches
    is a full scan on the embedded server; the cost grows with the page number, so only
    `UNION_PAGES` are offered."""
    if number > UNION_PAGES:
        raise BulkAdminError(f"A search shows its first {UNION_PAGES} pages: search for something longer.")
    if projection is not None:
        projection = {**projection, sort.key: 1}  # the merge orders by it
    merged: dict[Any, dict[str, Any]] = {}
    with time_limited(seconds):
        for part in parts:
            for document in _read_part(collection, part, sort, number * PER_PAGE + 1, projection):
                merged.setdefault(document["_id"], document)
    ordered = sorted(merged.values(), key=lambda doc: (_rank(doc.get(sort.key)), _rank(doc["_id"])))
    if sort.direction < 0:
        ordered.reverse()
    documents = ordered[(number - 1) * PER_PAGE : number * PER_PAGE + 1]
    return Page(number, documents[:PER_PAGE], len(documents) > PER_PAGE)


def _read_part(
    collection: Collection, part: Part, sort: Sort, count: int, projection: dict[str, int] | None
) -> list[dict[str, Any]]:
    """The first `count` documents of `part` in `sort` order (all of a windowed part in another order)."""
    if part.windowed and sort.key != "_id":
        return list(collection.find(part.filter, projection).sort("_id", -1))
    if part.newest is not None and (sort.key, sort.direction) == ("_id", -1):
        found = list(collection.find(part.newest, projection).sort("_id", -1).limit(count))
        if len(found) == count:
            return found
    return list(collection.find(part.filter, projection).sort(sort.key, sort.direction).limit(count))


_TYPE_ORDER: tuple[tuple[type, ...], ...] = ((int, float), (str,), (ObjectId,), (bool,), (dt.datetime,))


def _rank(value: Any) -> tuple[int, Any]:
    """A sort key in MongoDB's order of types (null, numbers, text, ObjectId, booleans, dates),
    so values of mixed types compare."""
    if value is None:
        return 0, 0
    for rank, types in enumerate(_TYPE_ORDER, start=1):
        if isinstance(value, types) and not (rank == 1 and isinstance(value, bool)):
            return rank, value
    return len(_TYPE_ORDER) + 1, str(value)


def _range(
    collection: Collection, filter: dict[str, Any], direction: int, bound: Any, projection: dict[str, int] | None
) -> list[dict[str, Any]]:
    """Up to a page and one of the documents past `bound` in `_id` order `direction`."""
    query = with_id_condition(filter, {"$lt" if direction < 0 else "$gt": bound})
    return list(collection.find(query, projection).sort("_id", direction).limit(PER_PAGE + 1))
