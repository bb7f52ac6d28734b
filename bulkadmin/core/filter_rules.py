"""Filters written with field names, checked against a model (or sub-model) and translated.

Call `bulkadmin.core.safety.translate_filter`, which first bounds the filter's depth, so the
recursion here is never deeper than `MAX_SPEC_DEPTH`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.field_paths import FREE, LIST, MODEL, Target, item_type, model_of, resolve, single_kind
from bulkadmin.core.operators import (
    BSON_TYPE_ALIASES,
    BSON_TYPE_CODES,
    COMPARISON_OPERATORS,
    FILTER_OPERATORS,
    LIST_OPERATORS,
    LOGICAL_OPERATORS,
    check_operators,
    is_operator_expression,
    operator_error,
)
from bulkadmin.core.regex_limits import check_regex
from bulkadmin.core.typed_values import coerce_for_query

ALL_FILTER_OPERATORS = FILTER_OPERATORS | LOGICAL_OPERATORS


def filter_document(root: type[BaseModel], spec: Any, where: str | None = None) -> dict[str, Any]:
    """`spec` checked against `root`'s fields, with stored keys and typed values."""
    if not isinstance(spec, Mapping):
        raise InvalidSpec(f"A filter must be an object, not {type(spec).__name__}.", field=where)
    translated: dict[str, Any] = {}
    for key, value in spec.items():
        if key in LOGICAL_OPERATORS:
            translated[key] = [filter_document(root, clause, where) for clause in _clauses(key, value, where)]
        elif isinstance(key, str) and key.startswith("$"):
            raise operator_error(key, "filter", ALL_FILTER_OPERATORS, field=where)
        else:
            target = _resolve(root, key, where)
            translated[target.stored] = condition(target.annotation, value, f"{where}.{key}" if where else key)
    return translated


def _resolve(root: type[BaseModel], key: Any, where: str | None) -> Target:
    """The target of `key`; inside `$elemMatch` / `$pull` (`where`) errors name the whole path."""
    try:
        return resolve(root, key)
    except InvalidSpec as error:
        if where is None:
            raise
        field = f"{where}.{error.field}" if error.field is not None else where
        raise InvalidSpec(f"{where}: {error}", field=field, operator=error.operator) from None


def condition(annotation: Any, value: Any, path: str) -> Any:
    """The condition on one field: a value, a regex or an object of operators."""
    if isinstance(value, re.Pattern):
        check_regex(value, None, path)
        return value
    if not is_operator_expression(value):
        if single_kind(annotation) == FREE:
            check_operators(value, path, ALL_FILTER_OPERATORS)
        return coerce_for_query(annotation, value, path)
    if "$options" in value and "$regex" not in value:
        raise InvalidSpec(f"{path}: $options needs $regex.", field=path, operator="$options")
    if "$regex" in value:
        check_regex(value["$regex"], value.get("$options"), path)
    return {op: _argument(annotation, op, arg, path) for op, arg in value.items()}


def _argument(annotation: Any, operator: Any, argument: Any, path: str) -> Any:
    if operator in COMPARISON_OPERATORS:
        return _typed(annotation, argument, path, operator)
    if operator in LIST_OPERATORS:
        if not isinstance(argument, (list, tuple)):
            raise InvalidSpec(f"{path}: {operator} needs a list.", field=path, operator=operator)
        return [_typed(annotation, item, path, operator) for item in argument]
    if operator == "$not":
        if not isinstance(argument, (Mapping, re.Pattern)) or argument == {}:
            raise InvalidSpec(f"{path}: $not needs operators or a regex.", field=path, operator=operator)
        if isinstance(argument, Mapping) and not is_operator_expression(argument):
            raise InvalidSpec(f"{path}: $not needs operators such as $gt.", field=path, operator=operator)
        return condition(annotation, argument, path)
    if operator == "$elemMatch":
        return elem_match(annotation, argument, path)
    if operator in FILTER_OPERATORS:
        return _simple_argument(annotation, operator, argument, path)
    raise operator_error(str(operator), "filter", ALL_FILTER_OPERATORS, field=path)


def _typed(annotation: Any, value: Any, path: str, operator: str) -> Any:
    if isinstance(value, re.Pattern):
        check_regex(value, None, path)
        return value
    if single_kind(annotation) == FREE:
        check_operators(value, path, ALL_FILTER_OPERATORS)
    return coerce_for_query(annotation, value, path, operator)


def elem_match(annotation: Any, argument: Any, path: str) -> Any:
    """`$elemMatch`: a filter on sub-document elements, or operators on scalar elements."""
    kind = single_kind(annotation)
    if kind not in (LIST, FREE):
        raise InvalidSpec(f"{path}: $elemMatch needs a list field.", field=path, operator="$elemMatch")
    if not isinstance(argument, Mapping) or not argument:
        raise InvalidSpec(f"{path}: $elemMatch needs an object.", field=path, operator="$elemMatch")
    if kind == FREE or item_type(annotation) is None:
        check_operators(argument, path, ALL_FILTER_OPERATORS)
        return argument
    item = item_type(annotation)
    if single_kind(item) == MODEL:
        return filter_document(model_of(item), argument, path)
    if not all(isinstance(key, str) and key.startswith("$") for key in argument):
        raise InvalidSpec(f"{path}: $elemMatch on a list of values needs operators.", field=path, operator="$elemMatch")
    return condition(item, argument, path)


def _simple_argument(annotation: Any, operator: str, argument: Any, path: str) -> Any:
    if operator == "$exists" and isinstance(argument, bool):
        return argument
    if operator == "$size" and _count(argument):
        return argument
    if operator == "$regex" and isinstance(argument, (str, re.Pattern)):
        return argument
    if operator == "$options" and isinstance(argument, str):
        return argument
    if operator == "$type" and _bson_types(argument):
        return argument
    raise InvalidSpec(f"{path}: invalid argument for {operator}: {argument!r}.", field=path, operator=operator)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def _bson_types(value: Any) -> bool:
    values = value if isinstance(value, list) and value else [value]
    return all(
        (isinstance(item, str) and item in BSON_TYPE_ALIASES)
        or (isinstance(item, int) and not isinstance(item, bool) and item in BSON_TYPE_CODES)
        for item in values
    )


def _clauses(operator: str, value: Any, where: str | None) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InvalidSpec(f"{operator} needs a non-empty list of filters.", operator=operator, field=where)
    for clause in value:
        if not isinstance(clause, Mapping):
            raise InvalidSpec(f"{operator} needs a list of filter objects.", operator=operator, field=where)
    return value
