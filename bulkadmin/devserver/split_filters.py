"""Filters translated to SQL in two parts: the conditions a module of this package translates
exactly, and the rest, which neosqlite translates as before.

neosqlite builds a filter's SQL in two places: `_build_simple_where_clause` (finds; None there
means "match in Python") and `SQLTranslator.translate_match` (updates, deletes, distinct,
aggregations; None there can mean "no condition", so a filter it cannot split is handed on
whole, as `fallback` makes it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neosqlite.collection.query_helper._sql_query_builder import SqlQueryBuilderMixin
from neosqlite.collection.sql_translator_unified import SQLTranslator

Clause = tuple[str, list[Any]]
# A filter's own conditions as SQL and the rest of it; None when one of its conditions is not SQL.
Split = Callable[[dict[str, Any]], tuple[list[Clause], dict[str, Any]] | None]


def joined(clauses: list[Clause], rest_sql: str | None, rest_params: list[Any]) -> Clause:
    """`WHERE` with `clauses`, then the rest's conditions (`rest_sql` is `WHERE ...` or nothing)."""
    sqls = [sql for sql, _ in clauses] + ([rest_sql.removeprefix("WHERE ")] if rest_sql else [])
    return "WHERE " + " AND ".join(sqls), [param for _, params in clauses for param in params] + rest_params


def _where(simple_where: Callable[..., Any], claims: Callable[[Any], bool], split: Split) -> Callable[..., Any]:
    def where(self: Any, query: Any) -> Any:
        if not claims(query):
            return simple_where(self, query)
        parts = split(query)
        rest = simple_where(self, parts[1]) if parts is not None else None
        if parts is None or rest is None or (rest[0] and not rest[0].startswith("WHERE ")):
            return None
        return (*joined(parts[0], rest[0], rest[1]), rest[2])

    return where


def _match(
    translate_match: Callable[..., Any],
    claims: Callable[[Any], bool],
    split: Split,
    fallback: Callable[[dict[str, Any]], dict[str, Any]],
) -> Callable[..., Any]:
    def match(self: SQLTranslator, spec: Any, context: str = "direct") -> tuple[str | None, list[Any]]:
        if not claims(spec):
            return translate_match(self, spec, context)  # type: ignore[no-any-return]
        parts = split(spec) if context == "direct" else None  # other contexts read other columns
        rest_sql, rest_params = translate_match(self, parts[1], context) if parts else (None, [])
        if parts is None or (parts[1] and (rest_sql is None or not rest_sql.startswith("WHERE "))):
            return translate_match(self, fallback(spec), context)  # type: ignore[no-any-return]
        return joined(parts[0], rest_sql, rest_params)

    return match


def install(
    claims: Callable[[Any], bool],
    split: Split,
    fallback: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> None:
    """Translate the filters `claims` (those holding conditions `split` translates) in two parts."""
    SqlQueryBuilderMixin._build_simple_where_clause = _where(
        SqlQueryBuilderMixin._build_simple_where_clause, claims, split
    )
    SQLTranslator.translate_match = _match(SQLTranslator.translate_match, claims, split, fallback)
