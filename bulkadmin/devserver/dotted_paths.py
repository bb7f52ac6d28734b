"""Dotted paths (`x.a`, `x.0.a`) in filters matched as MongoDB matches them, in every command.

neosqlite read `{"x.a": 1}` as `json_extract(data, '$.x.a')` in SQL and through its own path
walk in Python (nx-27017's counts, filters it could not translate): a count matched `x: 1` and
`x: true`, `x.a` missed the elements of an array of sub-documents, and a collection holding NaN
or a Decimal128 answered "malformed JSON". Here each condition on a dotted path (and each `$and`,
`$or` or `$nor` holding one) is a SQL function, `path_matches`, that walks the path as MongoDB's
element iterator does:

- a path through a scalar, or a missing field, reaches "missing" (which `null`, `$ne` and
  `$exists: false` match); through a sub-document it goes on;
- through an array it goes into each element that is a sub-document, and a numeric component
  also takes the element at that index (an index reached last is not expanded: `x.0` of
  `[[1]]` is `[1]`); an array of no sub-documents reaches nothing, so `{"x.a": null}` does not
  match `x: [1, 2]` (MongoDB since 2.6, up to 8.x);
- an array reached by the last component matches through its elements or as a whole.

Values compare within MongoDB's type brackets (numbers of every type by value, NaN equal to
NaN and in no range). A find, update or delete comparing a field with a Decimal128, NaN or an
infinity is matched here too (neosqlite could not bind a Decimal128, nor find a NaN). Conditions
with other operators stay with neosqlite.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from bson import Binary as BsonBinary
from bson import Decimal128
from bson import ObjectId as BsonObjectId
from neosqlite import Connection
from neosqlite.objectid import ObjectId
from nx_27017.handler import NeoSQLiteHandler

from bulkadmin.devserver import split_filters, values
from bulkadmin.devserver.ordering import sort_key
from bulkadmin.devserver.paths import MISSING
from bulkadmin.devserver.split_filters import Clause

_LOGICAL = ("$and", "$or", "$nor")
_RANGES: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$exists", "$regex", "$options", *_RANGES})
_VALUES = (str, int, float, Decimal128, type(None), dt.datetime, ObjectId, BsonObjectId, bytes, BsonBinary)
_DOUBLE_DIGITS = decimal.Context(prec=34)  # MongoDB compares a double to a Decimal128 rounded so
_TOP_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Unsupported(Exception):
    """A condition this module does not match (left to neosqlite)."""


def is_dotted(field: str) -> bool:
    return not field.startswith("$") and "." in field


def holds_dotted(query: Any) -> bool:
    """Whether a filter has a condition on a dotted path (in `$and`, `$or`, `$nor` included)."""
    if not isinstance(query, dict):
        return False
    return any(
        is_dotted(key) or (key in _LOGICAL and isinstance(value, list) and any(holds_dotted(v) for v in value))
        for key, value in query.items()
    )


def _holds_stored_number(value: Any) -> bool:
    """Whether a condition compares with a Decimal128, NaN or an infinity (stored as tagged
    objects, which neosqlite's finds could neither bind nor compare)."""
    if isinstance(value, Decimal128) or (isinstance(value, float) and not math.isfinite(value)):
        return True
    if isinstance(value, dict):
        return any(_holds_stored_number(item) for item in value.values())
    return isinstance(value, list) and any(_holds_stored_number(item) for item in value)


def _claimed(key: str, value: Any) -> bool:
    """Whether a filter's `key: value` is matched here in finds, updates and deletes."""
    return holds_dotted({key: value}) or (key != "_id" and _holds_stored_number(value))


def claims(query: Any) -> bool:
    return isinstance(query, dict) and any(_claimed(key, value) for key, value in query.items())


# --- the path walk ------------------------------------------------------------------------


def reached(document: dict[str, Any], parts: list[str], *, whole_arrays: bool = True) -> Iterator[Any]:
    """The values `parts` reaches in `document` (`MISSING` for a missing end), as MongoDB's
    element iterator yields them: an array reached last as its elements, then (`whole_arrays`)
    as itself."""
    value: Any = document
    for index, part in enumerate(parts):
        value = value.get(part, MISSING)
        if isinstance(value, list):
            rest = parts[index + 1 :]
            if rest:
                yield from _in_array(value, rest, whole_arrays)
            else:
                yield from value
                if whole_arrays:
                    yield value
            return
        if not isinstance(value, dict):
            yield value if index + 1 == len(parts) else MISSING
            return
    yield value


def _in_array(array: list[Any], rest: list[str], whole_arrays: bool) -> Iterator[Any]:
    """What `rest` reaches from an array: into each sub-document, and at its index."""
    head = rest[0]
    for position, element in enumerate(array):
        if isinstance(element, dict):
            yield from reached(element, rest, whole_arrays=whole_arrays)
        if head != str(position):
            continue
        if len(rest) == 1:
            yield element
        elif isinstance(element, list):
            yield from _in_array(element, rest[1:], whole_arrays)
        elif isinstance(element, dict):
            yield from reached(element, rest[1:], whole_arrays=whole_arrays)


# --- matching -----------------------------------------------------------------------------


def _key(value: Any) -> tuple[Any, ...]:
    """A value's type bracket and what compares within it (numbers by exact value; NaN apart)."""
    if isinstance(value, int | float | Decimal128) and not isinstance(value, bool):
        number = _number(value)
        return (1, "nan") if number.is_nan() else (1, number)
    return sort_key(value)


def _number(value: int | float | Decimal128) -> decimal.Decimal:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, float):
        return _DOUBLE_DIGITS.create_decimal_from_float(value)
    return decimal.Decimal(value)


