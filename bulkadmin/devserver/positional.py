"""Update paths with array operators made concrete: `$[]` (every element), `$` (the first element
the query matched) and `$[<identifier>]` (the elements an `arrayFilters` entry matches), as
MongoDB applies them. Each path becomes the list of concrete paths (`tags.$` -> `tags.1`)."""

from __future__ import annotations

from typing import Any

from bulkadmin.devserver.element_match import matches
from bulkadmin.devserver.paths import BAD_VALUE, UpdateFailed, get_path

NO_POSITIONAL_MATCH = "The positional operator did not find the match needed from the query."


def concrete_paths(
    document: Any,
    parts: list[str],
    query: dict[str, Any] | None = None,
    array_filters: list[dict[str, Any]] | None = None,
) -> list[list[str]]:
    """`parts` with each array operator replaced by the indexes it stands for."""
    at = next((index for index, part in enumerate(parts) if part == "$" or part.startswith("$[")), None)
    if at is None:
        return [parts]
    items = get_path(document, parts[:at])
    where = ".".join(parts[:at])
    if not isinstance(items, list):
        raise UpdateFailed(f"The path '{where}' must exist and be an array to apply '{parts[at]}'", BAD_VALUE)
    indexes = _indexes(parts[at], where, items, query or {}, array_filters or [])
    expanded = [[*parts[:at], str(index), *parts[at + 1 :]] for index in indexes]
    return [concrete for each in expanded for concrete in concrete_paths(document, each, query, array_filters)]


def _indexes(
    operator: str, where: str, items: list[Any], query: dict[str, Any], array_filters: list[dict[str, Any]]
) -> list[int]:
    if operator == "$[]":
        return list(range(len(items)))
    if operator == "$":
        conditions = _conditions_on(where, query)
        found = next((i for i, item in enumerate(items) if conditions and _all_hold(item, conditions)), None)
        if found is None:
            raise UpdateFailed(NO_POSITIONAL_MATCH, BAD_VALUE)
        return [found]
    name = operator[2:-1]
    conditions = [(key, value) for entry in array_filters for key, value in entry.items() if _under(key, name)]
    if not conditions:
        raise UpdateFailed(f"No array filter found for identifier '{name}' in path '{where}.{operator}'", BAD_VALUE)
    on_element = [(key[len(name) + 1 :], value) for key, value in conditions]
    return [index for index, item in enumerate(items) if _all_hold(item, on_element)]


def _conditions_on(where: str, query: dict[str, Any]) -> list[tuple[str, Any]]:
    """The query's conditions on the array at `where` (`""`) or on fields of its elements."""
    found: list[tuple[str, Any]] = []
    for key, value in query.items():
        if key == "$and" and isinstance(value, list):
            found += [pair for part in value for pair in _conditions_on(where, part)]
        elif _under(key, where):
            found.append((key[len(where) + 1 :], value))
    return found


def _under(key: str, root: str) -> bool:
    return key == root or key.startswith(f"{root}.")


def _all_hold(item: Any, conditions: list[tuple[str, Any]]) -> bool:
    """Whether an element meets every condition (`field` "": on the element itself)."""
    for field, condition in conditions:
        if field:
            held = matches(item, {field: condition})  # a query on the element's fields
        elif isinstance(condition, dict) and "$elemMatch" in condition:
            held = matches(item, condition["$elemMatch"])
        else:
            held = matches(item, condition)
        if not held:
            return False
    return True
