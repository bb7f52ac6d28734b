"""Entry point of the embedded development server: nx-27017 with correctness fixes.

nx-27017 0.8.1 (neosqlite 1.17) deviates from MongoDB where bulkadmin relies on it:

- its SQL update path stores a datetime written by `$set`, `$min` or `$max` on an existing
  document as a string, and a boolean as the integer 0 / 1. Updates whose values hold a datetime
  or a boolean are sent down its Python update path instead, which keeps their types;
- its SQL filters treat a field holding null as missing: `{"x": {"$ne": null}}` matched
  documents without `x`, and `$exists` ignored fields set to null. `$ne: null` and `$exists` are
  translated here with `json_type`, which tells null (`'null'`) from missing (SQL NULL);
- it reads every document for an `_id` range (`{"_id": {"$gt": oid}}`), an `_id` `$type` test,
  and an `_id` `$in` in updates and deletes. These are sent to the indexed `_id` column here when
  their values are ObjectIds (stored there as 24 lowercase hex digits, which sort as the
  ObjectIds do; a string of 24 hex digits is stored there alike, so the document's `_id` must
  also be an object), so keyset paging and writes by `_id` cost the same at any size;
- an aggregation (so `count_documents`) got the client's ObjectIds unconverted and found no
  document for an ObjectId condition; they are converted here as for every other command;
- its writes matched in Python (e.g. `_id` `$in` mixing ObjectIds and integers) took an integer
  `_id` for the row's number and wrote another document, or none. They find the row by `_id` here;
- each reply walked every value of every document it returned in Python to convert its
  ObjectIds and Decimals, after a failed BSON encoding per document to measure it, and encoded
  each again for the reply. Here the BSON encoder converts them (a fallback encoder) and each
  document is encoded once, which makes reading documents about a quarter faster.

Nothing here is used with a real MongoDB server.
"""

from __future__ import annotations

import datetime as dt
import struct
import sys
from decimal import Decimal
from typing import Any

from bson import Decimal128, Int64, encode
from bson import ObjectId as BsonObjectId
from bson.codec_options import CodecOptions, TypeRegistry
from bson.raw_bson import RawBSONDocument
from neosqlite import query_operators
from neosqlite.collection import Collection
from neosqlite.collection.query_engine import QueryEngine
from neosqlite.collection.query_helper import QueryHelper
from neosqlite.collection.query_helper._sql_query_builder import SqlQueryBuilderMixin, _normalize_id_value
from neosqlite.collection.sql_translator_unified import SQLOperatorTranslator
from neosqlite.objectid import ObjectId
from neosqlite.sql_utils import quote_table_name
from nx_27017.handler import NeoSQLiteHandler
from nx_27017.nx_27017 import main
from nx_27017.utils import convert_bson_to_neo_objectids
from nx_27017.wire_protocol import MAX_BSON_DOCUMENT_SIZE, ResponseBuilder, WireProtocol


