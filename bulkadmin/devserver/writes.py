"""Writes that keep every value and cost one SQLite transaction per command.

- Updates: every document is updated by `devserver.updates` (exact values, MongoDB's operator
  semantics) and written back whole; an update that changes nothing writes nothing.
- Inserts: a document is encoded once (no deep copy, no second walk for bytes, no re-validation
  of JSON this encoder wrote).
- Each insert, update, delete and findAndModify command runs in one SQLite transaction, so a
  batch of 1,000 documents is one commit instead of 1,000. A document's write error undoes only
  its own statement (SQLite's statement atomicity), so ordered and unordered batches report
  `writeErrors` as before; an unexpected failure rolls the whole command back.
- findAndModify reports a failed update as an error (nx-27017 answered "no document").
- A duplicate key is MongoDB's error 11000 with its message ("E11000 duplicate key error ..."),
  `keyPattern` and `keyValue`, not SQLite's "UNIQUE constraint failed".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import bson
from neosqlite._sqlite import sqlite3  # the sqlite3 neosqlite uses (pysqlite3 when installed)
from neosqlite.collection import Collection
from neosqlite.collection.query_engine import QueryEngine
from neosqlite.collection.query_helper import QueryHelper
from neosqlite.exceptions import MalformedDocument
from neosqlite.objectid import ObjectId
from neosqlite.results import UpdateResult
from neosqlite.sql_utils import quote_table_name
from nx_27017 import handler as nx_handler
from nx_27017.handler import NeoSQLiteHandler, _msg_db_name
from nx_27017.wire_protocol import MAX_BSON_DOCUMENT_SIZE

from bulkadmin.devserver import document_ids, values
from bulkadmin.devserver.paths import MISSING, UpdateFailed, get_path
from bulkadmin.devserver.updates import apply_update, identical

BAD_VALUE = 2
IMMUTABLE_FIELD = 66
DOCUMENT_TOO_LARGE = 17419
DUPLICATE_KEY = 11000
_UNIQUE_FAILED = re.compile(r"UNIQUE constraint failed: index '([^']+)'")
_KEY_PATH = re.compile(r"(?:json_extract\(data, |index_key\(data -> )'\$\.([^']+)'\)")
_WRITE_COMMANDS = frozenset({"insert", "update", "delete", "findAndModify", "findandmodify"})


class CommandFailed(BaseException):
    """A command's failure carried past nx-27017's handler, which would answer "ok" without it
    (a BaseException passes its `except Exception`)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


class DuplicateKey(Exception):
    """A write that would store a second document with the same unique key."""

    code = DUPLICATE_KEY

    def __init__(self, collection: str, key_value: dict[str, Any]) -> None:
        self.key_pattern = {field: 1 for field in key_value}
        self.key_value = key_value
        index = "_id_" if list(key_value) == ["_id"] else "_".join(f"{field}_1" for field in key_value)
        shown = ", ".join(f"{field}: {value!r}" for field, value in key_value.items())
        super().__init__(f"E11000 duplicate key error collection: {collection} index: {index} dup key: {{ {shown} }}")


def _duplicate_key(helper: QueryHelper, document: dict[str, Any], error: Exception) -> Exception:
    """SQLite's unique-constraint failure as MongoDB's duplicate key error (others unchanged)."""
    if str(error).endswith("._id") and str(error).startswith("UNIQUE constraint failed: "):  # the `_id` column
        return DuplicateKey(helper.collection.name, {"_id": document.get("_id")})
    found = _UNIQUE_FAILED.search(str(error))
    if found is None:
        return error
    row = helper.collection.db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (found[1],)).fetchone()
    fields = _KEY_PATH.findall(row[0] or "") if row else []
    key_value = {field: get_path(document, field.split(".")) for field in fields or ["_id"]}
    return DuplicateKey(helper.collection.name, {k: None if v is MISSING else v for k, v in key_value.items()})


def _update_document(
    self: QueryHelper,
    doc_id: Any,
    update_spec: dict[str, Any],
    original_doc: dict[str, Any],
    array_filters: list[dict[str, Any]] | None = None,
    query_filter: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], bool]:
    """neosqlite's `_internal_update`: `doc_id` is the row's number, 0 for an upsert."""
    updated = apply_update(
        original_doc, update_spec, upsert=doc_id == 0, query=query_filter, array_filters=array_filters
    )
    modified = not identical(updated, original_doc)
    if doc_id != 0 and modified:
        if "_id" in original_doc and not identical(updated.get("_id"), original_doc["_id"]):
            raise UpdateFailed(
                "Performing an update on the path '_id' would modify the immutable field '_id'", IMMUTABLE_FIELD
            )
        row = doc_id if isinstance(doc_id, int) else self._get_integer_id_for_oid(doc_id)
        _write(self, row, updated)
    return updated, modified


