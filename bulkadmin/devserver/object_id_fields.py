"""ObjectIds in fields other than `_id` (`owner`, `deep.owner`, an array's elements) found as stored.

neosqlite turned a filter's ObjectIds into their hex digits (`normalize_id_query_for_db`) and
compared them with the stored ObjectId, a tagged object, so `{"deep.owner": oid}` matched
nothing and `$ne` everything. Here those ObjectIds are kept, and an ObjectId's `$eq`, `$in`, `$ne`
and `$nin` (or equality) on a plain dotted path compare the stored object's JSON text, elements
of arrays along the path included; other conditions on ObjectIds are matched in Python.

A condition on a dotted path (`deep.owner`) is `dotted_paths`' before it reaches this module.
Left as it was: where a filter is matched in Python (inside `$or`, `$and`, `$nor` without a
dotted path, and in the aggregations neosqlite runs in Python), a string of an ObjectId's 24 hex
digits still equals that ObjectId.
"""

from __future__ import annotations

import json
import re
from typing import Any

from neosqlite.collection.query_helper import QueryHelper
from neosqlite.collection.type_correction import normalize_id_query_for_db
from neosqlite.objectid import ObjectId

from bulkadmin.devserver import split_filters
from bulkadmin.devserver.document_ids import is_operators
from bulkadmin.devserver.split_filters import Clause

_PLAIN_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")  # no array index, no quoting


def stored_text(value: ObjectId) -> str:
    """An ObjectId as SQLite's JSON functions read it from a stored document (compact JSON)."""
    return json.dumps(value.encode_for_storage(), separators=(",", ":"))


def holds_object_id(value: Any) -> bool:
    """Whether a condition's value has an ObjectId anywhere in it."""
    if isinstance(value, ObjectId):
        return True
    if isinstance(value, dict):
        return any(holds_object_id(item) for item in value.values())
    return isinstance(value, list | tuple) and any(holds_object_id(item) for item in value)


def equals_clause(field: str, values: list[ObjectId]) -> Clause:
    """SQL true when `field` (a plain dotted path) holds one of `values`, as itself or as an element
    of an array along its path (MongoDB's equality); NULL or false otherwise."""
    texts = [stored_text(value) for value in values]
    marks = ", ".join("?" for _ in texts)
    parts = field.split(".")
    arms = [f"json_extract(data, '$.{field}') IN ({marks})"]
    for depth in range(1, len(parts) + 1):
        array, rest = ".".join(parts[:depth]), ".".join(parts[depth:])
        element = f"json_extract(value, '$.{rest}')" if rest else "value"
        arms.append(
            f"EXISTS (SELECT 1 FROM json_each(CASE WHEN json_type(data, '$.{array}') = 'array' "
            f"THEN json_extract(data, '$.{array}') END) WHERE {element} IN ({marks}))"
        )
    return f"({' OR '.join(arms)})", texts * len(arms)


def field_object_id_clause(field: str, operator: str, operand: Any) -> Clause | None:
    """An ObjectId `$eq`, `$in`, `$ne` or `$nin` on a field other than `_id` as SQL; None for others."""
    values = [operand] if operator in ("$eq", "$ne") else operand
    if operator not in ("$eq", "$in", "$ne", "$nin") or not isinstance(values, list | tuple) or not values:
        return None
    if not all(isinstance(value, ObjectId) for value in values):
        return None
    clause, params = equals_clause(field, list(values))
    return (clause, params) if operator in ("$eq", "$in") else (f"NOT COALESCE({clause}, 0)", params)


def _object_id_fields(query: Any) -> list[str]:
    """The fields other than `_id` whose conditions hold an ObjectId."""
    if not isinstance(query, dict):
        return []
    return [
        field
        for field, value in query.items()
        if field[:1] != "$" and field not in ("_id", "id") and holds_object_id(value)
    ]


def split_object_id_conditions(query: dict[str, Any]) -> tuple[list[Clause], dict[str, Any]] | None:
    """The SQL of `query`'s ObjectId conditions on fields other than `_id`, and the rest of it;
    None when one of them is not SQL here (a range, `$all`, a sub-document, a path with an index)."""
    clauses: list[Clause] = []
    rest = {field: value for field, value in query.items() if field not in _object_id_fields(query)}
    for field in _object_id_fields(query):
        value = query[field]
        if not _PLAIN_PATH.match(field) or (isinstance(value, dict) and not is_operators(value)):
            return None
        operators = value if is_operators(value) else {"$eq": value}
        for operator, operand in operators.items():
            clause = field_object_id_clause(field, operator, operand)
            if clause is None and holds_object_id(operand):
                return None
            if clause is None:
                rest.setdefault(field, {})[operator] = operand
            else:
                clauses.append(clause)
    return clauses, rest


def install() -> None:
    """Keep the ObjectIds of fields other than `_id` (neosqlite turned them into their hex digits,
    `normalize_id_query_for_db`) and compare them as stored wherever a filter becomes SQL; a filter
    this cannot translate is matched in Python, or, in `translate_match`, translated as before."""
    normalize = QueryHelper._normalize_id_query

    def normalize_keeping_object_ids(self: QueryHelper, query: Any) -> Any:
        fields = _object_id_fields(query)
        if not fields:
            return normalize(self, query)
        normalized = normalize(self, {field: value for field, value in query.items() if field not in fields})
        return {**normalized, **{field: query[field] for field in fields}}

    QueryHelper._normalize_id_query = normalize_keeping_object_ids
    split_filters.install(
        lambda query: bool(_object_id_fields(query)), split_object_id_conditions, normalize_id_query_for_db
    )
