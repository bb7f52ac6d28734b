"""Reproducible demo data for every example collection, written through the bulk service.

The same `seed` and day give the same documents (ids included), so a new user can try every
command on realistic data: users whose last login spreads over two years, sessions past and
future, a year of logs, temporary and permanent files, page stats and analytics events.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from bulkadmin.bulk import bulk_delete, bulk_insert
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.mongo import get_db
from project.collections import AnalyticsEvent, ApplicationLog, FileRecord, PageStats, User, UserSession

FIRST_NAMES = "ada alan barbara claude donald edsger frances grace guido hedy john katherine ken linus margaret"
LAST_NAMES = "lovelace turing liskov shannon knuth dijkstra allen hopper rossum lamarr backus johnson thompson"
PAGES = [
    "/",
    "/pricing",
    "/docs",
    "/docs/install",
    "/docs/imports",
    "/docs/cleanup",
    "/blog",
    "/blog/bulk-writes",
    "/about",
    "/contact",
    "/login",
    "/signup",
    "/account",
    "/account/billing",
    "/search",
    "/status",
]
ACTIONS = ("click_signup", "download_report", "export_csv", "invite_member", "change_plan", "search")
LOG_MESSAGES = (
    ("info", "user {n} logged in"),
    ("info", "report {n} generated"),
    ("debug", "cache miss for key page:{n}"),
    ("warning", "slow query on users took {n} ms"),
    ("error", "payment provider timeout for order {n}"),
)
TAGS = ("newsletter", "beta", "enterprise", "trial", "mobile", "api")
TIERS = ("platinum", "gold", "silver", "bronze")
DEMO_MODELS: tuple[type[MongoModel], ...] = (User, UserSession, ApplicationLog, FileRecord, PageStats, AnalyticsEvent)


@dataclass(frozen=True)
class SeedResult:
    """Documents inserted per collection."""

    counts: dict[str, int]
    elapsed: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def seed_demo(
    *,
    users: int = 2000,
    seed: int = 42,
    now: dt.datetime | None = None,
    batch_size: int = 1000,
    progress: Callable[[int, int | None], None] | None = None,
    db: Database | None = None,
) -> SeedResult:
    """Insert demo documents into every example collection; `now` defaults to today's midnight (UTC)."""
    started = time.perf_counter()
    counts = {}
    for model, documents in demo_documents(users=users, seed=seed, now=now):
        result = bulk_insert(model, documents, batch_size=batch_size, progress=progress, db=db)
        counts[model.collection] = result.inserted
    return SeedResult(counts, time.perf_counter() - started)


