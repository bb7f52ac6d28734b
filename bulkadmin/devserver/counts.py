"""`count_documents` answered with one SQL `COUNT(*)`, with MongoDB's matching rules.

nx-27017 answered pymongo's count pipeline (`$match`, `$group` with `$sum: 1`) by loading every
document into Python: 2.6 s per 100k documents, holding the server. Here a filter of top-level
fields compared with `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin` and `$exists` (or
equality) to strings, numbers, booleans, dates and null, or matched by `$regex`, joined by
`$and`, `$or` and `$nor`, is translated to SQL as MongoDB matches it: values compare within their
type (a number never matches a string), an array matches when one of its elements does, `null`
matches a missing field. `_id` conditions on ObjectIds are read from the
indexed `_id` column. Any other filter (dotted paths, other `_id`s, `$not`, `$elemMatch`, Decimal128
operands) goes down nx-27017's path as before. Decimal128 and NaN/±Infinity values stored in a
field are not numbers to this SQL.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from neosqlite.sql_utils import quote_table_name
from nx_27017.handler import NeoSQLiteHandler
from nx_27017.utils import convert_bson_to_neo_objectids

from bulkadmin.devserver.object_ids import object_id_clause

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Text every JSON writer stores as itself between quotes: a document holding it (as the value, or
# an element) holds `"text"`, so `instr` on the JSON, far cheaper than parsing it, rules out most rows.
_LITERAL = re.compile(r"[ !#-\[\]-~]*")
_PREFILTERED = "(instr(data, "
_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_COUNT_STAGE = {"$group": {"_id": 1, "n": {"$sum": 1}}}


_LOGICAL = {"$and": "AND", "$or": "OR", "$nor": "OR"}


@dataclass(frozen=True)
class _Regex:
    """A `$regex` with its `$options`, matched by neosqlite's REGEXP (Python's `re.search`)."""

    pattern: Any
    options: Any

    def python_pattern(self) -> str:
        if not isinstance(self.pattern, str) or not isinstance(self.options, str) or set(self.options) - set("imsx"):
            raise NotSql("$regex")
        pattern = f"(?{self.options}){self.pattern}" if self.options else self.pattern
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError):
            raise NotSql("$regex") from None  # left to nx-27017, which answers the error
        return pattern


class NotSql(Exception):
    """The filter is outside what this module translates."""


def count_pipeline(command: dict[str, Any]) -> tuple[dict[str, Any], int, int | None] | None:
    """The filter, skip and limit of pymongo's `count_documents` pipeline, or None for others."""
    stages = command.get("pipeline")
    if not isinstance(stages, list) or not stages or stages[-1] != _COUNT_STAGE:
        return None
    query: dict[str, Any] = {}
    skip, limit = 0, None
    for stage in stages[:-1]:
        if list(stage) == ["$match"] and not query and skip == 0 and limit is None:
            query = stage["$match"]
        elif list(stage) == ["$skip"] and limit is None:
            skip = int(stage["$skip"])
        elif list(stage) == ["$limit"]:
            limit = int(stage["$limit"])
        else:
            return None
    return query, skip, limit


def where_clause(query: dict[str, Any]) -> tuple[str, list[Any]]:
    """SQL matching `query` on the `data` column; raises `NotSql` when it cannot be exact. Terms
    led by a text pre-filter come first: SQLite tests the terms of an AND in the order written."""
    terms = [_term(field, condition) for field, condition in query.items()]
    terms.sort(key=lambda term: not term[0].startswith(_PREFILTERED))
    return " AND ".join(sql for sql, _ in terms) or "1", [param for _, params in terms for param in params]


def _term(field: str, condition: Any) -> tuple[str, list[Any]]:
    if field in _LOGICAL and isinstance(condition, list) and condition:
        parts = [where_clause(part) for part in condition]
        joined = f" {_LOGICAL[field]} ".join(f"({sql})" for sql, _ in parts)
        params = [param for _, part_params in parts for param in part_params]
        return (f"NOT ({joined})" if field == "$nor" else f"({joined})"), params
    if field == "_id":
        return _id_clause(condition)
    if not _FIELD.match(field):
        raise NotSql(field)
    return _field_clause(f"$.{field}", condition)


def _id_clause(condition: Any) -> tuple[str, list[Any]]:
    """`_id` conditions on ObjectIds, from the indexed `_id` column (`object_ids`)."""
    operators = condition if isinstance(condition, dict) else {"$in": [condition]}
    clauses, params = [], []
    for operator, operand in operators.items():
        if operator == "$eq":
            operator, operand = "$in", [operand]
        clause = object_id_clause("_id", "data", operator, operand)
        if clause is None:
            raise NotSql("_id")
        clauses.append(clause[0])
        params += clause[1]
    return " AND ".join(clauses), params


