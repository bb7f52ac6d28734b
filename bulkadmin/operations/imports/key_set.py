"""A set of fixed-size keys whose memory stays bounded however many it holds: the newest keys
live in a Python set; past `MEMORY_KEYS` they move to a temporary SQLite file (stdlib `sqlite3`,
no journal, a bounded page cache), deleted on `close`. A fixed bitmap marks the keys on disk
(one bit per key's hash), so most lookups of keys not held never reach the file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Collection, Iterable
from pathlib import Path

MEMORY_KEYS = 50_000  # keys held in memory (about 100 bytes each) before they move to disk
CACHE_KIB = 8_192  # SQLite's page cache for the file
MARK_BITS = 1 << 24  # the bitmap of keys on disk (2 MB): a key not marked is not on disk
_CHUNK = 900  # keys per statement, under SQLite's smallest limit on parameters (999)


class SpillingKeySet:
    """Keys (bytes) held in memory up to `memory_keys` (default `MEMORY_KEYS`), then on disk."""

    def __init__(self, *, memory_keys: int | None = None) -> None:
        self.memory_keys = MEMORY_KEYS if memory_keys is None else memory_keys
        self.recent: set[bytes] = set()
        self.on_disk = 0
        self.path: Path | None = None
        self._disk: sqlite3.Connection | None = None
        self._marks, self._last_bit = bytearray(), 0

    def found(self, keys: Collection[bytes]) -> set[bytes]:
        """Those of `keys` the set holds (on disk: one SELECT per 900 keys marked in the bitmap)."""
        found = {key for key in keys if key in self.recent}
        if self._disk is None:
            return found
        marked = list(self._marked(key for key in keys if key not in found))
        for start in range(0, len(marked), _CHUNK):
            chunk = marked[start : start + _CHUNK]
            query = f"SELECT key FROM keys WHERE key IN ({','.join('?' * len(chunk))})"
            found.update(key for (key,) in self._disk.execute(query, chunk))
        return found

    def add(self, keys: Iterable[bytes]) -> None:
        """Hold `keys` too."""
        self.recent.update(keys)
        if len(self.recent) > self.memory_keys:
            self._spill()

    def close(self) -> None:
        """Forget every key and delete the file."""
        self.recent.clear()
        self._marks, self.on_disk = bytearray(), 0
        if self._disk is not None:
            self._disk.close()
            self._disk = None
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.path = None

    def _spill(self) -> None:
        """Move the keys held in memory to the file, in order, and mark them."""
        disk = self._disk or self._open()
        before, ordered = disk.total_changes, sorted(self.recent)
        with disk:
            for start in range(0, len(ordered), _CHUNK):
                chunk = ordered[start : start + _CHUNK]
                disk.execute(f"INSERT OR IGNORE INTO keys VALUES {','.join(['(?)'] * len(chunk))}", chunk)
        self.on_disk += disk.total_changes - before
        marks, last = self._marks, self._last_bit
        for key in self.recent:
            bit = hash(key) & last
            marks[bit >> 3] |= 1 << (bit & 7)
        self.recent.clear()

    def _marked(self, keys: Iterable[bytes]) -> set[bytes]:
        """Those of `keys` marked in the bitmap: on disk, or (rarely) sharing a bit with one."""
        marks, last = self._marks, self._last_bit
        return {key for key in keys if marks[(bit := hash(key) & last) >> 3] >> (bit & 7) & 1}

    def _open(self) -> sqlite3.Connection:
        handle, name = tempfile.mkstemp(prefix="bulkadmin-keys-", suffix=".sqlite3")
        os.close(handle)
        self.path = Path(name)
        disk = sqlite3.connect(name, check_same_thread=False)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = -{CACHE_KIB}"):
            disk.execute(f"PRAGMA {pragma}")
        disk.execute("CREATE TABLE keys (key BLOB PRIMARY KEY) WITHOUT ROWID")
        self._marks, self._last_bit = bytearray(MARK_BITS // 8), MARK_BITS - 1
        self._disk = disk
        return disk