def _equal(value: Any, operand: Any) -> bool:
    if operand is None:
        return value is MISSING or value is None
    return value is not MISSING and _key(value) == _key(operand)


def _ranged(value: Any, operator: str, operand: Any) -> bool:
    if value is MISSING:
        return False
    left, right = _key(value), _key(operand)
    if left[0] != right[0]:
        return False
    if left[0] == 1 and "nan" in (left[1], right[1]):
        return left == right and operator in ("$gte", "$lte")
    return _RANGES[operator](left, right)


def _holds(values_reached: list[Any], operator: str, operand: Any, options: str) -> bool:
    if operator == "$eq":
        return any(_equal(value, operand) for value in values_reached)
    if operator == "$ne":
        return not any(_equal(value, operand) for value in values_reached)
    if operator in ("$in", "$nin"):
        found = any(_equal(value, item) for value in values_reached for item in operand)
        return found if operator == "$in" else not found
    if operator == "$exists":
        return any(value is not MISSING for value in values_reached) == bool(operand)
    if operator == "$regex":
        pattern = f"(?{options}){operand}" if options else operand
        return any(isinstance(value, str) and re.search(pattern, value) for value in values_reached)
    return any(_ranged(value, operator, operand) for value in values_reached)


def document_matches(document: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether `document` matches `query` (checked by `check` first)."""
    for field, condition in query.items():
        if field in _LOGICAL:
            found = (document_matches(document, part) for part in condition)
            ok = all(found) if field == "$and" else any(found)
            if ok == (field == "$nor"):
                return False
            continue
        operators = condition if _is_operators(condition) else {"$eq": condition}
        values_reached = list(reached(document, field.split(".")))
        options = operators.get("$options", "")
        for operator, operand in operators.items():
            if operator != "$options" and not _holds(values_reached, operator, operand, options):
                return False
    return True


def _is_operators(condition: Any) -> bool:
    return isinstance(condition, dict) and bool(condition) and all(str(key)[:1] == "$" for key in condition)


def check(query: Any) -> None:
    """Raise `Unsupported` unless `document_matches` matches `query` as MongoDB does."""
    if not isinstance(query, dict):
        raise Unsupported(type(query).__name__)
    for field, condition in query.items():
        if field in _LOGICAL:
            if not isinstance(condition, list) or not condition:
                raise Unsupported(field)
            for part in condition:
                check(part)
        elif field.startswith("$") or field == "_id" or field.split(".")[0] == "_id" or "" in field.split("."):
            raise Unsupported(field)
        elif _is_operators(condition):
            _check_operators(condition)
        else:
            _check_value(condition)


def _check_operators(operators: dict[str, Any]) -> None:
    for operator, operand in operators.items():
        if operator not in _OPERATORS:
            raise Unsupported(operator)
        if operator in ("$in", "$nin"):
            if not isinstance(operand, list):
                raise Unsupported(operator)
            for item in operand:
                _check_value(item)
        elif operator == "$exists":
            if not isinstance(operand, bool):
                raise Unsupported(operator)
        elif operator in ("$regex", "$options"):
            if not isinstance(operand, str) or (operator == "$regex" and not _compiles(operand, operators)):
                raise Unsupported(operator)
        elif operator in _RANGES:
            if operand is None or isinstance(operand, dict | list):
                raise Unsupported(operator)
            _check_value(operand)
        else:
            _check_value(operand)
    if "$options" in operators and "$regex" not in operators:
        raise Unsupported("$options")


def _compiles(pattern: str, operators: dict[str, Any]) -> bool:
    options = operators.get("$options", "")
    if not isinstance(options, str) or set(options) - set("imsx"):
        return False
    try:
        re.compile(f"(?{options}){pattern}" if options else pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return True


def _check_value(value: Any) -> None:
    """Values compared by equality: scalars, dates, ObjectIds, and documents or arrays of them."""
    if isinstance(value, dict):
        for item in value.values():
            _check_value(item)
    elif isinstance(value, list):
        for item in value:
            _check_value(item)
    elif not isinstance(value, _VALUES):
        raise Unsupported(type(value).__name__)


# --- SQL ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _query(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = values.loads(text)
    return loaded


def path_matches(data: str | None, query_text: str) -> int:
    """SQL function: whether the stored document `data` matches the filter `query_text`."""
    if data is None:
        return 0
    return int(document_matches(values.loads(data), _query(query_text)))


def field_matches(field_json: str | None, field: str, query_text: str) -> int:
    """SQL function: whether a document whose top-level `field` is `field_json` (JSON; NULL when
    missing) matches `query_text`, a filter of paths under that field only."""
    document = {} if field_json is None else {field: values.loads(field_json)}
    return int(document_matches(document, _query(query_text)))


def prepare(db: Any) -> None:
    """Give the connection `db` the SQL functions of dotted-path conditions."""
    db.create_function("path_matches", 2, path_matches, deterministic=True)
    db.create_function("field_matches", 3, field_matches, deterministic=True)


def _top_field(query: dict[str, Any]) -> str | None:
    """The one top-level field every path of `query` starts with, when it has one."""
    fields = {field.split(".")[0] for field in query if not field.startswith("$")}
    if len(fields) != 1 or any(field.startswith("$") for field in query):
        return None
    field = fields.pop()
    return field if _TOP_FIELD.match(field) else None


def clause(query: dict[str, Any]) -> Clause:
    """SQL true when a document matches `query` (checked by `check`)."""
    text = values.dumps_for_sql(query)
    field = _top_field(query)
    if field is None:
        return "path_matches(data, ?)", [text]
    return f"field_matches(data -> '$.{field}', ?, ?)", [field, text]


def clause_or_none(query: dict[str, Any]) -> Clause | None:
    try:
        check(query)
    except Unsupported:
        return None
    return clause(query)


def split(query: dict[str, Any]) -> tuple[list[Clause], dict[str, Any]] | None:
    """The SQL of `query`'s conditions on dotted paths (and of logical operators holding one)
    and on Decimal128s, NaN or infinities, and the rest of it; None when one of them is not
    matched here."""
    clauses: list[Clause] = []
    rest: dict[str, Any] = {}
    for key, value in query.items():
        if not _claimed(key, value):
            rest[key] = value
            continue
        found = clause_or_none({key: value})
        if found is None:
            return None
        clauses.append(found)
    return clauses, rest


def install(prepare_connection: Callable[[Any], None] = prepare) -> None:
    """Match dotted-path conditions with `path_matches` in finds, updates, deletes and
    aggregations; every connection the server opens gets its SQL functions from
    `prepare_connection` (the counts' `prepare`, which holds these too: date filters in finds use
    the counts' SQL)."""
    open_db_conn = NeoSQLiteHandler._open_db_conn

    def open_with_functions(self: NeoSQLiteHandler, db_name: str) -> Connection:
        connection = open_db_conn(self, db_name)
        prepare_connection(connection.db)
        return connection

    NeoSQLiteHandler._open_db_conn = open_with_functions
    split_filters.install(claims, split)
