"""Whether a value matches a query condition, as MongoDB matches array elements for `$pull`, the
positional `$` and `arrayFilters`: a value, operators (`$eq`, `$ne`, `$gt`, `$gte`, `$lt`,
`$lte`, `$in`, `$nin`, `$exists`, `$regex`, `$elemMatch`) or a query on a sub-document."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bulkadmin.devserver.ordering import same_value, sort_key
from bulkadmin.devserver.paths import BAD_VALUE, MISSING, UpdateFailed, get_path

_COMPARISONS: dict[str, Callable[[tuple[Any, ...], tuple[Any, ...]], bool]] = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a[0] == b[0] and a > b,
    "$gte": lambda a, b: a[0] == b[0] and a >= b,
    "$lt": lambda a, b: a[0] == b[0] and a < b,
    "$lte": lambda a, b: a[0] == b[0] and a <= b,
}


def matches(item: Any, condition: Any) -> bool:
    """Whether `item` (an array element) matches `condition`."""
    if not isinstance(condition, dict):
        return same_value(item, condition)
    if condition and all(key.startswith("$") for key in condition):
        options = condition.get("$options", "")
        return all(
            _operator_matches(item, operator, operand, options)
            for operator, operand in condition.items()
            if operator != "$options"
        )
    if not isinstance(item, dict):
        return False
    return all(matches(get_path(item, key.split(".")), value) for key, value in condition.items())


def _operator_matches(item: Any, operator: str, operand: Any, options: str) -> bool:
    if operator == "$in":
        return any(same_value(item, value) for value in operand)
    if operator == "$nin":
        return not any(same_value(item, value) for value in operand)
    if operator == "$exists":
        return (item is not MISSING) == bool(operand)
    if operator == "$regex":
        pattern = f"(?{options}){operand}" if options else operand
        return isinstance(item, str) and re.search(pattern, item) is not None
    if operator == "$elemMatch":
        return isinstance(item, list) and any(matches(element, operand) for element in item)
    compare = _COMPARISONS.get(operator)
    if compare is None:
        raise UpdateFailed(f"Unsupported condition {operator} on an array element", BAD_VALUE)
    return item is not MISSING and compare(sort_key(item), sort_key(operand))
