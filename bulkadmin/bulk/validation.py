"""Row validation with the collection model: whole documents and partial (merge) documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from bulkadmin.bulk.results import FieldError
from bulkadmin.core.documents import MongoModel, flatten_sub_documents
from bulkadmin.core.exceptions import BulkAdminError, InvalidSpec
from bulkadmin.core.safety import validate_fields


class RowInvalid(BulkAdminError):
    """A row failed validation; `.field_errors` lists every field at fault."""

    def __init__(self, field_errors: tuple[FieldError, ...]) -> None:
        self.field_errors = field_errors
        self.field = field_errors[0].field if field_errors else None
        super().__init__("; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in field_errors))


def validate_document(model: type[MongoModel], item: Any) -> dict[str, Any]:
    """Validate a whole document (dict or model instance); return it in stored form."""
    if isinstance(item, model):
        return item.to_document()
    if not isinstance(item, Mapping):
        raise RowInvalid((FieldError("", f"a row must be an object, not {type(item).__name__}"),))
    try:
        return model.model_validate(item).to_document()
    except PydanticValidationError as error:
        raise RowInvalid(field_errors(error)) from None


def validate_partial(model: type[MongoModel], item: Any) -> dict[str, Any]:
    """Validate only the fields present in a row (for merges); return them with stored keys,
    sub-documents of model-typed fields as dotted paths."""
    if isinstance(item, model):
        return item.to_document()
    if not isinstance(item, Mapping):
        raise RowInvalid((FieldError("", f"a row must be an object, not {type(item).__name__}"),))
    stored, errors = {}, []
    for name, value in flatten_sub_documents(model, item).items():
        try:
            stored.update(validate_fields(model, {name: value}))
        except InvalidSpec as error:
            errors.append(FieldError(error.field or name, str(error).removeprefix(f"{name}: ")))
    if errors:
        raise RowInvalid(tuple(errors))
    return stored


def field_errors(error: PydanticValidationError) -> tuple[FieldError, ...]:
    """pydantic's errors as (dotted field, message) pairs; `_id` is reported as `id`."""
    found = []
    for detail in error.errors():
        path = ".".join(str(part) for part in detail["loc"])
        found.append(FieldError("id" if path == "_id" else path, detail["msg"]))
    return tuple(found)
