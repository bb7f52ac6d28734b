"""Turn the seed API's specs (dicts) and pymongo operation objects into checked write requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne

from bulkadmin.bulk.upsert_documents import check_upsert_document
from bulkadmin.bulk.validation import RowInvalid, storable_or_row_invalid, validate_document
from bulkadmin.core.documents import MongoModel, stored_key, to_storage
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.safety import translate_filter, translate_update
from bulkadmin.core.storable import check_depth, check_storable
from bulkadmin.core.types import Document

WriteRequest = InsertOne[Document] | UpdateOne | UpdateMany | ReplaceOne[Document] | DeleteOne | DeleteMany
RequestBuilder = Callable[[Any], WriteRequest]


def insert_request(model: type[MongoModel]) -> RequestBuilder:
    """A builder of `InsertOne` from a document, validated whole with the model."""
    return lambda item: InsertOne(validate_document(model, item))


def update_request(model: type[MongoModel], many: bool = True) -> RequestBuilder:
    """A builder of `UpdateMany` (or `UpdateOne`) from `{"filter", "update", "upsert"}`."""
    request_class = UpdateMany if many else UpdateOne

    def build(spec: Any) -> WriteRequest:
        fields = _fields(spec, required={"filter", "update"}, optional={"upsert"})
        query = _checked(translate_filter, model, fields["filter"])
        update = _checked(partial(translate_update, filter=query), model, fields["update"], is_update=True)
        upsert = _flag(fields.get("upsert", False), "upsert")
        if upsert:
            update = with_defaults_on_insert(model, query, update)
            check_upsert_document(model, query, update)
        return request_class(query, update, upsert=upsert)

    return build


def delete_request(model: type[MongoModel], many: bool = True) -> RequestBuilder:
    """A builder of `DeleteMany` (or `DeleteOne`) from `{"filter"}`."""
    request_class = DeleteMany if many else DeleteOne
    return lambda spec: request_class(_checked(translate_filter, model, _fields(spec, required={"filter"})["filter"]))


def ids_request(update: dict[str, Any] | None) -> RequestBuilder:
    """A builder of one `UpdateMany` (or, with no update, `DeleteMany`) over a batch of stored
    `_id`s (one row: a list of them), for operations that read the documents before writing
    them. `update` comes translated (`core.safety.translate_update`): it is checked once here,
    and each batch refused the same way when it cannot be stored."""
    problem: RowInvalid | None = None
    if update is not None:
        try:
            with storable_or_row_invalid():
                for part in update.values():
                    check_storable(part)
        except RowInvalid as refused:
            problem = refused

    def build(ids: Any) -> WriteRequest:
        if problem is not None:
            raise RowInvalid(problem.field_errors)
        query = {"_id": {"$in": list(ids)}}
        return DeleteMany(query) if update is None else UpdateMany(query, update)

    return build


def replace_request(model: type[MongoModel]) -> RequestBuilder:
    """A builder of `ReplaceOne` from `{"filter", "replacement", "upsert"}`; the replacement is
    validated whole, keeping the matched document's `_id` unless it names one."""

    def build(spec: Any) -> ReplaceOne[Document]:
        fields = _fields(spec, required={"filter", "replacement"}, optional={"upsert"})
        replacement = validate_document(model, fields["replacement"])
        if "id" not in fields["replacement"] and "_id" not in fields["replacement"]:
            replacement.pop("_id")
        upsert = _flag(fields.get("upsert", False), "upsert")
        return ReplaceOne(_checked(translate_filter, model, fields["filter"]), replacement, upsert=upsert)

    return build


def restore_request(model: type[MongoModel]) -> RequestBuilder:
    """A builder of `ReplaceOne` by `_id` (upserting) from a document exactly as it was stored.

    Only for pre-images read back from the database (undo); never for user input."""

    def build(document: Any) -> ReplaceOne[Document]:
        if not isinstance(document, Mapping) or "_id" not in document:
            raise InvalidSpec("A restored document needs its `_id`.", field="_id")
        return ReplaceOne({"_id": document["_id"]}, dict(document), upsert=True)

    return build


