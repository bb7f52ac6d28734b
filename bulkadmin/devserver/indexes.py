"""Unique indexes that hold MongoDB's rule for missing and null values.

SQLite's unique indexes let any number of rows hold NULL, and neosqlite indexes `json_extract`,
which is NULL for a missing field and for null alike: two documents without an `email` (or with
`email: null`) were both stored under a unique index on `email`, where MongoDB refuses the second.
Each unique index (not sparse) here gets a companion unique index on the same fields with NULL
written as a value of its own (`ifnull(..., x'00')`: no JSON value reads as a blob), named
`nulls_<index>`, which neosqlite does not list; it is dropped with its index. Building a unique
index over duplicates fails with MongoDB's code 11000.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from neosqlite._sqlite import sqlite3  # the sqlite3 neosqlite uses (pysqlite3 when installed)
from neosqlite.collection.index_manager import IndexManager
from neosqlite.sql_utils import quote_table_name

from bulkadmin.devserver.writes import DUPLICATE_KEY, CommandFailed

_EXTRACT = re.compile(r"json_extract\(data, '[^']+'\)")
COMPANION_PREFIX = "nulls_"


class IndexBuildFailed(Exception):
    """A unique index cannot be built: stored documents share a key."""

    code = DUPLICATE_KEY


def _companion_sql(index_sql: str, name: str, table: str) -> str | None:
    expressions = _EXTRACT.findall(index_sql)
    if not expressions:
        return None
    columns = ", ".join(f"ifnull({expression}, x'00')" for expression in expressions)
    return f'CREATE UNIQUE INDEX IF NOT EXISTS "{COMPANION_PREFIX}{name}" ON {table}({columns})'


def _create_index(original: Any) -> Any:
    signature = inspect.signature(original)

    def create_index(self: IndexManager, *args: Any, **kwargs: Any) -> str:
        arguments = signature.bind(self, *args, **kwargs)
        arguments.apply_defaults()
        key = arguments.arguments["key"]
        try:
            name: str = original(self, *args, **kwargs)
        except sqlite3.IntegrityError as error:
            failed = IndexBuildFailed(f"E11000 duplicate key error building the index on {key}: {error}")
            raise CommandFailed(failed) from error
        if arguments.arguments["unique"] and not arguments.arguments["sparse"]:
            _add_companion(self, name, key)
        return name

    return create_index


def _add_companion(manager: IndexManager, name: str, key: Any) -> None:
    db = manager.collection.db
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()
    sql = _companion_sql(row[0] or "", name, quote_table_name(manager.collection.name)) if row else None
    if sql is None:
        return
    try:
        db.execute(sql)
    except sqlite3.IntegrityError as error:
        manager.drop_index(name)
        message = f"E11000 duplicate key error building index on {key}: stored documents share a missing or null key"
        raise CommandFailed(IndexBuildFailed(message)) from error


def _drop_index(original: Any) -> Any:
    def drop_index(self: IndexManager, index: str) -> Any:
        names = [row[0] for row in self.collection.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
        result = original(self, index)
        remaining = {
            row[0] for row in self.collection.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        for name in names:
            if name not in remaining and f"{COMPANION_PREFIX}{name}" in remaining:
                self.collection.db.execute(f'DROP INDEX IF EXISTS "{COMPANION_PREFIX}{name}"')
        return result

    return drop_index


def _index_names(manager: IndexManager) -> list[str]:
    rows = manager.collection.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return [row[0] for row in rows]


def _drop_indexes(original: Any) -> Any:
    def drop_indexes(self: IndexManager) -> Any:
        result = original(self)
        table = self.collection.name
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name LIKE ?"
        for (name,) in self.collection.db.execute(query, (table, f"{COMPANION_PREFIX}%")).fetchall():
            self.collection.db.execute(f'DROP INDEX IF EXISTS "{name}"')
        return result

    return drop_indexes


def _index_information(original: Any) -> Any:
    def index_information(self: IndexManager) -> dict[str, Any]:
        listed: dict[str, Any] = original(self)
        return {name: info for name, info in listed.items() if not name.startswith(COMPANION_PREFIX)}

    return index_information


def install() -> None:
    """Give unique indexes MongoDB's rule for missing and null keys."""
    IndexManager.index_information = _index_information(IndexManager.index_information)
    IndexManager.create_index = _create_index(IndexManager.create_index)
    IndexManager.drop_index = _drop_index(IndexManager.drop_index)
    IndexManager.drop_indexes = _drop_indexes(IndexManager.drop_indexes)
