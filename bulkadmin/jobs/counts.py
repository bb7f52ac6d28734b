"""Exact counts computed in the background, so no page waits for a collection scan.

A count is kept in the `bulkadmin_counts` collection under a key hashed from what is counted
(collection + filter, or a name such as a cleanup rule's), with `computed_at`. A page asks
`counted()`: small collections (at most `BULKADMIN_INLINE_COUNT_LIMIT` documents, estimated)
are counted at once; otherwise the page gets the stored count (possibly old, shown with its
age) and, when there is none or it is stale, `tasks.count_documents_task` is queued to compute it
(`compute`). The page polls
`counts/<key>/` (JSON) until the new count arrives. A count is stale when it is older than the
caller's `max_age`, or when a bulkadmin job that writes finished after it was computed.

Counts asked for by a user are shared fairly: one user has at most `COUNTS_PER_USER` counts
waiting; asking for one more makes the oldest give way (its worker skips it, its page stops
waiting for it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import bson
from bson import json_util
from django.db.models import Q
from django.utils import timezone
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import PyMongoError

from bulkadmin.core import conf
from bulkadmin.core.mongo import get_db
from bulkadmin.jobs import leases, queue
from bulkadmin.models import Job

COLLECTION = "bulkadmin_counts"
DEFAULT_MAX_AGE = 300.0
ESTIMATE_MAX_AGE = 60.0
RETRY_PENDING_AFTER = 600.0  # a count queued this long ago and not done is queued again
COUNTS_PER_USER = 10  # counts one user may have waiting at once


@dataclass(frozen=True)
class Count:
    """What is known of one count: its value (None until computed), when, and whether a newer one is on its way."""

    key: str
    value: int | None = None
    computed_at: dt.datetime | None = None
    requested_at: dt.datetime | None = None
    error: str = ""

    @property
    def ready(self) -> bool:
        return self.value is not None

    @property
    def pending(self) -> bool:
        """A count was asked for after the last one was computed."""
        if self.requested_at is None:
            return False
        return self.computed_at is None or self.requested_at > self.computed_at

    @property
    def age(self) -> float | None:
        """Seconds since the value was computed."""
        return None if self.computed_at is None else (timezone.now() - self.computed_at).total_seconds()

    @property
    def age_text(self) -> str:
        return describe_age(self.age)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "ready": self.ready,
            "value": self.value,
            "pending": self.pending,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "age": self.age_text,
            "error": self.error,
        }


def count_key(collection: str, filter: dict[str, Any]) -> str:
    """The key of a count: a hash of the collection and the filter as stored."""
    text = json_util.dumps([collection, filter], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def counted(
    *,
    collection: str,
    filter: dict[str, Any],
    key: str = "",
    max_age: float = DEFAULT_MAX_AGE,
    db: Database | None = None,
    user: int | None = None,
) -> Count:
    """The count of documents of `collection` matching `filter` (stored keys), as far as known now.

    Counted at once for a small collection; otherwise the stored count, and a new one is queued
    (for `user`, within their share) when there is none, or it is older than `max_age` seconds
    or than the last job's writes. `key` names a count whose filter changes over time (a cleanup
    rule's relative dates)."""
    database = db if db is not None else get_db()
    key = key or count_key(collection, filter)
    if (estimated(collection, db=database).value or 0) <= inline_limit():
        return _store(database, key, collection, filter, count_now(database[collection], filter))
    known = lookup(key, db=database)
    if _fresh(known, collection, max_age) or _recently_requested(known):
        return known
    return _request(database, key, collection, filter, user)


def estimated(collection: str, *, max_age: float = ESTIMATE_MAX_AGE, db: Database | None = None) -> Count:
    """The collection's estimated size, kept like a count: the embedded server's estimate grows
    with the collection, so a large one is estimated again in the background once `max_age`
    seconds old, and the page shows the last value meanwhile. Small ones are estimated at once."""
    database = db if db is not None else get_db()
    key = f"estimate:{collection}"
    known = lookup(key, db=database)
    if known.value is None or known.value <= inline_limit():
        value = database[collection].estimated_document_count()
        return _store(database, key, collection, None, value, kind="estimate")
    if (known.age or 0) <= max_age or _recently_requested(known):
        return known
    fields = {"collection": collection, "kind": "estimate", "requested_at": timezone.now(), "waiting": True}
    database[COLLECTION].update_one({"_id": key}, {"$set": fields}, upsert=True)
    _enqueue(key)
    return lookup(key, db=database)


def lookup(key: str, *, db: Database | None = None) -> Count:
    """The stored state of the count `key` (an empty `Count` when never asked for)."""
    database = db if db is not None else get_db()
    return _as_count(key, database[COLLECTION].find_one({"_id": key}))


