"""Unique indexes that refuse exactly the documents MongoDB refuses.

neosqlite's unique index on `json_extract(data, '$.f')` differed from MongoDB three ways: SQLite
lets any number of rows hold NULL (a missing field and null alike), `json_extract` reads `true`
as 1, and a Decimal128 (a tagged object) differs from the number it equals. Here neosqlite's
index is kept without UNIQUE, for lookups by the key, and a companion unique index,
`keys_<index>`, holds `index_key` of each field (`index_keys`: BSON type and value; a missing
field as null); it is not listed and is dropped with its index. A sparse index's companion
leaves out the documents missing every field. Building a unique index over duplicates fails with
MongoDB's code 11000.

A data file written before (unique `json_extract` indexes, and `nulls_<index>` companions
holding `ifnull(..., x'00')`) is brought to this form when the server opens it (`upgrade`),
unless its stored documents already break the new rule, then it is left as it was.
"""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any

from neosqlite._sqlite import sqlite3  # the sqlite3 neosqlite uses (pysqlite3 when installed)
from neosqlite.collection.index_manager import IndexManager
from neosqlite.sql_utils import quote_table_name
from nx_27017.handler import NeoSQLiteHandler

from bulkadmin.devserver import index_keys
from bulkadmin.devserver.index_names import key_pairs
from bulkadmin.devserver.writes import DUPLICATE_KEY, CommandFailed

_PATH = re.compile(r"json_extract\(data, '([^']+)'\)")
COMPANION_PREFIX = "keys_"
_OLD_COMPANION_PREFIX = "nulls_"
_UNIQUE = "CREATE UNIQUE INDEX "
logger = logging.getLogger(__name__)


class IndexBuildFailed(Exception):
    """A unique index cannot be built: stored documents share a key."""

    code = DUPLICATE_KEY


def _key_paths(index_sql: str) -> list[str]:
    """The JSON paths an index of neosqlite's holds (its columns, not its WHERE)."""
    return _PATH.findall(index_sql.split(" WHERE ", 1)[0])


def companion_sql(name: str, table: str, paths: list[str], *, sparse: bool) -> str:
    """The unique index of MongoDB's keys beside neosqlite's index `name` on `paths`."""
    columns = ", ".join(f"index_key(data -> '{path}')" for path in paths)
    present = " OR ".join(f"data -> '{path}' IS NOT NULL" for path in paths)
    where = f" WHERE {present}" if sparse else ""
    return f'CREATE UNIQUE INDEX IF NOT EXISTS "{COMPANION_PREFIX}{name}" ON {table}({columns}){where}'


def _keyed(arguments: dict[str, Any]) -> bool:
    """Whether the index asked for is one neosqlite builds on `json_extract` (not `_id`, text, dates)."""
    if arguments["fts"] or arguments["datetime_field"]:
        return False
    return all(field != "_id" and direction != "text" for field, direction in key_pairs(arguments["key"]))


def _create_index(original: Any) -> Any:
    signature = inspect.signature(original)

    def create_index(self: IndexManager, *args: Any, **kwargs: Any) -> str:
        arguments = signature.bind(self, *args, **kwargs)
        arguments.apply_defaults()
        unique = arguments.arguments["unique"] and _keyed(arguments.arguments)
        if unique:
            arguments.arguments["unique"] = False  # the companion holds the keys unique
        try:
            name: str = original(*arguments.args, **arguments.kwargs)
        except sqlite3.IntegrityError as error:
            key = arguments.arguments["key"]
            failed = IndexBuildFailed(f"E11000 duplicate key error building the index on {key}: {error}")
            raise CommandFailed(failed) from error
        if unique:
            _add_companion(self, name, arguments.arguments["key"], sparse=arguments.arguments["sparse"])
        return name

    return create_index


def _add_companion(manager: IndexManager, name: str, key: Any, *, sparse: bool) -> None:
    db = manager.collection.db
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()
    paths = _key_paths(row[0] or "") if row else []
    if not paths:
        return
    try:
        db.execute(companion_sql(name, quote_table_name(manager.collection.name), paths, sparse=sparse))
    except sqlite3.IntegrityError as error:
        manager.drop_index(name)
        message = f"E11000 duplicate key error building index on {key}: stored documents share a key"
        raise CommandFailed(IndexBuildFailed(message)) from error


