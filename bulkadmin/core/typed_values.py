"""Values typed by a model field's annotation and returned in stored form."""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from bulkadmin.core.documents import keep_int64, not_text, to_storage
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.field_paths import LIST, item_type, single_kind
from bulkadmin.core.messages import readable
from bulkadmin.core.spec_limits import check_stored_value

_adapters: dict[Any, TypeAdapter[Any]] = {}


def coerce(annotation: Any, value: Any, path: str, operator: str | None = None) -> Any:
    """`value` validated against `annotation` (None: free-form), in stored form; an Int64 given
    to an int field stays an Int64; binary data or JavaScript code given to text is refused."""
    problem = None if annotation is None else not_text(annotation, value)
    if problem is not None:
        where = f"{path}.{problem[0]}" if problem[0] else path
        raise InvalidSpec(f"{where}: {problem[1]}.", field=where, operator=operator)
    try:
        stored = to_storage(value if annotation is None else adapter(annotation).validate_python(value))
        if annotation is not None:
            stored = keep_int64(annotation, value, stored)
    except PydanticValidationError as error:
        message = readable(error.errors()[0])
        raise InvalidSpec(f"{path}: {message} (got {_short(value)}).", field=path, operator=operator) from None
    except (TypeError, ValueError, OverflowError) as error:
        raise InvalidSpec(f"{path}: invalid value {_short(value)} ({error}).", field=path, operator=operator) from None
    check_stored_value(stored, path, operator)
    return stored


def coerce_for_query(annotation: Any, value: Any, path: str, operator: str | None = None) -> Any:
    """Type a filter value; `None` (missing), regexes and single elements of lists are accepted."""
    if value is None or isinstance(value, re.Pattern):
        return value
    if single_kind(annotation) == LIST and not isinstance(value, (list, tuple)):
        return coerce(item_type(annotation), value, path, operator)
    return coerce(annotation, value, path, operator)


def accepts(annotation: Any, value: Any) -> bool:
    """Whether `annotation` validates `value`."""
    if annotation is None:
        return True
    try:
        adapter(annotation).validate_python(value)
    except (PydanticValidationError, TypeError, ValueError):
        return False
    return True


def adapter(annotation: Any) -> TypeAdapter[Any]:
    try:
        return _adapters[annotation]
    except KeyError:
        found = _adapters[annotation] = TypeAdapter(annotation)
        return found
    except TypeError:
        return TypeAdapter(annotation)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