def _holds_retyped_value(value: Any) -> bool:
    """True when `value` holds a datetime or a boolean, which the SQL update path re-types."""
    if isinstance(value, bool | dt.datetime | dt.date):
        return True
    if isinstance(value, dict):
        return any(_holds_retyped_value(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_retyped_value(item) for item in value)
    return False


def _patch_typed_updates() -> None:
    sql_path_allowed = QueryHelper._can_use_sql_updates

    def can_use_sql_updates(self: QueryHelper, update_spec: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
        if _holds_retyped_value(update_spec):
            return False
        return bool(sql_path_allowed(self, update_spec, *args, **kwargs))

    QueryHelper._can_use_sql_updates = can_use_sql_updates


def _null_aware_clause(type_of: str, operator: str, value: Any) -> str | None:
    """MongoDB's `$ne: null` (present and not null) and `$exists` (present, null included) as
    SQL on `type_of`, a `json_type(...)` expression; None for other operators."""
    if operator == "$ne" and value is None:
        return f"{type_of} != 'null'"
    if operator == "$exists" and isinstance(value, bool):
        return f"{type_of} IS {'NOT ' if value else ''}NULL"
    return None


def _patch_null_filters() -> None:
    build_operator_clause = SqlQueryBuilderMixin._build_operator_clause

    def build(self: Any, json_path: str, operators: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        own = [_null_aware_clause(f"json_type(data, {json_path})", op, value) for op, value in operators.items()]
        if not any(own):
            return build_operator_clause(self, json_path, operators, *args, **kwargs)
        rest = {op: value for (op, value), clause in zip(operators.items(), own, strict=True) if clause is None}
        clauses, params = [clause for clause in own if clause], []
        if rest:
            clause, params = build_operator_clause(self, json_path, rest, *args, **kwargs)
            if clause is None:
                return None, []
            clauses.append(clause)
        return " AND ".join(clauses), params

    SqlQueryBuilderMixin._build_operator_clause = build

    translate_operator = SQLOperatorTranslator.translate_operator

    def translate(self: Any, field_access: str, operator: str, value: Any) -> Any:
        if "extract(" in field_access:
            type_of = field_access.replace("jsonb_extract(", "json_type(").replace("json_extract(", "json_type(")
            clause = _null_aware_clause(type_of, operator, value)
            if clause is not None:
                return clause, []
        return translate_operator(self, field_access, operator, value)

    SQLOperatorTranslator.translate_operator = translate
    _patch_python_null_matching()


def _patch_python_null_matching() -> None:
    """The Python matcher (used when a filter cannot be SQL, and by aggregations such as
    `count_documents`): `$ne: null` must not match a missing field, `{x: null}` must."""
    not_equal = query_operators._ne

    def ne(field: str, value: Any, document: dict[str, Any]) -> bool:
        if value is None and not query_operators._field_exists(field, document):
            return False
        return bool(not_equal(field, value, document))

    query_operators._ne = ne
    apply_query = QueryHelper._apply_query

    def apply(self: QueryHelper, query: dict[str, Any], document: dict[str, Any]) -> bool:
        return bool(apply_query(self, _null_equalities(query), document))

    QueryHelper._apply_query = apply


def _null_equalities(query: Any) -> Any:
    """`{x: null}` spelled `{x: {"$eq": null}}`, which the Python matcher gets right for a missing x."""
    if not isinstance(query, dict):
        return query
    rewritten: dict[str, Any] = {}
    for key, value in query.items():
        if key in ("$and", "$or", "$nor") and isinstance(value, list):
            rewritten[key] = [_null_equalities(clause) for clause in value]
        elif value is None and not key.startswith("$"):
            rewritten[key] = {"$eq": None}
        else:
            rewritten[key] = value
    return rewritten


_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_HEX_24 = "[0-9a-f]" * 24
_OBJECT_ID_TYPES = ("objectId", 7)
# How a document whose `_id` (its first key, as inserted) is an ObjectId starts, as stored.
_OBJECT_ID_FIRST = ('{"_id":{"__neosqlite_objectid__":', '{"_id": {"__neosqlite_objectid__":')


def _object_id_clause(column: str, data: str, operator: str, value: Any) -> tuple[str, list[Any]] | None:
    """An `_id` condition on ObjectIds as SQL on the indexed `_id` column (`data`: the document
    column); None for others. The column holds an ObjectId and a string of the same 24 hex
    digits alike: only the document tells them apart (an ObjectId is stored there as an object)."""
    stored_first = " OR ".join(f"{data} GLOB '{prefix}*'" for prefix in _OBJECT_ID_FIRST)  # no parse needed
    is_object_id = f"({column} GLOB '{_HEX_24}' AND ({stored_first} OR json_type({data}, '$._id') = 'object'))"
    if operator in _RANGES and isinstance(value, ObjectId):
        return f"({column} {_RANGES[operator]} ? AND {is_object_id})", [str(value)]
    if operator == "$in" and isinstance(value, list) and value and all(isinstance(v, ObjectId) for v in value):
        return f"({column} IN ({', '.join('?' for _ in value)}) AND {is_object_id})", [str(v) for v in value]
    if operator == "$type" and value in _OBJECT_ID_TYPES:
        return is_object_id, []
    if (
        operator == "$not"
        and isinstance(value, dict)
        and list(value) == ["$type"]
        and value["$type"] in _OBJECT_ID_TYPES
    ):
        return f"NOT {is_object_id}", []
    return None


def _patch_object_id_conditions() -> None:
    build_id_clause = SqlQueryBuilderMixin._build_id_operator_clause

    def build(self: Any, value: dict[str, Any]) -> Any:
        column = self._id_column_ref()
        data = f"{quote_table_name(self.collection.name)}.data"
        own = {op: _object_id_clause(column, data, op, operand) for op, operand in value.items()}
        rest = {op: operand for op, operand in value.items() if own[op] is None}
        clauses = [clause for clause in own.values() if clause is not None]
        if rest:
            other = build_id_clause(self, rest)
            if other is None:
                return None
            clauses.append(other)
        return " AND ".join(sql for sql, _ in clauses), [param for _, params in clauses for param in params]

    SqlQueryBuilderMixin._build_id_operator_clause = build
    translate_operator = SQLOperatorTranslator.translate_operator

    def translate(self: Any, field_access: str, operator: str, value: Any) -> Any:
        data = self.field_accessor.data_column
        if field_access == "_id" and (clause := _object_id_clause("_id", data, operator, value)) is not None:
            return clause
        return translate_operator(self, field_access, operator, value)

    SQLOperatorTranslator.translate_operator = translate


def _patch_rows_by_id() -> None:
    """Writes whose filter is matched in Python find each document's row by its `_id`; an integer
    `_id` was taken for the row's number, so the write went to another document (or none)."""

    def row_of(self: Any, doc_id: Any) -> int:
        name = quote_table_name(self.collection.name)
        row = self.collection.db.execute(
            f"SELECT id FROM {name} WHERE _id = ?", (_normalize_id_value(doc_id),)
        ).fetchone()
        if row is None:
            raise ValueError(f"No document with _id {doc_id!r}")
        return int(row[0])

    QueryEngine._get_integer_id_for_oid = row_of


def _patch_aggregate_object_ids() -> None:
    """An aggregation (`count_documents` is one) gets the client's ObjectIds as the server's own
    type, as every other command does; it found no document for an ObjectId condition."""
    aggregate = Collection.aggregate

    def aggregate_with_object_ids(self: Collection, pipeline: list[Any], *args: Any, **kwargs: Any) -> Any:
        return aggregate(self, convert_bson_to_neo_objectids(pipeline), *args, **kwargs)

    Collection.aggregate = aggregate_with_object_ids


def _as_bson(value: Any) -> Any:
    """The server's own ObjectId and Decimal as BSON types; called by the BSON encoder for
    values it cannot encode itself."""
    if isinstance(value, ObjectId):
        return BsonObjectId(value.binary)
    if isinstance(value, Decimal):
        return Decimal128(value)
    return value


_REPLY_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(type_registry=TypeRegistry(fallback_encoder=_as_bson))


def _int64_ids(reply: dict[str, Any]) -> dict[str, Any]:
    """A reply with its cursor's id sent as an int64, as MongoDB sends it. Only `cursor.id`: a
    document a reply returns outside a cursor (`findAndModify`'s `value`) may hold a field `id`
    (`False`, `0.0`), which is sent as stored."""
    cursor = reply.get("cursor")
    if not isinstance(cursor, dict) or type(cursor.get("id")) is not int:
        return reply
    return {**reply, "cursor": {**cursor, "id": Int64(cursor["id"])}}


def _patch_reply_encoding() -> None:
    def build_op_msg_reply(request_id: int, response_to: int, document: dict[str, Any], flags: int = 0) -> bytes:
        body = struct.pack("<IB", flags, 0) + encode(_int64_ids(document), codec_options=_REPLY_CODEC)
        return struct.pack("<iiii", 16 + len(body), request_id, response_to, WireProtocol.OP_MSG) + body

    def fit_bson_budget(docs: list[dict[str, Any]], limit: int = MAX_BSON_DOCUMENT_SIZE) -> Any:
        """The documents of a reply that fit its size limit (at least one), encoded once (the
        reply copies their bytes), and the rest."""
        head: list[RawBSONDocument] = []
        used = 0
        for doc in docs:
            encoded = RawBSONDocument(encode(doc, codec_options=_REPLY_CODEC))
            if head and used + len(encoded.raw) > limit:
                break
            head.append(encoded)
            used += len(encoded.raw)
        return head, docs[len(head) :]

    ResponseBuilder.build_op_msg_reply = staticmethod(build_op_msg_reply)
    NeoSQLiteHandler._fit_bson_budget = staticmethod(fit_bson_budget)


if __name__ == "__main__":
    _patch_reply_encoding()
    _patch_aggregate_object_ids()
    _patch_typed_updates()
    _patch_null_filters()
    _patch_object_id_conditions()
    _patch_rows_by_id()
    sys.exit(main())
