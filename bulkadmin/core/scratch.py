"""A run's scratch database: a private temporary SQLite database (stdlib `sqlite3`: one
transaction, no journal, no sync, a bounded page cache). The newest pages stay in memory and the
rest go to a file SQLite removes from its folder as it opens it, so memory stays flat whatever
the run's size and nothing is left behind, even by a killed process; closing the connection
frees it. Its statements run without Python's lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import TypeVar

CACHE_KIB = 16_384  # SQLite's page cache: what the database holds in memory at most
PARAMETERS = 30_000  # parameters per statement, under SQLite's limit (32,766 by default)

Item = TypeVar("Item")


def scratch_database() -> sqlite3.Connection:
    """A new scratch database, its one transaction begun (pages reach the disk only past the cache)."""
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)  # private, temporary
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", f"cache_size = -{CACHE_KIB}"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("BEGIN")
    return db


def chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """`items` in slices of `size`, for statements of a bounded number of parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