def _field_clause(path: str, condition: Any) -> tuple[str, list[Any]]:
    operators = (
        condition if isinstance(condition, dict) and condition and all(k[:1] == "$" for k in condition) else None
    )
    if operators is None:
        return _matches_any(path, "=", condition)
    clauses, params = [], []
    for operator, operand in operators.items():
        if operator == "$options":
            continue  # read with its $regex
        if operator == "$regex":
            operand = _Regex(operand, operators.get("$options", ""))
        sql, operator_params = _operator_clause(path, operator, operand)
        clauses.append(sql)
        params += operator_params
    return " AND ".join(clauses), params


def _operator_clause(path: str, operator: str, operand: Any) -> tuple[str, list[Any]]:
    if operator == "$regex":
        return _matches_any(path, "REGEXP", operand)
    if operator == "$eq":
        return _matches_any(path, "=", operand)
    if operator == "$ne":
        sql, params = _matches_any(path, "=", operand)
        return f"NOT ({sql})", params
    if operator in _RANGES:
        if operand is None or isinstance(operand, bool):
            raise NotSql(operator)
        return _matches_any(path, _RANGES[operator], operand)
    if operator in ("$in", "$nin") and isinstance(operand, list):
        parts = [_matches_any(path, "=", value) for value in operand] or [("0", [])]
        sql = " OR ".join(f"({part})" for part, _ in parts)
        params = [param for _, part_params in parts for param in part_params]
        return (f"({sql})" if operator == "$in" else f"NOT ({sql})"), params
    if operator == "$exists" and isinstance(operand, bool):
        return f"json_type(data, '{path}') IS {'NOT ' if operand else ''}NULL", []
    raise NotSql(operator)


def _matches_any(path: str, comparison: str, operand: Any) -> tuple[str, list[Any]]:
    """The field, or one element of it when it is an array, compares to `operand`: a CASE on the
    field's JSON type, so each row's type is read once and its value only when the type can match
    (`path` is a checked field name, written into the SQL)."""
    type_of = f"coalesce(json_type(data, '{path}'), 'missing')"
    elements = f"SELECT 1 FROM json_each(data, '{path}')"
    if operand is None:  # equality only: null, missing, or an array holding null
        null_element = f"EXISTS ({elements} WHERE type = 'null')"
        return (
            f"CASE {type_of} WHEN 'null' THEN 1 WHEN 'missing' THEN 1 WHEN 'array' THEN {null_element} ELSE 0 END",
            [],
        )
    types, test, params = _bracket(comparison, operand)
    whole = test.format(value=f"json_extract(data, '{path}')")
    branches = " ".join(f"WHEN '{json_type}' THEN {whole}" for json_type in types)
    listed = ", ".join(f"'{json_type}'" for json_type in types)
    element = f"type IN ({listed}) AND {test.format(value='value')}"
    sql = f"CASE {type_of} {branches} WHEN 'array' THEN EXISTS ({elements} WHERE {element}) ELSE 0 END"
    if comparison == "=" and isinstance(operand, str) and _LITERAL.fullmatch(operand):
        return f"{_PREFILTERED}?) > 0 AND {sql})", [f'"{operand}"', *params * len(types), *params]
    return sql, params * len(types) + params


def _bracket(comparison: str, operand: Any) -> tuple[tuple[str, ...], str, list[Any]]:
    """The JSON types a value must have to compare to `operand` in MongoDB's type brackets, the
    comparison as SQL on `{value}`, and its parameters."""
    if isinstance(operand, _Regex):
        return ("text",), "{value} REGEXP ?", [operand.python_pattern()]
    if isinstance(operand, bool):
        return ("true" if operand else "false",), "1", []
    if isinstance(operand, int | float):
        if isinstance(operand, float) and not math.isfinite(operand):
            raise NotSql(operand)
        return ("integer", "real"), f"{{value}} {comparison} ?", [operand]
    if isinstance(operand, str):
        return ("text",), f"{{value}} {comparison} ?", [operand]
    if isinstance(operand, dt.datetime):
        stamp = operand.astimezone(dt.UTC).replace(tzinfo=None) if operand.tzinfo else operand
        date = "json_extract({value}, '$.\"$date\"')"  # NULL for other objects: no match, also under NOT
        return ("object",), f"coalesce({date} {comparison} ?, 0)", [stamp.isoformat()]
    raise NotSql(type(operand).__name__)


def answer(handler: NeoSQLiteHandler, db_name: str, command: dict[str, Any]) -> dict[str, Any] | None:
    """The reply to a count pipeline from SQL, or None when it must go down nx-27017's path."""
    pipeline = count_pipeline(command) if "aggregate" in command else None
    if pipeline is None:
        return None
    query, skip, limit = pipeline
    try:
        where, params = where_clause(convert_bson_to_neo_objectids(query))
    except NotSql:
        return None
    name = str(command["aggregate"])
    database = handler.get_database(db_name)
    if name not in database.list_collection_names():
        found = 0
    else:
        bounds = f" LIMIT {limit if limit is not None else -1} OFFSET {skip}"
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {quote_table_name(name)} WHERE {where}{bounds})"
        found = int(database.db.execute(sql, params).fetchone()[0])
    batch = [{"_id": 1, "n": found}] if found else []
    return {"ok": 1, "cursor": {"id": 0, "ns": f"{db_name}.{name}", "firstBatch": batch}}