def _replace_document(self: QueryHelper, doc_id: Any, replacement: dict[str, Any]) -> None:
    """neosqlite's `_internal_replace`: the stored `_id` kept as it is (type included) and first;
    a replacement naming another `_id` refused, as MongoDB refuses it."""
    row = doc_id if isinstance(doc_id, int) else self._get_integer_id_for_oid(doc_id)
    table = quote_table_name(self.collection.name)
    found = self.collection.db.execute(f"SELECT data FROM {table} WHERE id = ?", (row,)).fetchone()
    stored_id = values.loads(found[0]).get("_id", MISSING) if found else MISSING
    if "_id" in replacement and stored_id is not MISSING and not identical(replacement["_id"], stored_id):
        raise UpdateFailed("The _id field cannot be changed by a replacement", IMMUTABLE_FIELD)
    document = {key: value for key, value in replacement.items() if key != "_id"}
    if stored_id is not MISSING:
        document = {"_id": stored_id, **document}
    _write(self, row, document)


def _write(helper: QueryHelper, row: int, document: dict[str, Any]) -> None:
    """Store `document` as row `row`: refused past 16 MB, a duplicate key as MongoDB's error."""
    stored = values.dumps(document)
    if len(stored) > MAX_BSON_DOCUMENT_SIZE // 2 and len(bson.encode(document)) > MAX_BSON_DOCUMENT_SIZE:
        raise UpdateFailed("Resulting document after update is larger than 16777216", DOCUMENT_TOO_LARGE)
    try:
        helper.collection.db.execute(
            f"UPDATE {quote_table_name(helper.collection.name)} SET data = ? WHERE id = ?", (stored, row)
        )
    except sqlite3.IntegrityError as error:
        raise _duplicate_key(helper, document, error) from error


def _update_many(
    self: QueryEngine,
    filter: dict[str, Any],
    update: dict[str, Any],
    upsert: bool = False,
    array_filters: list[dict[str, Any]] | None = None,
    session: Any = None,
) -> UpdateResult:
    """neosqlite's `update_many`, reading the matched documents with one query (it read each again
    by its row number); a filter it cannot translate, or an upsert that matched nothing, as before."""
    query = self.helpers._normalize_id_query(filter)
    where, params = self.sql_translator.translate_match(query)
    if where is None:
        return _neosqlite_update_many(self, filter, update, upsert, array_filters, session)
    table = quote_table_name(self.collection.name)
    rows = self.collection.db.execute(f"SELECT id, _id, data FROM {table} {where}", params).fetchall()
    if not rows and upsert:
        return _neosqlite_update_many(self, filter, update, upsert, array_filters, session)
    modified = 0
    for row, stored_id, data in rows:
        document = self.collection._load_with_stored_id(row, data, stored_id)
        modified += self.helpers._internal_update(row, update, document, array_filters, query)[1]
    return UpdateResult(matched_count=len(rows), modified_count=modified, upserted_id=None)


_neosqlite_update_many = QueryEngine.update_many


def _insert_document(self: QueryHelper, document: dict[str, Any]) -> Any:
    """neosqlite's `_internal_insert`: the document encoded once, its `_id` in the indexed column;
    refused past 16 MiB, as MongoDB refuses it (nx-27017 stored it)."""
    if not isinstance(document, dict):
        raise MalformedDocument(f"document must be a dictionary, not a {type(document)}")
    if document.get("_id") is None:
        document["_id"] = ObjectId()
    doc_id = document["_id"]
    stored = values.dumps(document)
    if len(stored) > MAX_BSON_DOCUMENT_SIZE // 2 and (size := _bson_size(document)) > MAX_BSON_DOCUMENT_SIZE:
        message = f"object to insert too large. size in bytes: {size}, max size: {MAX_BSON_DOCUMENT_SIZE}"
        raise UpdateFailed(message, BAD_VALUE)
    try:
        self.collection.db.execute(
            f"INSERT INTO {quote_table_name(self.collection.name)}(data, _id) VALUES (?, ?)",
            (stored, document_ids.stored_id(doc_id)),
        )
    except sqlite3.IntegrityError as error:
        raise _duplicate_key(self, document, error) from error
    return doc_id


