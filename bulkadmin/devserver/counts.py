"""`count_documents` answered in SQL `COUNT(*)`, with MongoDB's matching rules.

nx-27017 answered pymongo's count pipeline (`$match`, `$group` with `$sum: 1`) by loading every
document into Python: 2.6 s per 100k documents, holding the server. Here a filter of top-level
fields compared with `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin` and `$exists` (or
equality) to strings, numbers, booleans, dates and null, or matched by `$regex`, joined by
`$and`, `$or` and `$nor`, is translated to SQL as MongoDB matches it: values compare within their
type (a number never matches a string), an array matches when one of its elements does, `null`
matches a missing field. `_id` conditions on ObjectIds are read from the
indexed `_id` column; conditions on dotted paths are `dotted_paths`' SQL function, tested after
the others. Any other filter (other `_id`s, `$not`, `$elemMatch`) goes down nx-27017's path as
before. Decimal128 and NaN/±Infinity values (stored as tagged objects) and
operands compare to numbers as MongoDB compares them (`compare_number`, a SQL function).

A count scans the collection: text equalities rule rows out by a `GLOB` on the JSON before any
is parsed, a field's comparisons read its type and value once, and a large collection is counted
in parts of its rowids at once, one per core."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bson import Decimal128
from neosqlite.sql_utils import quote_table_name
from nx_27017.handler import NeoSQLiteHandler
from nx_27017.utils import convert_bson_to_neo_objectids

from bulkadmin.devserver import dotted_paths
from bulkadmin.devserver.object_ids import object_id_clause

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Text every JSON writer stores as itself between quotes: a document holding it (as the value, or
# an element) holds `"text"`, so `GLOB` on the JSON, far cheaper than parsing it, rules out most rows.
_LITERAL = re.compile(r"[ !#-\[\]-~]*")
_GLOB_LITERAL = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})
_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_COUNT_STAGE = {"$group": {"_id": 1, "n": {"$sum": 1}}}
PARTS = max(1, min(4, os.cpu_count() or 1))  # a large count's parts, counted at once
PART_ROWS = 10_000  # rowids per part at least: fewer cost more to count apart than they save
Statement = tuple[str, list[Any]]
CountEach = Callable[[list[Statement]], list[int]]


_LOGICAL = {"$and": "AND", "$or": "OR", "$nor": "OR"}
_PREFILTERS, _PLAIN, _CONFIRMS = 0, 1, 2  # the order in which an AND's terms are tested


@dataclass(frozen=True)
class _Term:
    """One term of an AND: its SQL, its parameters, and its rank in the order of testing."""

    sql: str
    params: list[Any]
    rank: int = _PLAIN


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
    """SQL matching `query` on the `data` column; raises `NotSql` when it cannot be exact. SQLite
    tests the terms of an AND in the order written: text pre-filters first, the exact tests they
    lead last, so that most rows are ruled out before their JSON is parsed."""
    terms = sorted((term for field, condition in query.items() for term in _terms(field, condition)), key=_rank)
    return " AND ".join(term.sql for term in terms) or "1", [param for term in terms for param in term.params]


def _rank(term: _Term) -> int:
    return term.rank


def _terms(field: str, condition: Any) -> list[_Term]:
    if field in _LOGICAL and isinstance(condition, list) and condition:
        parts = [where_clause(part) for part in condition]
        joined = f" {_LOGICAL[field]} ".join(f"({sql})" for sql, _ in parts)
        params = [param for _, part_params in parts for param in part_params]
        return [_Term(f"NOT ({joined})" if field == "$nor" else f"({joined})", params)]
    if field == "_id":
        return [_Term(*_id_clause(condition))]
    if dotted_paths.is_dotted(field):
        return [_dotted_term(field, condition)]
    if not _FIELD.match(field):
        raise NotSql(field)
    return _field_terms(f"$.{field}", condition)


def _dotted_term(field: str, condition: Any) -> _Term:
    """A condition on a dotted path, matched by `dotted_paths` after the SQL terms rule rows out."""
    clause = dotted_paths.clause_or_none({field: condition})
    if clause is None:
        raise NotSql(field)
    return _Term(*clause, _CONFIRMS)


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


def _field_terms(path: str, condition: Any) -> list[_Term]:
    """A field's conditions: comparisons (`$eq`, ranges, `$regex`) tested together, the others
    each on its own."""
    operators = (
        condition
        if isinstance(condition, dict) and condition and all(k[:1] == "$" for k in condition)
        else {"$eq": condition}
    )
    terms: list[_Term] = []
    comparisons: list[tuple[str, Any]] = []
    for operator, operand in operators.items():
        if operator == "$regex":
            comparisons.append(("REGEXP", _Regex(operand, operators.get("$options", ""))))
        elif operator in _RANGES:
            if operand is None or isinstance(operand, bool):
                raise NotSql(operator)
            comparisons.append((_RANGES[operator], operand))
        elif operator == "$eq" and operand is not None:
            comparisons.append(("=", operand))
        elif operator == "$options":
            if "$regex" not in operators:
                raise NotSql(operator)
        else:
            terms.append(_Term(*_operator_clause(path, operator, operand)))
    return terms + _compared(path, comparisons)


def _compared(path: str, comparisons: list[tuple[str, Any]]) -> list[_Term]:
    """One CASE for the comparisons of a field that read the same JSON types (a range's two
    bounds: the field's type and value read once), led by the text pre-filters of its equalities."""
    groups: dict[tuple[str, ...], list[tuple[str, list[Any]]]] = {}
    prefilters: dict[tuple[str, ...], list[_Term]] = {}
    for comparison, operand in comparisons:
        types, test, params = _bracket(comparison, operand)
        groups.setdefault(types, []).append((test, params))
        prefilter = _prefilter(comparison, operand)
        if prefilter is not None:
            prefilters.setdefault(types, []).append(prefilter)
    terms = [prefilter for group in prefilters.values() for prefilter in group]
    for types, tests in groups.items():
        terms.append(_Term(*_case(path, types, tests), _CONFIRMS if types in prefilters else _PLAIN))
    return terms


def _operator_clause(path: str, operator: str, operand: Any) -> tuple[str, list[Any]]:
    """`$eq: null`, `$ne`, `$in`, `$nin` and `$exists` (comparisons are `_compared`)."""
    if operator == "$eq":
        return _matches_any(path, "=", operand)
    if operator == "$ne":
        sql, params = _matches_any(path, "=", operand)
        return f"NOT ({sql})", params
    if operator in ("$in", "$nin") and isinstance(operand, list):
        parts = [_matches_any(path, "=", value) for value in operand] or [("0", [])]
        sql = " OR ".join(f"({part})" for part, _ in parts)
        params = [param for _, part_params in parts for param in part_params]
        return (f"({sql})" if operator == "$in" else f"NOT ({sql})"), params
    if operator == "$exists" and isinstance(operand, bool):
        return f"json_type(data, '{path}') IS {'NOT ' if operand else ''}NULL", []
    raise NotSql(operator)


def _matches_any(path: str, comparison: str, operand: Any) -> tuple[str, list[Any]]:
    """The field, or one element of it when it is an array, compares to `operand` (`path` is a
    checked field name, written into the SQL)."""
    if operand is None:  # equality only: null, missing, or an array holding null
        null_element = f"EXISTS (SELECT 1 FROM json_each(data, '{path}') WHERE type = 'null')"
        null_or_missing = "WHEN 'null' THEN 1 WHEN 'missing' THEN 1"
        return f"CASE {_type_of(path)} {null_or_missing} WHEN 'array' THEN {null_element} ELSE 0 END", []
    types, test, params = _bracket(comparison, operand)
    sql, case_params = _case(path, types, [(test, params)])
    prefilter = _prefilter(comparison, operand)
    if prefilter is None:
        return sql, case_params
    return f"({prefilter.sql} AND {sql})", [*prefilter.params, *case_params]


def _case(path: str, types: tuple[str, ...], tests: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """The field, or one element of it when it is an array, of one of `types` passes every test
    (a SQL on `{value}`, `{is_object}` telling whether it is an object, and its parameters): a CASE
    on the field's JSON type, so each row's type is read once and its value only when the type can
    match, and a branch knows its type (a number is not asked whether it is an object)."""
    value = f"json_extract(data, '{path}')"
    listed = ", ".join(f"'{json_type}'" for json_type in types)
    elements = " AND ".join(
        f"EXISTS (SELECT 1 FROM json_each(data, '{path}') WHERE type IN ({listed}) "
        f"AND ({test.format(value='value', is_object=_ELEMENT_IS_OBJECT)}))"
        for test, _ in tests
    )
    branches = " ".join(f"WHEN '{json_type}' THEN {_all_pass(tests, value, json_type)}" for json_type in types)
    params = [param for _, test_params in tests for param in test_params]
    return f"CASE {_type_of(path)} {branches} WHEN 'array' THEN {elements} ELSE 0 END", params * len(types) + params


_ELEMENT_IS_OBJECT = "type = 'object'"  # of `json_each`'s row


def _all_pass(tests: list[tuple[str, list[Any]]], value: str, json_type: str) -> str:
    is_object = "1" if json_type == "object" else "0"
    return " AND ".join(f"({test.format(value=value, is_object=is_object)})" for test, _ in tests)


def _type_of(path: str) -> str:
    return f"coalesce(json_type(data, '{path}'), 'missing')"


def _prefilter(comparison: str, operand: Any) -> _Term | None:
    """For equality to text every JSON writer stores as itself: the row's JSON holds it quoted
    (as the value, or as an element), which `GLOB` tests far faster than the JSON is parsed."""
    if comparison != "=" or not isinstance(operand, str) or not _LITERAL.fullmatch(operand):
        return None
    return _Term("data GLOB ?", [f'*"{operand.translate(_GLOB_LITERAL)}"*'], _PREFILTERS)


def _bracket(comparison: str, operand: Any) -> tuple[tuple[str, ...], str, list[Any]]:
    """The JSON types a value must have to compare to `operand` in MongoDB's type brackets, the
    comparison as SQL on `{value}` (and `{is_object}`), and its parameters."""
    if isinstance(operand, _Regex):
        return ("text",), "{value} REGEXP ?", [operand.python_pattern()]
    if isinstance(operand, bool):
        return ("true" if operand else "false",), "1", []
    if isinstance(operand, Decimal128) or (isinstance(operand, float) and not math.isfinite(operand)):
        exact = f"coalesce(compare_number({{value}}, ?) {comparison} 0, 0)"  # SQL cannot hold these
        return ("integer", "real", "object"), exact, [str(_decimal(operand))]
    if isinstance(operand, int | float):
        stored = f"coalesce(compare_number({{value}}, ?) {comparison} 0, 0)"
        test = f"CASE WHEN {{is_object}} THEN {stored} ELSE {{value}} {comparison} ? END"
        return ("integer", "real", "object"), test, [operand, operand]
    if isinstance(operand, str):
        return ("text",), f"{{value}} {comparison} ?", [operand]
    if isinstance(operand, dt.datetime):
        stamp = operand.astimezone(dt.UTC).replace(tzinfo=None) if operand.tzinfo else operand
        date = "json_extract({value}, '$.\"$date\"')"  # NULL for other objects: no match, also under NOT
        return ("object",), f"coalesce({date} {comparison} ?, 0)", [stamp.isoformat()]
    raise NotSql(type(operand).__name__)


_DOUBLE_DIGITS = decimal.Context(prec=34)  # MongoDB compares a double to a Decimal128 rounded so


def compare_number(stored: Any, operand: Any) -> int | None:
    """-1, 0 or 1 as a stored number compares to `operand` (a number, or a Decimal128's text) in
    MongoDB. A Decimal128 or ±Infinity is stored as a tagged object (`stored` is its JSON); NaN
    equals NaN only and is in no range (None); None for every other object."""
    value = _stored_number(stored)
    if value is None:
        return None
    number = _decimal(operand)
    if value.is_nan() or number.is_nan():
        return 0 if value.is_nan() and number.is_nan() else None
    return (value > number) - (value < number)


def _stored_number(stored: Any) -> decimal.Decimal | None:
    if isinstance(stored, int | float):
        return _decimal(stored)
    if not isinstance(stored, str) or not stored.startswith('{"$number'):
        return None
    tagged = json.loads(stored)
    text = tagged.get("$numberDecimal", tagged.get("$numberDouble")) if len(tagged) == 1 else None
    try:
        return decimal.Decimal(text) if isinstance(text, str) else None
    except decimal.InvalidOperation:
        return None


def _decimal(number: Any) -> decimal.Decimal:
    """`number` as MongoDB compares it: a double rounded to 34 digits, the others exactly."""
    if isinstance(number, float):
        return _DOUBLE_DIGITS.create_decimal_from_float(number)
    if isinstance(number, Decimal128):
        return number.to_decimal()
    return decimal.Decimal(number)


def prepare(db: Any) -> None:
    """Give the connection `db` the SQL functions a count's statements call."""
    db.create_function("compare_number", 2, compare_number, deterministic=True)
    dotted_paths.prepare(db)


def answer(
    handler: NeoSQLiteHandler, db_name: str, command: dict[str, Any], count_each: CountEach | None = None
) -> dict[str, Any] | None:
    """The reply to a count pipeline from SQL, or None when it must go down nx-27017's path.
    `count_each` runs a count's statements at once (else they run one after another here)."""
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
    found = 0
    if name in database.list_collection_names():
        found = _count(database.db, quote_table_name(name), (where, params), skip, limit, count_each)
    batch = [{"_id": 1, "n": found}] if found else []
    return {"ok": 1, "cursor": {"id": 0, "ns": f"{db_name}.{name}", "firstBatch": batch}}


def _count(db: Any, table: str, where: Statement, skip: int, limit: int | None, count_each: CountEach | None) -> int:
    """Rows matching `where` past `skip`, at most `limit`. A count of every match is split by
    rowid into parts counted at once, one per core: each document, in one part, is counted as
    it was at one moment of the count, as MongoDB's collection scans count."""
    sql, params = where
    prepare(db)
    if skip or limit is not None or count_each is None:
        bounds = f"LIMIT {limit if limit is not None else -1} OFFSET {skip}"
        bounded = f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {sql} {bounds})"
        return int(db.execute(bounded, params).fetchone()[0])
    parts = _rowid_parts(db, table)
    statement = f"SELECT COUNT(*) FROM {table} WHERE rowid BETWEEN ? AND ? AND ({sql})"
    return sum(count_each([(statement, [low, high, *params]) for low, high in parts])) if parts else 0


def _rowid_parts(db: Any, table: str) -> list[tuple[int, int]]:
    """The table's rowids in up to `PARTS` ranges of at least `PART_ROWS` (none when it is empty)."""
    # Apart, each is one b-tree descent: together in one SELECT they scan the table.
    low, high = db.execute(f"SELECT (SELECT min(rowid) FROM {table}), (SELECT max(rowid) FROM {table})").fetchone()
    if low is None:
        return []
    size = -(-(high - low + 1) // max(1, min(PARTS, (high - low + 1) // PART_ROWS)))
    return [(start, min(start + size - 1, high)) for start in range(low, high + 1, size)]
