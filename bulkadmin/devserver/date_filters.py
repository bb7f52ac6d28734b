"""Filters on dates matched to the millisecond, as MongoDB matches them.

neosqlite compared dates in SQL through SQLite's `datetime()`, which keeps whole seconds:
`{"created_at": {"$lt": 12:00:00.500}}` matched a document of 12:00:00.700 (so a cleanup could
delete documents newer than its cutoff, and a preview's count differed from its run), and
`find` of an exact date matched every date in that second. Here a filter holding a date is
translated by `counts.where_clause` (dates compared as their stored ISO text, to the millisecond,
with MongoDB's type brackets) wherever neosqlite would build SQL for it: finds, counts, updates
and deletes. Filters it cannot translate (dotted paths, `_id`) go down neosqlite's path as before.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from neosqlite.collection.cursor import Cursor
from neosqlite.collection.query_helper import QueryHelper
from neosqlite.collection.sql_translator_unified import SQLTranslator

from bulkadmin.devserver.counts import NotSql, where_clause


def holds_date(value: Any) -> bool:
    """Whether a filter holds a date anywhere."""
    if isinstance(value, dt.datetime):
        return True
    if isinstance(value, dict):
        return any(holds_date(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(holds_date(item) for item in value)
    return False


def exact_where(query: Any) -> tuple[str, list[Any]] | None:
    """`WHERE ...` for a filter holding a date, or None when neosqlite should build it."""
    if not isinstance(query, dict) or not holds_date(query):
        return None
    try:
        sql, params = where_clause(query)
    except NotSql:
        return None
    return f"WHERE {sql}", params


def install() -> None:
    """Translate filters on dates exactly wherever neosqlite builds SQL for a filter."""
    translate_match = SQLTranslator.translate_match
    simple_where = QueryHelper._build_simple_where_clause
    uses_date_processor = Cursor._contains_datetime_operations

    def match(self: SQLTranslator, spec: Any, context: str = "direct") -> tuple[str | None, list[Any]]:
        exact = exact_where(spec) if context == "direct" else None
        return exact if exact is not None else translate_match(self, spec, context)

    def where(self: QueryHelper, query: dict[str, Any]) -> Any:
        exact = exact_where(query)
        return (*exact, []) if exact is not None else simple_where(self, query)

    def date_processor(self: Cursor, query: dict[str, Any]) -> bool:
        return exact_where(query) is None and bool(uses_date_processor(self, query))

    SQLTranslator.translate_match = match
    QueryHelper._build_simple_where_clause = where
    Cursor._contains_datetime_operations = date_processor