def write_request(model: type[MongoModel]) -> RequestBuilder:
    """A builder for `bulk_write`: the seed's `{"insert_one": {"document": ...}}` dict forms
    and pymongo's operation objects, each checked like the single-purpose functions."""
    builders: dict[str, RequestBuilder] = {
        "update_one": update_request(model, many=False),
        "update_many": update_request(model),
        "replace_one": replace_request(model),
        "delete_one": delete_request(model, many=False),
        "delete_many": delete_request(model),
    }

    def build(operation: Any) -> WriteRequest:
        name, spec = _as_dict_form(operation)
        if name == "insert_one":
            return InsertOne(validate_document(model, _fields(spec, required={"document"})["document"]))
        if name not in builders:
            allowed = ", ".join(["insert_one", *builders])
            raise InvalidSpec(f"Unknown operation {name!r}; use one of {allowed}.", field=name)
        return builders[name](spec)

    return build


def with_defaults_on_insert(model: type[MongoModel], query: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Add `$setOnInsert` of the model's defaults for the fields neither the filter nor the update
    sets, so a document created by an upsert is complete."""
    taken = {path.split(".")[0] for path in query if not path.startswith("$")}
    taken |= {path.split(".")[0] for fields in update.values() for path in fields}
    defaults = {
        stored_key(model, name): info.get_default(call_default_factory=True)
        for name, info in model.model_fields.items()
        if not info.is_required() and stored_key(model, name) not in taken and name != "id"
    }
    if not defaults:
        return update
    return {**update, "$setOnInsert": {**to_storage(defaults), **update.get("$setOnInsert", {})}}


def _checked(
    translate: Callable[[type[MongoModel], Any], dict[str, Any]],
    model: type[MongoModel],
    spec: Any,
    *,
    is_update: bool = False,
) -> dict[str, Any]:
    """A filter or update translated by `translate`, no deeper than MongoDB nests and storable
    (an update's fields are named without their operator)."""
    with storable_or_row_invalid():
        check_depth(spec)
    translated = translate(model, spec)
    with storable_or_row_invalid():
        for part in translated.values() if is_update else [translated]:
            check_storable(part)
    return translated


def _as_dict_form(operation: Any) -> tuple[str, Any]:
    if isinstance(operation, InsertOne):
        return "insert_one", {"document": operation._doc}
    if isinstance(operation, (UpdateOne, UpdateMany)):
        name = "update_one" if isinstance(operation, UpdateOne) else "update_many"
        return name, {
            "filter": operation._filter,
            "update": operation._doc,
            "upsert": bool(operation._upsert),
        }
    if isinstance(operation, ReplaceOne):
        return "replace_one", {
            "filter": operation._filter,
            "replacement": operation._doc,
            "upsert": bool(operation._upsert),
        }
    if isinstance(operation, (DeleteOne, DeleteMany)):
        return ("delete_one" if isinstance(operation, DeleteOne) else "delete_many"), {"filter": operation._filter}
    if isinstance(operation, Mapping) and len(operation) == 1:
        return next(iter(operation.items()))
    raise InvalidSpec(f"An operation must be a one-key object such as {{'insert_one': ...}}, got {operation!r}.")


def _fields(spec: Any, *, required: set[str], optional: frozenset[str] | set[str] = frozenset()) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise InvalidSpec(f"Expected an object with {', '.join(sorted(required))}, got {type(spec).__name__}.")
    missing = required - set(spec)
    if missing:
        raise InvalidSpec(f"Missing {sorted(missing)[0]!r}.", field=sorted(missing)[0])
    unknown = set(spec) - required - optional
    if unknown:
        raise InvalidSpec(f"Unknown key {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    return spec


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidSpec(f"{name!r} must be true or false, got {value!r}.", field=name)
    return value
