"""The keys an import has seen in its file, held in a private temporary SQLite database (stdlib
`sqlite3`: no journal, no sync, a bounded page cache): the newest pages stay in memory and the
rest go to a file SQLite removes from the folder as soon as it opens it, so memory stays flat
whatever the file's size and nothing is left behind, even by a killed process.

A batch's keys of one kind are looked up and added by one statement, which SQLite runs without
holding Python's lock: run from the import's writer thread, the work overlaps the next batch's
validation. Text keys and bytes keys are never equal (SQLite compares them by storage class).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Sequence

CACHE_KIB = 16_384  # SQLite's page cache: what the set holds in memory at most
_PRAGMAS = ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", f"cache_size = -{CACHE_KIB}")
_CHUNK = 30_000  # keys per statement, under SQLite's limit on parameters (32,766 by default)

Key = str | bytes


class FileKeySet:
    """Keys of several kinds (the number of a unique key), each kind a table of its own."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._kinds: set[int] = set()

    def add_new(self, kind: int, keys: Collection[Key]) -> set[Key]:
        """Add `keys` of `kind`; return those the set did not hold before. (Two statements per
        chunk, each a single step: SQLite works without Python's lock, which a row returned
        per key would take back each time.)"""
        table, db = self._table(kind), self._connection()
        held: set[Key] = set()
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            held.update(key for (key,) in db.execute(f"SELECT key FROM {table} WHERE key IN ({marks})", chunk))
            db.execute(f"INSERT OR IGNORE INTO {table} VALUES {','.join(['(?)'] * len(chunk))}", chunk)
        return set(keys) - held

    def discard(self, kind: int, keys: Collection[Key]) -> None:
        """Remove `keys` of `kind` (added, then not taken)."""
        if kind not in self._kinds:
            return
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            self._connection().execute(f"DELETE FROM keys_{kind} WHERE key IN ({marks})", chunk)

    def close(self) -> None:
        """Forget every key (SQLite deletes the database with its connection)."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._kinds = set()

    @property
    def opened(self) -> bool:
        """Whether the database exists (it does from the first key added until `close`)."""
        return self._db is not None

    def _table(self, kind: int) -> str:
        if kind not in self._kinds:
            self._connection().execute(f"CREATE TABLE keys_{kind} (key PRIMARY KEY) WITHOUT ROWID")
            self._kinds.add(kind)
        return f"keys_{kind}"

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)  # private, temporary
            for pragma in _PRAGMAS:
                self._db.execute(f"PRAGMA {pragma}")
            self._db.execute("BEGIN")  # one transaction for the run: pages reach the file only past the cache
        return self._db


def _chunks(keys: Sequence[Key]) -> Iterator[Sequence[Key]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
