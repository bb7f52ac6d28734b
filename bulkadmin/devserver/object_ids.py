"""`_id` conditions on ObjectIds answered from neosqlite's indexed `_id` column.

neosqlite reads every document for an `_id` range (`{"_id": {"$gt": oid}}`), an `_id` `$type`
test, and an `_id` `$in` in updates and deletes. These are sent to the indexed `_id` column here
when their values are ObjectIds (stored there as 24 lowercase hex digits, which sort as the
ObjectIds do; a string of 24 hex digits is stored there alike, so the document's `_id` must also
be an object), so keyset paging and writes by `_id` cost the same at any size. Writes matched in
Python find each document's row by `_id` (an integer `_id` was taken for the row's number), and
an aggregation gets the client's ObjectIds converted as every other command does.
"""

from __future__ import annotations

from typing import Any

from neosqlite.collection import Collection
from neosqlite.collection.query_engine import QueryEngine
from neosqlite.collection.query_helper._sql_query_builder import SqlQueryBuilderMixin
from neosqlite.collection.sql_translator_unified import SQLOperatorTranslator
from neosqlite.objectid import ObjectId
from neosqlite.sql_utils import quote_table_name
from nx_27017.utils import convert_bson_to_neo_objectids

from bulkadmin.devserver import document_ids

_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_HEX_24 = "[0-9a-f]" * 24
_OBJECT_ID_TYPES = ("objectId", 7)
# How a document whose `_id` (its first key, as inserted) is an ObjectId starts, as stored.
_OBJECT_ID_FIRST = ('{"_id":{"__neosqlite_objectid__":', '{"_id": {"__neosqlite_objectid__":')


def object_id_clause(column: str, data: str, operator: str, value: Any) -> tuple[str, list[Any]] | None:
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
        own = {op: object_id_clause(column, data, op, operand) for op, operand in value.items()}
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
        if field_access == "_id" and (clause := object_id_clause("_id", data, operator, value)) is not None:
            return clause
        return translate_operator(self, field_access, operator, value)

    SQLOperatorTranslator.translate_operator = translate


def _patch_rows_by_id() -> None:
    """Writes whose filter is matched in Python find each document's row by its `_id`; an integer
    `_id` was taken for the row's number, so the write went to another document (or none)."""

    def row_of(self: Any, doc_id: Any) -> int:
        name = quote_table_name(self.collection.name)
        row = self.collection.db.execute(
            f"SELECT id FROM {name} WHERE _id = ?", (document_ids.column_value(doc_id),)
        ).fetchone()
        if row is None:
            raise ValueError(f"No document with _id {doc_id!r}")
        return int(row[0])

    QueryEngine._get_integer_id_for_oid = row_of


def _patch_aggregate_object_ids() -> None:
    """An aggregation (`count_documents` is one) and a `distinct` get the client's ObjectIds as the
    server's own type, as every other command does; they found no document for an ObjectId
    condition, or failed binding it."""
    aggregate = Collection.aggregate

    def aggregate_with_object_ids(self: Collection, pipeline: list[Any], *args: Any, **kwargs: Any) -> Any:
        return aggregate(self, convert_bson_to_neo_objectids(pipeline), *args, **kwargs)

    Collection.aggregate = aggregate_with_object_ids
    distinct = Collection.distinct

    def distinct_with_object_ids(self: Collection, key: str, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        return distinct(self, key, convert_bson_to_neo_objectids(filter), *args, **kwargs)

    Collection.distinct = distinct_with_object_ids


def install() -> None:
    """Install the `_id` patches."""
    _patch_object_id_conditions()
    _patch_rows_by_id()
    _patch_aggregate_object_ids()
