"""`distinct` answered as MongoDB answers it.

neosqlite read `json_extract(data, key)` of the documents its SQL filter matched: a filter it
could not translate to SQL (`$regex`, `$not`) was dropped (every document counted), an Int64 that
32 bits hold came back a double, a sub-document or an array inside an array came back as its
JSON text, null was left out, and a dotted path did not reach into an array's sub-documents.
Here each matching document's top-level field is read as stored JSON (`->`, which keeps the
stored text) and decoded to the values that were written; the path is walked from there as
MongoDB's element iterator walks it, an array it ends on giving its elements, and the values are
returned once each (numbers of every type equal by value), in MongoDB's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from neosqlite.collection.json_path_utils import parse_json_path
from neosqlite.collection.query_engine import QueryEngine
from neosqlite.sql_utils import quote_table_name

from bulkadmin.devserver import values
from bulkadmin.devserver.dotted_paths import reached
from bulkadmin.devserver.ordering import sort_key
from bulkadmin.devserver.paths import MISSING


def _top_values(engine: QueryEngine, top: str, query: dict[str, Any] | None) -> Iterator[Any]:
    """The distinct values (as stored) of the field `top` in the documents matching `query`."""
    where, params = engine.sql_translator.translate_match(query) if query else ("", [])
    if where is None:  # matched in Python
        yield from (document.get(top, MISSING) for document in engine.collection.find(query))
        return
    table = quote_table_name(engine.collection.name)
    sql = f"SELECT DISTINCT data -> ? FROM {table} {where}"
    rows = engine.collection.db.execute(sql, [parse_json_path(top), *params])
    for (text,) in rows:
        yield MISSING if text is None else values.loads(text)


def distinct_values(engine: QueryEngine, key: str, query: dict[str, Any] | None = None) -> list[Any]:
    """The values `key` reaches in the documents matching `query`, once each, in MongoDB's order."""
    top, *_ = parts = key.split(".")
    found: dict[Any, Any] = {}
    for value in _top_values(engine, top, query):
        for item in reached({top: value}, parts, whole_arrays=False):
            if item is not MISSING:
                found.setdefault(_frozen(sort_key(item)), item)
    return [found[item_key] for item_key in sorted(found)]


def _frozen(key: Any) -> Any:
    """A sort key with its lists as tuples (hashable, and ordered as before)."""
    return tuple(_frozen(part) for part in key) if isinstance(key, list | tuple) else key


def install() -> None:
    """Answer `distinct` with `distinct_values`."""

    def distinct(self: QueryEngine, key: str, filter: dict[str, Any] | None = None, session: Any = None) -> list[Any]:
        return distinct_values(self, key, self.helpers._normalize_id_query(filter) if filter else None)

    QueryEngine.distinct = distinct