def _index_names(db: Any, table: str | None = None) -> set[str]:
    query = "SELECT name FROM sqlite_master WHERE type = 'index'" + (" AND tbl_name = ?" if table else "")
    return {row[0] for row in db.execute(query, (table,) if table else ()).fetchall()}


def _drop_index(original: Any) -> Any:
    def drop_index(self: IndexManager, index: str) -> Any:
        names = _index_names(self.collection.db)
        result = original(self, index)
        remaining = _index_names(self.collection.db)
        for name in names - remaining:
            self.collection.db.execute(f'DROP INDEX IF EXISTS "{COMPANION_PREFIX}{name}"')
        return result

    return drop_index


def _drop_indexes(original: Any) -> Any:
    def drop_indexes(self: IndexManager) -> Any:
        result = original(self)
        for name in _index_names(self.collection.db, self.collection.name):
            if name.startswith(COMPANION_PREFIX):
                self.collection.db.execute(f'DROP INDEX IF EXISTS "{name}"')
        return result

    return drop_indexes


def _index_information(original: Any) -> Any:
    def index_information(self: IndexManager) -> dict[str, Any]:
        names = _index_names(self.collection.db, self.collection.name)
        listed: dict[str, Any] = original(self)
        return {
            name: {**info, "unique": True} if f"{COMPANION_PREFIX}{name}" in names else info
            for name, info in listed.items()
            if not name.startswith(COMPANION_PREFIX)
        }

    return index_information


_EXTRACT = r"json_extract\(data, '[^']+'\)"
_OLD_UNIQUE = re.compile(
    rf"CREATE UNIQUE INDEX (?:IF NOT EXISTS )?\S+ ON \S+\({_EXTRACT}(?:, {_EXTRACT})*\)(?P<where> WHERE .*)?",
    re.DOTALL,
)


def _to_upgrade(db: Any) -> list[tuple[str, str, str]]:
    """The name, table and SQL of each unique index of neosqlite's still holding its keys unique."""
    rows = db.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    return [(name, table, sql) for name, table, sql in rows.fetchall() if _OLD_UNIQUE.fullmatch(sql.strip())]


def upgrade(db: Any) -> None:
    """Bring the unique indexes of a data file written before `index_key` to this module's form,
    in one transaction; left as they were when stored documents already break MongoDB's rule."""
    if not _to_upgrade(db):
        return
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:  # another connection writes: the next one opened upgrades
        logger.warning("Unique indexes not upgraded yet: %s", error)
        return
    try:
        for name, table, sql in _to_upgrade(db):  # again, under the write lock
            _upgrade_index(db, name, quote_table_name(table), sql.strip())
    except sqlite3.IntegrityError as error:
        db.execute("ROLLBACK")
        logger.warning("Unique indexes left as they were: stored documents share a key (%s)", error)
        return
    db.execute("COMMIT")


def _upgrade_index(db: Any, name: str, table: str, sql: str) -> None:
    db.execute(f'DROP INDEX IF EXISTS "{_OLD_COMPANION_PREFIX}{name}"')
    db.execute(f'DROP INDEX "{name}"')
    db.execute("CREATE INDEX " + sql.removeprefix(_UNIQUE))
    sparse = _OLD_UNIQUE.fullmatch(sql)["where"] is not None  # type: ignore[index]
    db.execute(companion_sql(name, table, _key_paths(sql), sparse=sparse))


def _open_db_conn(original: Any) -> Any:
    def open_db_conn(self: NeoSQLiteHandler, db_name: str) -> Any:
        connection = original(self, db_name)
        index_keys.prepare(connection.db)
        upgrade(connection.db)
        return connection

    return open_db_conn


def install() -> None:
    """Give unique indexes MongoDB's keys; every connection the server opens gets `index_key`
    and, on a data file written before, its indexes upgraded."""
    NeoSQLiteHandler._open_db_conn = _open_db_conn(NeoSQLiteHandler._open_db_conn)
    IndexManager.index_information = _index_information(IndexManager.index_information)
    IndexManager.create_index = _create_index(IndexManager.create_index)
    IndexManager.drop_index = _drop_index(IndexManager.drop_index)
    IndexManager.drop_indexes = _drop_indexes(IndexManager.drop_indexes)
