"""Row validation with the collection model: whole documents and partial (merge) documents."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from bulkadmin.bulk.results import FieldError
from bulkadmin.core.documents import MongoModel, flatten_sub_documents
from bulkadmin.core.exceptions import BulkAdminError, InvalidSpec
from bulkadmin.core.safety import validate_fields
from bulkadmin.core.storable import check_depth, check_storable


class RowInvalid(BulkAdminError):
    """A row failed validation; `.field_errors` lists every field at fault."""

    def __init__(self, field_errors: tuple[FieldError, ...]) -> None:
        self.field_errors = field_errors
        self.field = field_errors[0].field if field_errors else None
        super().__init__("; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in field_errors))


def validate_document(model: type[MongoModel], item: Any) -> dict[str, Any]:
    """Validate a whole document (dict or model instance); return it in stored form, checked to
    be storable (`bulkadmin.core.storable`)."""
    with storable_or_row_invalid():
        if isinstance(item, model):
            return _storable(item.to_document())
        if not isinstance(item, Mapping):
            raise RowInvalid((FieldError("", f"a row must be an object, not {type(item).__name__}"),))
        check_depth(item)
        try:
            return _storable(model.model_validate(item).to_document())
        except PydanticValidationError as error:
            raise RowInvalid(field_errors(error)) from None


def validate_partial(model: type[MongoModel], item: Any) -> dict[str, Any]:
    """Validate only the fields present in a row (for merges); return them with stored keys,
    sub-documents of model-typed fields as dotted paths."""
    with storable_or_row_invalid():
        if isinstance(item, model):
            return _storable(item.to_document())
        if not isinstance(item, Mapping):
            raise RowInvalid((FieldError("", f"a row must be an object, not {type(item).__name__}"),))
        check_depth(item)
        stored, errors = {}, []
        for name, value in flatten_sub_documents(model, item).items():
            try:
                stored.update(validate_fields(model, {name: value}))
            except InvalidSpec as error:
                errors.append(FieldError(error.field or name, str(error).removeprefix(f"{name}: ")))
        if errors:
            raise RowInvalid(tuple(errors))
        return _storable(stored)


@contextmanager
def storable_or_row_invalid() -> Iterator[None]:
    """Report a value MongoDB cannot hold (`check_storable`, `check_depth`, a date out of range)
    as the row's `RowInvalid` naming the field."""
    try:
        yield
    except RowInvalid:
        raise
    except InvalidSpec as error:
        field = error.field or ""
        raise RowInvalid((FieldError(field, str(error).removeprefix(f"{field}: ")),)) from None


def _storable(document: dict[str, Any]) -> dict[str, Any]:
    check_storable(document)
    return document


def field_errors(error: PydanticValidationError) -> tuple[FieldError, ...]:
    """pydantic's errors as (dotted field, message) pairs; `_id` is reported as `id`."""
    found = []
    for detail in error.errors():
        path = ".".join(str(part) for part in detail["loc"])
        found.append(FieldError("id" if path == "_id" else path, detail["msg"]))
    return tuple(found)