def _as_bson(value: Any) -> Any:
    return bson.ObjectId(str(value)) if isinstance(value, ObjectId) else value


_SIZED: bson.CodecOptions[Any] = bson.CodecOptions(
    type_registry=bson.codec_options.TypeRegistry(fallback_encoder=_as_bson)
)


def _bson_size(document: dict[str, Any]) -> int:
    """The size of `document` in BSON (neosqlite's ObjectIds as BSON's)."""
    return len(bson.encode(document, codec_options=_SIZED))


def _find_one_and_replace(
    self: Collection,
    filter: dict[str, Any],
    replacement: dict[str, Any],
    projection: dict[str, Any] | None = None,
    sort: list[tuple[str, int]] | None = None,
    upsert: bool = False,
    return_document: bool = False,
    **_: Any,
) -> dict[str, Any] | None:
    """neosqlite's `find_one_and_replace` through `_replace_document` (it wrote the replacement
    a second time without its `_id`, which then came back as the text of the stored one)."""
    cursor = self.find(filter)
    found = next(iter((cursor.sort(sort) if sort else cursor).limit(1)), None)
    if found is None:
        if not upsert:
            return None
        doc_id = self.insert_one(dict(replacement)).inserted_id
        return self.find_one({"_id": doc_id}, projection) if return_document else None
    self.query_engine.helpers._internal_replace(self.query_engine._get_integer_id_for_oid(found["_id"]), replacement)
    if return_document:
        return self.find_one({"_id": found["_id"]}, projection)  # type: ignore[no-any-return]
    return self.query_engine.helpers._apply_projection(projection, found) if projection else found  # type: ignore[no-any-return]


def _raising(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` with its failures carried past nx-27017's handler as `CommandFailed`."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as error:
            raise CommandFailed(error) from error

    return call


def _error_reply(error: BaseException) -> dict[str, Any]:
    cause = error.cause if isinstance(error, CommandFailed) else error
    return {"ok": 0, "errmsg": str(cause), "code": getattr(cause, "code", 8)}


def _command_name(msg: dict[str, Any]) -> str | None:
    for section_type, section in msg.get("sections", ()):
        if section_type == "body" and isinstance(section, dict) and section:
            return str(next(iter(section)))
    return None


def _in_one_transaction(handle: Callable[..., Any]) -> Callable[..., Any]:
    """A handler method that runs each write command in one SQLite transaction."""

    @functools.wraps(handle)
    def run(self: NeoSQLiteHandler, msg: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if _command_name(msg) not in _WRITE_COMMANDS:
            try:
                return handle(self, msg)  # type: ignore[no-any-return]
            except CommandFailed as error:
                return msg["request_id"], _error_reply(error)
        db_name = _msg_db_name(msg)
        with self._lock_for(db_name):
            connection = self.get_database(db_name).db
            if connection.in_transaction:  # a client's transaction is open: it commits
                return handle(self, msg)  # type: ignore[no-any-return]
            connection.execute("BEGIN IMMEDIATE")
            try:
                reply = handle(self, msg)
            except CommandFailed as error:
                connection.rollback()
                return msg["request_id"], _error_reply(error)
            except BaseException:
                connection.rollback()
                raise
            if connection.in_transaction:
                connection.commit()
            return reply  # type: ignore[no-any-return]

    return run


def _write_error(error: Exception, index: int) -> dict[str, Any]:
    """nx-27017's writeErrors entry, with the code an update failure carries."""
    entry: dict[str, Any] = _bulk_write_error(error, index)
    if isinstance(error, UpdateFailed | DuplicateKey):
        entry["code"] = error.code
    if isinstance(error, DuplicateKey):
        entry.update(keyPattern=error.key_pattern, keyValue=error.key_value)
    return entry


_bulk_write_error = nx_handler._bulk_write_error


def install() -> None:
    """Install exact updates, lean inserts and one transaction per write command."""
    QueryHelper._internal_update = _update_document
    QueryHelper._internal_insert = _insert_document
    QueryHelper._internal_replace = _replace_document
    QueryEngine.update_many = _update_many
    Collection.find_one_and_replace = _find_one_and_replace
    for name in ("find_one_and_update", "find_one_and_replace", "find_one_and_delete"):
        setattr(Collection, name, _raising(getattr(Collection, name)))
    nx_handler._bulk_write_error = _write_error
    NeoSQLiteHandler.handle_command = _in_one_transaction(NeoSQLiteHandler.handle_command)
    NeoSQLiteHandler.handle_insert = _in_one_transaction(NeoSQLiteHandler.handle_insert)
