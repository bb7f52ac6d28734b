"""MongoDB's null semantics on neosqlite's SQL and Python filters.

neosqlite's SQL filters treat a field holding null as missing: `{"x": {"$ne": null}}` matched
documents without `x`, and `$exists` ignored fields set to null. Here `$ne: null` and `$exists`
are translated with `json_type`, which tells null (`'null'`) from missing (SQL NULL), and the
Python matcher (used when a filter cannot be SQL) gets the same answers.
"""

from __future__ import annotations

from typing import Any

from neosqlite import query_operators
from neosqlite.collection.query_helper import QueryHelper
from neosqlite.collection.query_helper._sql_query_builder import SqlQueryBuilderMixin
from neosqlite.collection.sql_translator_unified import SQLOperatorTranslator


def _null_aware_clause(type_of: str, operator: str, value: Any) -> str | None:
    """MongoDB's `$ne: null` (present and not null) and `$exists` (present, null included) as
    SQL on `type_of`, a `json_type(...)` expression; None for other operators."""
    if operator == "$ne" and value is None:
        return f"{type_of} != 'null'"
    if operator == "$exists" and isinstance(value, bool):
        return f"{type_of} IS {'NOT ' if value else ''}NULL"
    return None


def install() -> None:
    """Install null-aware SQL and Python filters."""
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