def collection_of(key: str, *, db: Database | None = None) -> str | None:
    """The collection the count `key` counts, or None when no such count was ever asked for."""
    database = db if db is not None else get_db()
    record = database[COLLECTION].find_one({"_id": key}, {"collection": 1})
    return record.get("collection") if record else None


def count_now(collection: Collection, filter: dict[str, Any]) -> int:
    """Count exactly (`count_documents`; the embedded server's faster `$count` stage miscounts
    datetime comparisons, so it is not used)."""
    return collection.count_documents(filter)


def compute(key: str) -> int | None:
    """Compute the count `key` (its collection and filter are on its record) and store it; None
    when it was never asked for, is done already or gave way to a newer count, or failed."""
    database = get_db()
    record = database[COLLECTION].find_one({"_id": key})
    if record is None or record.get("waiting") is False:
        return None  # never asked for, done already, or it gave way to a newer count
    try:
        target = database[record["collection"]]
        if record.get("kind") == "estimate":
            value = target.estimated_document_count()
        else:
            value = count_now(target, _decoded(record["filter"]))
    except PyMongoError as error:
        database[COLLECTION].update_one({"_id": key}, {"$set": {"error": str(error), "computed_at": timezone.now()}})
        return None
    _store(database, key, record["collection"], None, value, kind=record.get("kind", "count"))
    return value


def inline_limit() -> int:
    return conf.inline_count_limit()


def describe_age(seconds: float | None) -> str:
    """`just now`, `12 s ago`, `5 min ago`, `3 h ago`, `2 days ago`."""
    if seconds is None:
        return ""
    if seconds < 2:
        return "just now"
    for size, unit in ((86400, "days"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def _fresh(known: Count, collection: str, max_age: float) -> bool:
    if not known.ready or known.error or known.age is None or known.age > max_age:
        return False
    writes = Q(collection=collection) | Q(kind=Job.Kind.CLEANUP, collection__contains=collection)
    return not Job.objects.filter(writes, dry_run=False, finished_at__gt=known.computed_at).exists()


def _recently_requested(known: Count) -> bool:
    if not known.pending or known.requested_at is None:
        return False
    return (timezone.now() - known.requested_at).total_seconds() < RETRY_PENDING_AFTER


def _request(database: Database, key: str, collection: str, filter: dict[str, Any], user: int | None) -> Count:
    fields = {"collection": collection, "filter": _encoded(filter), "requested_at": timezone.now(), "waiting": True}
    if user is None:
        database[COLLECTION].update_one({"_id": key}, {"$set": fields}, upsert=True)
    else:
        with leases.briefly(f"counts-{user}"):
            _make_room(database, key, user)
            mine = {**fields, "requested_by": user, "requested_ns": time.time_ns()}  # finer than a BSON date
            database[COLLECTION].update_one({"_id": key}, {"$set": mine}, upsert=True)
    _enqueue(key)
    return lookup(key, db=database)  # computed already when tasks run at once


def _enqueue(key: str) -> None:
    queue.enqueue("count_documents_task", key)


def _make_room(database: Database, key: str, user: int) -> None:
    """Make the user's oldest waiting counts give way, leaving room for one more."""
    since = timezone.now() - dt.timedelta(seconds=RETRY_PENDING_AFTER)
    query = {"requested_by": user, "waiting": True, "requested_at": {"$gt": since}, "_id": {"$ne": key}}
    waiting = list(database[COLLECTION].find(query, {"_id": 1}).sort("requested_ns", 1))
    for record in waiting[: max(0, len(waiting) - COUNTS_PER_USER + 1)]:
        database[COLLECTION].update_one(
            {"_id": record["_id"], "waiting": True}, {"$set": {"waiting": False}, "$unset": {"requested_at": ""}}
        )


def _store(
    database: Database, key: str, collection: str, filter: dict[str, Any] | None, value: int, kind: str = "count"
) -> Count:
    fields: dict[str, Any] = {"collection": collection, "value": value, "computed_at": timezone.now(), "error": ""}
    fields.update(kind=kind, waiting=False)
    if filter is not None:
        fields["filter"] = _encoded(filter)
    record = database[COLLECTION].find_one_and_update(
        {"_id": key}, {"$set": fields}, upsert=True, return_document=ReturnDocument.AFTER
    )
    return _as_count(key, record)


def _encoded(filter: dict[str, Any]) -> str:
    """The filter as base64 BSON text, read back exactly (as extended JSON, `{"$regex": ...}`
    would come back a Regex; the embedded server drops bytes set together with a datetime)."""
    return base64.b64encode(bson.encode(filter)).decode("ascii")


def _decoded(text: str) -> dict[str, Any]:
    return bson.decode(base64.b64decode(text))


def _as_count(key: str, record: dict[str, Any] | None) -> Count:
    if record is None:
        return Count(key)
    return Count(
        key, record.get("value"), record.get("computed_at"), record.get("requested_at"), record.get("error", "")
    )
