"""Filters comparing a top-level field with a number or a boolean, matched in finds, updates and
deletes as `count_documents` matches them.

neosqlite compared `json_extract(data, '$.price')` with the number in SQL: a Decimal128 or an
infinity (stored as a tagged object) never equalled a number and was "greater" than every one, as
was any text (`{"price": {"$gt": 1}}` found `"5"`), and `true` equalled 1 (`[true]` did not
equal `true`). Here such a condition (`$eq`, `$ne`, ranges, `$in`, `$nin`, and `$and`, `$or`,
`$nor` holding one) is the counts' SQL (`counts.where_clause`: MongoDB's type brackets, numbers of
every type compared by value, NaN in no range), led by a test an index on the field answers: the
field's number in the range asked, or its JSON text opening an array or an object (a Decimal128,
an infinity or NaN), which the exact SQL confirms. A condition the counts cannot translate stays
with neosqlite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from neosqlite.collection._stage_builders import StageBuildersMixin

from bulkadmin.devserver import split_filters
from bulkadmin.devserver.counts import NotSql, where_clause
from bulkadmin.devserver.dotted_paths import is_dotted
from bulkadmin.devserver.split_filters import Clause

_LOGICAL = ("$and", "$or", "$nor")
_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_COMPARISONS = frozenset({"$eq", "$ne", *_RANGES})
_MEMBERSHIPS = frozenset({"$in", "$nin"})
# A field's JSON text opening an array or an object (json_extract's text for those), as index ranges.
_CONTAINERS = "({value} >= '[' AND {value} < '\\') OR ({value} >= '{{' AND {value} < '|')"


def _is_number(value: Any) -> bool:
    """Whether neosqlite compares `value` as an SQL number (a boolean is 1 or 0 there)."""
    return isinstance(value, int | float)


def _is_finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


def _is_operators(condition: Any) -> bool:
    return isinstance(condition, dict) and bool(condition) and all(str(key)[:1] == "$" for key in condition)


def _compares_number(key: str, condition: Any) -> bool:
    """Whether a filter's `key: condition` compares a field (or, under a logical operator, one
    of its parts' fields) with a number or a boolean."""
    if key in _LOGICAL:
        return isinstance(condition, list) and any(
            isinstance(part, dict) and any(_compares_number(*item) for item in part.items()) for part in condition
        )
    if key.startswith("$") or key == "_id":
        return False
    if not _is_operators(condition):
        return _is_number(condition)
    return any(
        (operator in _COMPARISONS and _is_number(operand))
        or (operator in _MEMBERSHIPS and isinstance(operand, list) and any(map(_is_number, operand)))
        for operator, operand in condition.items()
    )


def _exact(key: str, condition: Any) -> Clause | None:
    """The counts' SQL of `key: condition`, or None when they cannot translate it."""
    try:
        return where_clause({key: condition})
    except NotSql:
        return None


def _claimed(key: str, condition: Any) -> bool:
    return _compares_number(key, condition) and _exact(key, condition) is not None


def claims(query: Any) -> bool:
    return isinstance(query, dict) and any(_claimed(key, value) for key, value in query.items())


def _index_tests(key: str, condition: Any) -> list[Clause]:
    """Tests an index on the field `key` answers, which every document matching `condition`
    passes (none for a dotted path, a logical operator, `$ne`, `$nin` and other operands)."""
    if key in _LOGICAL or is_dotted(key):
        return []
    value = f"json_extract(data, '$.{key}')"
    operators = condition if _is_operators(condition) else {"$eq": condition}
    tests: list[Clause] = []
    for operator, operand in operators.items():
        scalars = _scalar_test(value, operator, operand)
        if scalars is not None:
            tests.append((f"({scalars[0]} OR {_CONTAINERS.format(value=value)})", scalars[1]))
    return tests


def _scalar_test(value: str, operator: str, operand: Any) -> Clause | None:
    """`value` (a field's `json_extract`) as a number or text `operator` selects."""
    if operator == "$eq" and _is_finite(operand):
        return f"{value} = ?", [operand]
    if operator in _RANGES and _is_finite(operand):
        upper = f" AND {value} < ''" if operator in ("$gt", "$gte") else ""  # numbers sort before text
        return f"({value} {_RANGES[operator]} ?{upper})", [operand]
    if operator == "$in" and _are_scalars(operand):
        return f"{value} IN ({', '.join('?' * len(operand))})", list(operand)
    return None


def _are_scalars(operand: Any) -> bool:
    """Whether `operand` is a non-empty list of text and finite numbers (or booleans)."""
    return isinstance(operand, list) and bool(operand) and all(isinstance(i, str) or _is_finite(i) for i in operand)


def split(query: dict[str, Any]) -> tuple[list[Clause], dict[str, Any]] | None:
    """The SQL of `query`'s conditions comparing fields with numbers or booleans, and the rest."""
    clauses: list[Clause] = []
    rest: dict[str, Any] = {}
    for key, value in query.items():
        exact = _exact(key, value) if _compares_number(key, value) else None
        if exact is None:
            rest[key] = value
        else:
            clauses += [*_index_tests(key, value), exact]
    return clauses, rest


def _match_stage(build_match: Callable[..., Any]) -> Callable[..., Any]:
    """neosqlite's SQL of an aggregation's `$match`, with the conditions `split` translates
    tested on the rows the stage reads."""

    def build(self: StageBuildersMixin, spec: Any, prev_stage: str, context: Any) -> tuple[str | None, list[Any]]:
        if not claims(spec):
            return build_match(self, spec, prev_stage, context)  # type: ignore[no-any-return]
        clauses, rest = split(spec) or ([], spec)
        where = " AND ".join(sql for sql, _ in clauses)
        sql, params = build_match(self, rest, f"(SELECT * FROM {prev_stage} WHERE {where})", context)
        clause_params = [param for _, part_params in clauses for param in part_params]
        return (None, []) if sql is None else (sql, [*clause_params, *params])

    return build


def install() -> None:
    """Match conditions comparing fields with numbers or booleans exactly in finds, updates,
    deletes and aggregations' `$match`."""
    split_filters.install(claims, split)
    StageBuildersMixin._build_match_sql = _match_stage(StageBuildersMixin._build_match_sql)
