"""Indexes listed and dropped under the names MongoDB gives them.

neosqlite names every index `idx_<collection>_<fields>` and ignores the name it is given, so
`create_index` returned `email_1` (pymongo's name) while `index_information()` listed
`idx_users_email`, and `drop_index("email_1")` found nothing to drop. Here each index's name
(the client's, else MongoDB's default `<field>_<direction>_...`) and key, directions included,
are kept beside it in a table hidden like neosqlite's own; indexes are listed under that name
and that key, and dropped by it. An index created before this table existed keeps its SQLite name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from neosqlite._sqlite import sqlite3  # the sqlite3 neosqlite uses (pysqlite3 when installed)
from neosqlite.collection.index_manager import IndexManager

TABLE = "_neosqlite_bulkadmin_index_names"
_SQLITE_PREFIX = "idx_"


def key_pairs(key: Any) -> list[tuple[str, Any]]:
    """An index key as `(field, direction)` pairs, from any form `create_index` accepts."""
    if isinstance(key, str):
        return [(key, 1)]
    return [(item, 1) if isinstance(item, str) else (str(item[0]), item[1]) for item in key]


def default_name(key: Any) -> str:
    """MongoDB's name for an index created without one: `email_1`, `a_1_b_-1`."""
    return "_".join(f"{field}_{direction}" for field, direction in key_pairs(key))


def _ensure_table(manager: IndexManager) -> None:
    manager.collection.db.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} "
        "(sqlite_name TEXT PRIMARY KEY, collection TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL)"
    )


def _forget_dropped(manager: IndexManager) -> None:
    """Forget the names of indexes that no longer exist (dropped alone, with all, or with their collection)."""
    manager.collection.db.execute(
        f"DELETE FROM {TABLE} WHERE sqlite_name NOT IN (SELECT name FROM sqlite_master WHERE type = 'index')"
    )


def _named(manager: IndexManager) -> dict[str, tuple[str, dict[str, Any]]]:
    """This collection's SQLite index names, each with its MongoDB name and key (read only: a
    reader's connection never writes)."""
    query = f"SELECT sqlite_name, name, key FROM {TABLE} WHERE collection = ?"
    try:
        rows = manager.collection.db.execute(query, (manager.collection.name,)).fetchall()
    except sqlite3.OperationalError:  # no index was named here yet
        return {}
    return {sqlite_name: (name, dict(json.loads(key))) for sqlite_name, name, key in rows}


def _key_and_name(key: Any, *options: Any, name: str | None = None, **more: Any) -> tuple[Any, str | None]:
    """The key and the name among `create_index`'s arguments."""
    return key, name


def _create_index(original: Callable[..., str]) -> Callable[..., str]:
    def create_index(self: IndexManager, *args: Any, **kwargs: Any) -> str:
        sqlite_name = original(self, *args, **kwargs)
        if not sqlite_name.startswith(_SQLITE_PREFIX):  # a text index: not a SQLite index
            return sqlite_name
        key, name = _key_and_name(*args, **kwargs)
        _ensure_table(self)
        self.collection.db.execute(
            f"INSERT OR REPLACE INTO {TABLE} (sqlite_name, collection, name, key) VALUES (?, ?, ?, ?)",
            (sqlite_name, self.collection.name, name or default_name(key), json.dumps(key_pairs(key))),
        )
        return sqlite_name  # neosqlite's callers read the SQLite name; the client sent its own

    return create_index


def _sqlite_name(manager: IndexManager, name: str) -> str | None:
    """The SQLite name of this collection's index called `name`, if it was created under it."""
    _ensure_table(manager)
    query = f"SELECT sqlite_name FROM {TABLE} WHERE collection = ? AND name = ?"
    row = manager.collection.db.execute(query, (manager.collection.name, name)).fetchone()
    return row[0] if row else None


def _drop_index(original: Callable[..., Any]) -> Callable[..., Any]:
    def drop_index(self: IndexManager, index: Any) -> Any:
        sqlite_name = _sqlite_name(self, index) if isinstance(index, str) else None
        result = original(self, sqlite_name or index)
        _forget_dropped(self)
        return result

    return drop_index


def _drop_indexes(original: Callable[..., Any]) -> Callable[..., Any]:
    def drop_indexes(self: IndexManager) -> Any:
        result = original(self)
        _ensure_table(self)
        _forget_dropped(self)
        return result

    return drop_indexes


def _index_information(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def index_information(self: IndexManager) -> dict[str, Any]:
        named = _named(self)
        listed: dict[str, Any] = {}
        for sqlite_name, info in original(self).items():
            name, key = named.get(sqlite_name, (sqlite_name, info.get("key")))
            listed[name] = {**info, "key": key} if key else info
        return listed

    return index_information


def install() -> None:
    """List and drop indexes by their MongoDB names (after `indexes`, whose wrappers see SQLite's)."""
    IndexManager.create_index = _create_index(IndexManager.create_index)
    IndexManager.drop_index = _drop_index(IndexManager.drop_index)
    IndexManager.drop_indexes = _drop_indexes(IndexManager.drop_indexes)
    IndexManager.index_information = _index_information(IndexManager.index_information)
