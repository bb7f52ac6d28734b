"""A set of fixed-size keys whose memory stays bounded however many it holds: the newest keys
live in a Python set; past `MEMORY_KEYS` they move to a temporary SQLite file (stdlib `sqlite3`,
no sync, a bounded page cache), deleted on `close`. A fixed bitmap marks the keys on disk (one
bit per key's hash), so most lookups of keys not held never reach the file.

Keys are written to the file by a thread of the set's own while the caller carries on (SQLite
works without holding Python's lock, so the writing uses another core); until written they are
still looked up in memory, and the file is read through a second connection (write-ahead log:
the reader sees what was written, without waiting for the writer).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

MEMORY_KEYS = 25_000  # keys in memory (about 100 bytes each; twice that while written) before they go to disk
CACHE_KIB = 8_192  # SQLite's page cache for the file
MARK_BITS = 1 << 24  # the bitmap of keys on disk (2 MB): a key not marked is not on disk
_CHUNK = 900  # keys per statement, under SQLite's smallest limit on parameters (999)
_PRAGMAS = ("journal_mode = WAL", "synchronous = OFF", f"cache_size = -{CACHE_KIB}")


class SpillingKeySet:
    """Keys (bytes) held in memory up to `memory_keys` (default `MEMORY_KEYS`), then on disk.
    Memory holds at most twice that: the newest keys and the ones being written."""

    def __init__(self, *, memory_keys: int | None = None) -> None:
        self.memory_keys = MEMORY_KEYS if memory_keys is None else memory_keys
        self.recent: set[bytes] = set()
        self.writing: set[bytes] = set()  # keys on their way to the file
        self.path: Path | None = None
        self._on_disk = 0
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulkadmin-keys")  # started on a spill
        self._written: Future[int] | None = None
        self._marks, self._last_bit = bytearray(), 0

    @property
    def on_disk(self) -> int:
        """How many keys the file holds (once the keys being written are written)."""
        self._settle()
        return self._on_disk

    def found(self, keys: Collection[bytes]) -> set[bytes]:
        """Those of `keys` the set holds (on disk: one SELECT per 900 keys marked in the bitmap)."""
        found = self.recent.intersection(keys)
        if self.writing:
            found |= self.writing.intersection(keys)
        if self._reader is None:
            return found
        marked = self._marked([key for key in keys if key not in found] if found else keys)
        for start in range(0, len(marked), _CHUNK):
            chunk = marked[start : start + _CHUNK]
            query = f"SELECT key FROM keys WHERE key IN ({','.join('?' * len(chunk))})"
            found.update(key for (key,) in self._reader.execute(query, chunk))
        return found

    def add(self, keys: Iterable[bytes]) -> None:
        """Hold `keys` too."""
        self.recent.update(keys)
        if len(self.recent) > self.memory_keys:
            self._spill()

    def close(self) -> None:
        """Forget every key and delete the file."""
        with contextlib.suppress(Exception):  # a failed write matters no more: everything goes
            self._settle()
        self._thread.shutdown(wait=True)
        self.recent.clear()
        self.writing = set()
        self._marks, self._on_disk = bytearray(), 0
        for connection in (self._reader, self._writer):
            if connection is not None:
                connection.close()
        self._reader = self._writer = None
        if self.path is not None:
            for name in (str(self.path), f"{self.path}-wal", f"{self.path}-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name)
            self.path = None

    def _spill(self) -> None:
        """Mark the keys held in memory in the bitmap and hand them to the writing thread (once
        it has written the previous ones)."""
        self._settle()
        writer = self._writer or self._open()
        marks, last = self._marks, self._last_bit
        for key in self.recent:
            bit = hash(key) & last
            marks[bit >> 3] |= 1 << (bit & 7)
        self.writing, self.recent = self.recent, set()
        self._written = self._thread.submit(_write, writer, self.writing)

    def _settle(self) -> None:
        """Wait for the keys being written; they are then looked up in the file."""
        if self._written is None:
            return
        written, self._written = self._written, None
        self._on_disk += written.result()
        self.writing = set()

    def _marked(self, keys: Iterable[bytes]) -> list[bytes]:
        """Those of `keys` marked in the bitmap: on disk, or (rarely) sharing a bit with one."""
        marks, last = self._marks, self._last_bit
        return [key for key in keys if marks[(bit := hash(key) & last) >> 3] >> (bit & 7) & 1]

    def _open(self) -> sqlite3.Connection:
        """Create the file; return the writing thread's connection to it."""
        handle, name = tempfile.mkstemp(prefix="bulkadmin-keys-", suffix=".sqlite3")
        os.close(handle)
        self.path = Path(name)
        writer = self._writer = _connect(name)
        writer.execute("CREATE TABLE keys (key BLOB PRIMARY KEY) WITHOUT ROWID")
        writer.commit()
        self._reader = _connect(name)
        self._marks, self._last_bit = bytearray(MARK_BITS // 8), MARK_BITS - 1
        return writer


def _connect(name: str) -> sqlite3.Connection:
    connection = sqlite3.connect(name, check_same_thread=False)
    for pragma in _PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    return connection


def _write(disk: sqlite3.Connection, keys: Collection[bytes]) -> int:
    """Write `keys` to the file in order (in the set's thread); return how many were new."""
    before, ordered = disk.total_changes, sorted(keys)
    with disk:
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            disk.execute(f"INSERT OR IGNORE INTO keys VALUES {','.join(['(?)'] * len(chunk))}", chunk)
    return disk.total_changes - before
