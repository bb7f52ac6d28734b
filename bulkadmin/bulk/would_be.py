"""What a dry run's upserts would leave under each key, kept in a scratch database
(`core.scratch`: memory flat whatever the import's size, nothing left behind, even by a killed
process). The database exists from the first remembered write until `close`.

Documents are kept BSON-encoded with the codec options the product reads with, so they come back
as a read would return them (Int64, Decimal128, tz-aware UTC datetimes). Keys are
`key_values.canonical_key` texts (a long one as its 16-byte digest): equal for keys MongoDB
holds equal. Each statement covers many keys and runs without Python's lock.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Collection, Mapping
from typing import Any

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions

from bulkadmin.bulk.key_values import TEXT_KEY_CHARS
from bulkadmin.core.mongo import CLIENT_OPTIONS
from bulkadmin.core.scratch import PARAMETERS, chunks, scratch_database

CODEC_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(
    tz_aware=CLIENT_OPTIONS["tz_aware"],
    uuid_representation=getattr(UuidRepresentation, CLIENT_OPTIONS["uuidRepresentation"].upper()),
)
_CHUNK = PARAMETERS // 2  # rows per statement: two parameters each

Stored = str | bytes


class WouldBe:
    """A dry run's would-be documents by canonical key; None where the run would delete it.
    Shared by the plans of one session; `close` forgets them (SQLite deletes the database)."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    @property
    def opened(self) -> bool:
        """Whether the database exists (it does from the first remembered write until `close`)."""
        return self._db is not None

    def get(self, keys: Collection[str]) -> dict[str, dict[str, Any] | None]:
        """The remembered documents of those of `keys` that were written (one statement)."""
        if self._db is None or not keys:
            return {}
        wanted = {_stored(key): key for key in keys}
        found: dict[str, dict[str, Any] | None] = {}
        for chunk in chunks(list(wanted), _CHUNK):
            marks = ",".join("?" * len(chunk))
            for stored, data in self._db.execute(f"SELECT key, document FROM would_be WHERE key IN ({marks})", chunk):
                found[wanted[stored]] = None if data is None else bson.decode(data, CODEC_OPTIONS)
        return found

    def put(self, documents: Mapping[str, dict[str, Any] | None]) -> None:
        """Remember what each key would hold after a write (None: deleted)."""
        if not documents:
            return
        db = self._connection()
        rows = [(_stored(key), _encoded(document)) for key, document in documents.items()]
        for chunk in chunks(rows, _CHUNK):
            values = [value for row in chunk for value in row]
            db.execute(f"INSERT OR REPLACE INTO would_be VALUES {','.join(['(?,?)'] * len(chunk))}", values)

    def close(self) -> None:
        """Forget every document (SQLite deletes the database with its connection)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> WouldBe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = scratch_database()
            self._db.execute("CREATE TABLE would_be (key PRIMARY KEY, document BLOB)")
        return self._db


def _encoded(document: dict[str, Any] | None) -> bytes | None:
    return None if document is None else bson.encode(document, codec_options=CODEC_OPTIONS)


def _stored(key: str) -> Stored:
    """How a canonical key is held: itself, or 16 bytes digesting a long one."""
    if len(key) <= TEXT_KEY_CHARS:
        return key
    return hashlib.blake2b(key.encode(), digest_size=16).digest()
