"""`_id`s that are embedded documents (`{"a": 1, "b": 2}`), stored and found as MongoDB does.

neosqlite kept such an `_id` in its indexed `_id` column as Python's text of the dict (which a
string `_id` could equal), and every condition on one failed: `{"_id": {"a": 1}}` was read as an
operator `a`, and `$in` could not bind a dict. Here the column holds the document's compact JSON
as a BLOB (a string, number or ObjectId `_id` is never one), and `_id` equality, `$eq`, `$in`,
`$ne` and `$nin` whose values are all embedded documents are SQL on that column; field order
counts, as in MongoDB. The Python matcher reads `{field: {...}}` as equality to that document.
"""

from __future__ import annotations

from typing import Any

from neosqlite.collection.query_helper import QueryHelper
from neosqlite.collection.query_helper._sql_query_builder import _normalize_id_value
from nx_27017.utils import convert_bson_to_neo_objectids

from bulkadmin.devserver import split_filters, values

_OPERATORS = {"$eq": "=", "$ne": "!=", "$in": "IN", "$nin": "NOT IN"}


def stored_id(doc_id: Any) -> Any:
    """What an insert writes in the indexed `_id` column: an embedded document's JSON as a BLOB,
    any other `_id` as its text."""
    if isinstance(doc_id, dict):
        return values.dumps_for_sql(convert_bson_to_neo_objectids(doc_id)).encode()
    return str(doc_id)


def column_value(doc_id: Any) -> Any:
    """What a lookup of `doc_id` compares the `_id` column with."""
    return stored_id(doc_id) if isinstance(doc_id, dict) else _normalize_id_value(doc_id)


def is_operators(value: Any) -> bool:
    """Whether a condition is operators (`{"$in": [...]}`) rather than a document to equal."""
    return isinstance(value, dict) and bool(value) and all(str(key).startswith("$") for key in value)


def _is_document(value: Any) -> bool:
    return isinstance(value, dict) and not is_operators(value)


def _holds_documents(condition: Any) -> bool:
    if not is_operators(condition):
        return _is_document(condition)
    return any(
        _is_document(operand) or (isinstance(operand, list) and any(_is_document(item) for item in operand))
        for operand in condition.values()
    )


def _claims(query: Any) -> bool:
    return isinstance(query, dict) and "_id" in query and _holds_documents(query["_id"])


def id_clause(condition: Any) -> split_filters.Clause | None:
    """An `_id` condition on embedded documents as SQL on the `_id` column; None when an operator
    is not one of `$eq`, `$ne`, `$in`, `$nin` or its values are not all documents."""
    operators = condition if is_operators(condition) else {"$eq": condition}
    clauses: list[split_filters.Clause] = []
    for operator, operand in operators.items():
        items = [operand] if operator in ("$eq", "$ne") else operand
        if operator not in _OPERATORS or not isinstance(items, list) or not items:
            return None
        if not all(_is_document(item) for item in items):
            return None
        marks = f"({', '.join('?' for _ in items)})" if operator in ("$in", "$nin") else "?"
        clauses.append((f"_id {_OPERATORS[operator]} {marks}", [column_value(item) for item in items]))
    return " AND ".join(sql for sql, _ in clauses), [param for _, params in clauses for param in params]


def _split(query: dict[str, Any]) -> tuple[list[split_filters.Clause], dict[str, Any]] | None:
    clause = id_clause(query["_id"])
    return None if clause is None else ([clause], {key: value for key, value in query.items() if key != "_id"})


def _document_equalities(query: Any) -> Any:
    """`{field: {...}}` spelled `{field: {"$eq": {...}}}`: the Python matcher read its keys as operators."""
    if not isinstance(query, dict):
        return query
    rewritten: dict[str, Any] = {}
    for key, value in query.items():
        if key in ("$and", "$or", "$nor") and isinstance(value, list):
            rewritten[key] = [_document_equalities(clause) for clause in value]
        elif not key.startswith("$") and _is_document(value):
            rewritten[key] = {"$eq": value}
        else:
            rewritten[key] = value
    return rewritten


def install() -> None:
    """Find embedded-document `_id`s in SQL, and embedded documents in the Python matcher."""
    split_filters.install(_claims, _split)
    apply_query = QueryHelper._apply_query

    def apply(self: QueryHelper, query: dict[str, Any], document: dict[str, Any]) -> bool:
        return bool(apply_query(self, _document_equalities(query), document))

    QueryHelper._apply_query = apply
