"""The keys an import has seen in its file, held in a scratch database (`core.scratch`: memory
flat whatever the file's size, nothing left behind, even by a killed process).

A batch's keys of one kind are looked up and added by one statement, which SQLite runs without
holding Python's lock: run from the import's writer thread, the work overlaps the next batch's
validation. Text keys and bytes keys are never equal (SQLite compares them by storage class).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from bulkadmin.core.scratch import PARAMETERS, chunks, scratch_database

_CHUNK = PARAMETERS  # keys per statement

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
        for chunk in chunks(list(keys), _CHUNK):
            marks = ",".join("?" * len(chunk))
            held.update(key for (key,) in db.execute(f"SELECT key FROM {table} WHERE key IN ({marks})", chunk))
            db.execute(f"INSERT OR IGNORE INTO {table} VALUES {','.join(['(?)'] * len(chunk))}", chunk)
        return set(keys) - held

    def discard(self, kind: int, keys: Collection[Key]) -> None:
        """Remove `keys` of `kind` (added, then not taken)."""
        if kind not in self._kinds:
            return
        for chunk in chunks(list(keys), _CHUNK):
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
            self._db = scratch_database()
        return self._db