def demo_documents(
    *, users: int = 2000, seed: int = 42, now: dt.datetime | None = None
) -> list[tuple[type[MongoModel], Iterator[dict[str, Any]]]]:
    """Each example collection with a generator of its demo documents (as stored), in insert order."""
    today = now or dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    user_ids = _ids(random.Random(f"{seed}:ids"), users, today)
    return [
        (User, _users(random.Random(f"{seed}:users"), user_ids, today)),
        (UserSession, _sessions(random.Random(f"{seed}:sessions"), user_ids, today, users * 3 // 2)),
        (ApplicationLog, _logs(random.Random(f"{seed}:logs"), today, users * 5 // 2)),
        (FileRecord, _files(random.Random(f"{seed}:files"), today, users // 2)),
        (PageStats, _page_stats(random.Random(f"{seed}:pages"), today)),
        (AnalyticsEvent, _events(random.Random(f"{seed}:events"), user_ids, today, users * 5 // 2)),
    ]


def flush_demo(*, db: Database | None = None) -> int:
    """Delete every document of the example collections; return how many."""
    return sum(bulk_delete(model, [{"filter": {}}], db=db).deleted for model in DEMO_MODELS)


def has_users(db: Database | None = None) -> int:
    """How many users exist (0 means the demo data can be loaded)."""
    return (db if db is not None else get_db())[User.collection].estimated_document_count()


def _object_id(rng: random.Random, when: dt.datetime) -> ObjectId:
    """A reproducible ObjectId whose timestamp is `when`."""
    return ObjectId(int(when.timestamp()).to_bytes(4, "big") + rng.randbytes(8))


def _ago(rng: random.Random, today: dt.datetime, max_days: float, min_days: float = 0) -> dt.datetime:
    return today - dt.timedelta(seconds=int(rng.uniform(min_days, max_days) * 86400))


def _ids(rng: random.Random, count: int, today: dt.datetime) -> list[tuple[ObjectId, dt.datetime]]:
    created = sorted(_ago(rng, today, 730) for _ in range(count))
    return [(_object_id(rng, when), when) for when in created]


def _users(rng: random.Random, ids: list[tuple[ObjectId, dt.datetime]], today: dt.datetime) -> Iterator[dict]:
    first_names, last_names = FIRST_NAMES.split(), LAST_NAMES.split()
    for number, (user_id, created_at) in enumerate(ids):
        first, last = rng.choice(first_names), rng.choice(last_names)
        days_since = (today - created_at).total_seconds() / 86400
        tier = rng.choice((*TIERS, None, None))
        yield {
            "_id": user_id,
            "name": f"{first.title()} {last.title()}",
            "email": f"{first}.{last}.{number}@example.com",
            "age": rng.randint(18, 80),
            "status": "deleted" if rng.random() < 0.03 else "active",
            "tier": tier,
            "discount": {"platinum": 0.2, "gold": 0.15, "silver": 0.1, "bronze": 0.05}.get(tier or "", 0.0),
            "total_spent": round(rng.uniform(0, 5000), 2),
            "is_verified": rng.random() < 0.92 or days_since < 30,
            "tags": rng.sample(TAGS, rng.randint(0, 2)),
            "created_at": created_at,
            "last_login": None if rng.random() < 0.06 else _ago(rng, today, days_since),
        }


def _sessions(rng: random.Random, ids: list, today: dt.datetime, count: int) -> Iterator[dict]:
    for _ in range(count):
        created_at = _ago(rng, today, 60)
        yield {
            "_id": _object_id(rng, created_at),
            "user_id": rng.choice(ids)[0],
            "token": rng.randbytes(16).hex(),
            "created_at": created_at,
            "expires_at": created_at + dt.timedelta(days=30),
        }


def _logs(rng: random.Random, today: dt.datetime, count: int) -> Iterator[dict]:
    for _ in range(count):
        created_at = _ago(rng, today, 365)
        level, template = rng.choice(LOG_MESSAGES)
        message = template.format(n=rng.randint(1, 9999))
        yield {"_id": _object_id(rng, created_at), "level": level, "message": message, "created_at": created_at}


def _files(rng: random.Random, today: dt.datetime, count: int) -> Iterator[dict]:
    for number in range(count):
        created_at = _ago(rng, today, 365)
        temporary = rng.random() < 0.4
        folder = "tmp" if temporary else f"uploads/{created_at:%Y/%m}"
        yield {
            "_id": _object_id(rng, created_at),
            "path": f"{folder}/file-{number}.{rng.choice(('csv', 'pdf', 'png', 'json'))}",
            "file_type": "temporary" if temporary else "permanent",
            "size": rng.randint(100, 5_000_000),
            "created_at": created_at,
        }


def _page_stats(rng: random.Random, today: dt.datetime) -> Iterator[dict]:
    for page in PAGES:
        last_updated = _ago(rng, today, 2)
        yield {
            "_id": _object_id(rng, last_updated),
            "page": page,
            "view_count": rng.randint(10, 50_000),
            "last_updated": last_updated,
        }


def _events(rng: random.Random, ids: list, today: dt.datetime, count: int) -> Iterator[dict]:
    for _ in range(count):
        timestamp = _ago(rng, today, 90)
        event = {"_id": _object_id(rng, timestamp), "timestamp": timestamp, "user_id": rng.choice(ids)[0]}
        if rng.random() < 0.8:
            yield {**event, "type": "page_view", "page": rng.choice(PAGES)}
        else:
            yield {**event, "type": "user_action", "action": rng.choice(ACTIONS)}
