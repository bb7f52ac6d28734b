"""The allow-listed MongoDB operators of filters and updates, and the error naming a refused one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulkadmin.core.exceptions import InvalidSpec

COMPARISON_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})
LIST_OPERATORS = frozenset({"$in", "$nin", "$all"})
FILTER_OPERATORS = (
    COMPARISON_OPERATORS | LIST_OPERATORS | {"$exists", "$not", "$regex", "$options", "$elemMatch", "$size", "$type"}
)
LOGICAL_OPERATORS = frozenset({"$and", "$or", "$nor"})
VALUE_UPDATE_OPERATORS = frozenset({"$set", "$setOnInsert", "$min", "$max"})
NUMBER_UPDATE_OPERATORS = frozenset({"$inc", "$mul"})
ARRAY_UPDATE_OPERATORS = frozenset({"$push", "$addToSet"})
LIST_FIELD_OPERATORS = ARRAY_UPDATE_OPERATORS | {"$pull", "$pullAll", "$pop"}
UPDATE_OPERATORS = VALUE_UPDATE_OPERATORS | NUMBER_UPDATE_OPERATORS | LIST_FIELD_OPERATORS | {"$unset", "$currentDate"}
ARRAY_MODIFIERS = frozenset({"$each", "$position", "$slice", "$sort"})
BSON_TYPE_ALIASES = frozenset(
    {
        "double", "string", "object", "array", "binData", "objectId", "bool", "date", "null", "regex",
        "int", "timestamp", "long", "decimal", "minKey", "maxKey", "number",
    }
)  # fmt: skip
BSON_TYPE_CODES = frozenset({-1, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 16, 17, 18, 19, 127})


def is_operator_expression(value: Any) -> bool:
    """Whether `value` is an object of operators (`{"$gt": 3}`) rather than a plain value."""
    return isinstance(value, Mapping) and any(str(key).startswith("$") for key in value)


def operator_error(operator: str, where: str, allowed: frozenset[str], field: str | None = None) -> InvalidSpec:
    """The error for an operator outside the allow-list of a filter or update."""
    suffix = f" (at {field!r})" if field else ""
    return InvalidSpec(
        f"Operator {operator} is not allowed in a {where}{suffix}. Allowed: {', '.join(sorted(allowed))}.",
        operator=operator,
        field=field,
    )


def check_operators(value: Any, path: str, allowed: frozenset[str], where: str = "filter") -> None:
    """Refuse any `$`-key outside `allowed` anywhere inside `value` (iteratively)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, inner in item.items():
                if isinstance(key, str) and key.startswith("$") and key not in allowed:
                    raise operator_error(key, where, allowed, field=path)
                stack.append(inner)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
