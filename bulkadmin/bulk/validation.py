"""Row validation with the collection model: whole documents and partial (merge) documents."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from operator import attrgetter, itemgetter, methodcaller
from typing import Any

import bson
from bson import Decimal128, ObjectId, Timestamp
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from bulkadmin.bulk.results import VALIDATION_FAILED, FieldError
from bulkadmin.core.documents import (
    NOT_TEXT,
    MongoModel,
    flatten_sub_documents,
    keep_int64,
    keep_int64_rows,
    to_storage,
)
from bulkadmin.core.exceptions import BulkAdminError, InvalidSpec
from bulkadmin.core.messages import readable
from bulkadmin.core.safety import validate_fields
from bulkadmin.core.storable import INT64_MAX, INT64_MIN, check_depth, check_storable


class RowInvalid(BulkAdminError):
    """A row failed validation; `.field_errors` lists every field at fault."""

    def __init__(self, field_errors: tuple[FieldError, ...]) -> None:
        self.field_errors = field_errors
        self.field = field_errors[0].field if field_errors else None
        super().__init__("; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in field_errors))

    code: int = VALIDATION_FAILED
    kind: str = "validation"  # a `RowError`'s kind: "validation" (rejected) or "write" (failed)


MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # MongoDB's maxBsonObjectSize


class DocumentTooLarge(RowInvalid):
    """A valid document over MongoDB's 16 MiB limit: the server refuses its write (BadValue), so
    the row counts as failed, in a dry run as in the real run; `.size` is its BSON size."""

    code = 2  # BadValue, as MongoDB answers an insert over the limit
    kind = "write"

    def __init__(self, size: int) -> None:
        self.size = size
        limit = f"{MAX_DOCUMENT_BYTES:,} bytes (16 MiB)"
        super().__init__((FieldError("", f"the document is {size:,} bytes in BSON, over MongoDB's limit of {limit}"),))
        self.field = None


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
            return _storable(keep_int64(model, item, model.model_validate(item).to_document()))
        except PydanticValidationError as error:
            raise RowInvalid(field_errors(error)) from None


def validate_documents(model: type[MongoModel], items: Sequence[Any]) -> list[dict[str, Any] | RowInvalid]:
    """`validate_document` of each item, in order, with each failure as its `RowInvalid` in place
    of the document. Plain dicts are validated by pydantic as one list (one call for the batch,
    not one per row); a batch holding an invalid row is validated again without it."""
    adapter = _list_adapter(model)
    if adapter is None:
        return [_one(model, item) for item in items]
    results: list[dict[str, Any] | RowInvalid | None] = [None] * len(items)
    batch = _batchable(model, items, results)
    while batch:
        try:
            instances = adapter.validate_python([items[position] for position in batch])
        except PydanticValidationError as error:
            failed = {detail["loc"][0] for detail in error.errors() if detail["loc"]}
            for number in sorted(failed):
                results[batch[number]] = _one(model, items[batch[number]])  # type: ignore[index]
            batch = [position for number, position in enumerate(batch) if number not in failed] if failed else []
            if not failed:  # an error of the list itself: each row on its own
                results = [
                    _one(model, item) if found is None else found for item, found in zip(items, results, strict=True)
                ]
            continue
        stored = _stored_batch(
            adapter.dump_python(instances, by_alias=True), model.model_config.get("extra") != "allow"
        )
        stored = keep_int64_rows(model, [items[position] for position in batch], stored)
        for position, document in zip(batch, stored, strict=True):
            results[position] = document
        break
    return results  # type: ignore[return-value]


def _batchable(
    model: type[MongoModel], items: Sequence[Any], results: list[dict[str, Any] | RowInvalid | None]
) -> list[int]:
    """The positions of the items pydantic may validate as one list (plain dicts not nested too
    deeply); the others get their result in `results` now. A batch of flat dicts of plain values
    (rows read from a CSV file) is recognised at once, without looking at each row."""
    if set(map(type, items)) == {dict} and set(map(type, chain.from_iterable(map(dict.values, items)))) <= _FLAT:
        return list(range(len(items)))
    batch: list[int] = []
    for position, item in enumerate(items):
        if type(item) is not dict:
            results[position] = _one(model, item)
            continue
        try:
            check_depth(item)
        except InvalidSpec as error:
            results[position] = _as_row_invalid(error)
            continue
        batch.append(position)
    return batch


def _one(model: type[MongoModel], item: Any) -> dict[str, Any] | RowInvalid:
    try:
        return validate_document(model, item)
    except RowInvalid as error:
        return error


def _as_row_invalid(error: InvalidSpec) -> RowInvalid:
    field = error.field or ""
    return RowInvalid((FieldError(field, str(error).removeprefix(f"{field}: ")),))


@functools.cache
def _list_adapter(model: type[MongoModel]) -> TypeAdapter[list[Any]] | None:
    """A validator and serializer of lists of `model`, or None when the model changes how it is
    validated or dumped (then rows go one by one through its own methods)."""
    own = (
        getattr(model.model_validate, "__func__", None) is BaseModel.model_validate.__func__  # type: ignore[attr-defined]
        and model.model_dump is BaseModel.model_dump
        and model.to_document is MongoModel.to_document
    )
    if not own:
        return None
    try:
        return TypeAdapter(list[model])  # type: ignore[valid-type]
    except Exception:
        return None


_PLAIN = frozenset({bool, type(None), ObjectId})
_FLAT = frozenset({str, int, float, bool, type(None), ObjectId})  # values that nest nothing
_MILLISECOND = 1000  # microseconds
_MADE_UTC = methodcaller("replace", tzinfo=dt.UTC)
_NAIVE_OR_UTC = frozenset({id(None), id(dt.UTC)})  # a datetime's tzinfo, by identity


def _stored_batch(dumped: list[dict[str, Any]], fixed_fields: bool) -> list[dict[str, Any] | RowInvalid]:
    """`_stored_or_row_invalid` of each dumped document, checked column by column: a column of
    plain values that are all storable (ASCII text, int64 integers, finite floats, naive or UTC
    datetimes) is cleared in a few calls for the whole batch; only the rows holding any other
    value go through `_stored_or_row_invalid` one by one. `fixed_fields`: every document has
    the same fields (the model allows no extra ones). A document over 16 MiB is refused
    (`refuse_too_large`), the batch's size bound summed column by column on the way."""
    if not dumped:
        return []
    names = dumped[0].keys()
    same = fixed_fields or all(map(names.__eq__, map(dict.keys, dumped)))
    if not same or not all(name.isascii() for name in names):
        return refuse_too_large([_stored_or_row_invalid(document) for document in dumped])
    unsure: set[int] = set()
    datetimes: list[str] = []
    bound = 5 * len(dumped)
    for name in names:
        column = list(map(itemgetter(name), dumped))
        kinds = set(map(type, column))
        bound += (2 + len(name)) * len(column) + _column_bound(column, kinds)
        if not kinds <= _PLAIN:
            unsure.update(_unsure_rows(column, kinds))
        if dt.datetime in kinds:
            datetimes.append(name)
    if not unsure:
        datetimes = [name for name in datetimes if not _naive_milliseconds_made_utc(dumped, name)]
    results: list[dict[str, Any] | RowInvalid] = []
    for position, document in enumerate(dumped):
        if position in unsure:
            results.append(_stored_or_row_invalid(document))
            continue
        for name in datetimes:
            value = document[name]
            if type(value) is dt.datetime:
                document[name] = value.replace(tzinfo=dt.UTC, microsecond=value.microsecond // 1000 * 1000)
        results.append(document)
    return results if bound <= MAX_DOCUMENT_BYTES else refuse_too_large(results)


def _naive_milliseconds_made_utc(dumped: list[dict[str, Any]], name: str) -> bool:
    """Make UTC the column `name` when it holds only naive datetimes to the millisecond (the
    usual ones), in one pass; False, changing nothing, when it holds anything else."""
    column = list(map(itemgetter(name), dumped))
    if set(map(type, column)) != {dt.datetime} or set(map(attrgetter("tzinfo"), column)) != {None}:
        return False
    if any(map(_MILLISECOND.__rmod__, map(attrgetter("microsecond"), column))):
        return False
    for document, value in zip(dumped, map(_MADE_UTC, column), strict=True):
        document[name] = value
    return True


def _unsure_rows(column: list[Any], kinds: set[type]) -> list[int]:
    """The rows whose value in `column` may not be stored as it is (see `_stored_batch`)."""
    unplain = kinds - _PLAIN
    if len(unplain) == 1:
        kind = unplain.pop()
        values = column if len(kinds) == 1 else [value for value in column if type(value) is kind]
        if _all_storable_as_is(kind, values):
            return []
    return [position for position, value in enumerate(column) if _unsure(value)]


def _all_storable_as_is(kind: type, values: list[Any]) -> bool:
    """Whether `values`, all of type `kind`, are stored as they are (datetimes: once made UTC)."""
    if kind is str:
        return "".join(values).isascii()
    if kind is int:
        return bool(min(values) >= INT64_MIN and max(values) <= INT64_MAX)
    if kind is float:
        return all(map(math.isfinite, values))
    if kind is dt.datetime:
        return set(map(id, map(attrgetter("tzinfo"), values))) <= _NAIVE_OR_UTC
    return False


def _unsure(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return not value.isascii()
    if kind is int:
        return not INT64_MIN <= value <= INT64_MAX
    if kind is float:
        return not math.isfinite(value)
    if kind is dt.datetime:
        return id(value.tzinfo) not in _NAIVE_OR_UTC
    return kind not in _PLAIN


def _stored_or_row_invalid(dumped: dict[str, Any]) -> dict[str, Any] | RowInvalid:
    """`to_storage` of a dumped document, checked storable: `to_document`'s result, with the
    common values (plain ones, naive or UTC datetimes) normalised and checked in one pass;
    anything else has `check_storable` look at the whole document."""
    try:
        unsure = False
        for key, value in dumped.items():
            kind = type(value)
            if not key.isascii():
                unsure = True
            if kind is str:
                unsure = unsure or not value.isascii()
            elif kind is int:
                unsure = unsure or not INT64_MIN <= value <= INT64_MAX
            elif kind is float:
                unsure = unsure or not math.isfinite(value)
            elif kind in _PLAIN:
                continue
            elif kind is dt.datetime and (value.tzinfo is None or value.tzinfo is dt.UTC):
                dumped[key] = value.replace(tzinfo=dt.UTC, microsecond=value.microsecond // 1000 * 1000)
            else:
                dumped[key], unsure = to_storage(value, key), True
        if unsure:
            check_storable(dumped)
    except InvalidSpec as error:
        return _as_row_invalid(error)
    return dumped


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
    if _size_bound(document) > MAX_DOCUMENT_BYTES:
        check_size(document)
    return document


# Sizes: a cheap upper bound of a document's BSON size first (a batch's total, column by column,
# then each row's), and `bson.encode` only for a document whose bound passes the limit.
_BSON_OPTIONS: CodecOptions[Any] = CodecOptions(tz_aware=True, uuid_representation=UuidRepresentation.STANDARD)
_FIXED_SIZE = frozenset(
    {bool, type(None), int, float, ObjectId, dt.datetime, dt.date, bson.Int64, Decimal128, Timestamp}
)
_FIXED_OR_TEXT = _FIXED_SIZE | {str}
_MOST_BYTES = 16  # of a value of a `_FIXED_SIZE` type (a Decimal128), or a UUID's binary
_UNKNOWN = MAX_DOCUMENT_BYTES + 1  # a value whose size is not bounded here: the document is encoded


def check_size(document: dict[str, Any]) -> None:
    """Raise `DocumentTooLarge` when `document` (stored form) is over MongoDB's 16 MiB as BSON; a
    document the driver cannot encode is left to its write to report."""
    try:
        size = len(bson.encode(document, codec_options=_BSON_OPTIONS))
    except (bson.errors.InvalidDocument, OverflowError, ValueError, TypeError):
        return
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(size)


def refuse_too_large(results: list[Any]) -> list[Any]:
    """`results` (documents and `RowInvalid`s) with each document over 16 MiB as its
    `DocumentTooLarge`; only a document whose size bound passes the limit is encoded."""
    return [_sized(result) if type(result) is dict else result for result in results]


def _sized(document: dict[str, Any]) -> dict[str, Any] | RowInvalid:
    if _size_bound(document) <= MAX_DOCUMENT_BYTES:
        return document
    try:
        check_size(document)
    except DocumentTooLarge as error:
        return error
    return document


def _column_bound(column: list[Any], kinds: set[type]) -> int:
    """An upper bound of the BSON size of a column's values (`kinds`: their types)."""
    if kinds <= _FIXED_SIZE:
        return _MOST_BYTES * len(column)
    if kinds == {str}:
        return 5 * len(column) + 4 * sum(map(len, column))
    if kinds <= _FIXED_OR_TEXT:  # text or nothing (an optional text field), say
        return _MOST_BYTES * len(column) + 4 * sum(len(value) for value in column if type(value) is str)
    return sum(map(_size_bound, column))


def _size_bound(value: Any) -> int:
    """An upper bound of `value`'s BSON size as a field's value (UTF-8 takes at most 4 bytes a
    character); values of a validated document are nested 100 levels at most."""
    kind = type(value)
    if kind in _FIXED_SIZE:
        return _MOST_BYTES
    if kind is str:
        return 5 + 4 * len(value)
    if kind is dict or isinstance(value, Mapping):
        return 5 + sum(2 + 4 * len(str(key)) + _size_bound(item) for key, item in value.items())
    if kind is list or kind is tuple:
        return 5 + sum(12 + _size_bound(item) for item in value)  # a key: up to 10 digits, type, NUL
    if isinstance(value, bytes):  # bytes, bson.Binary
        return 6 + len(value)
    if kind is uuid.UUID:
        return 5 + _MOST_BYTES
    if isinstance(value, enum.Enum):
        return _size_bound(value.value)
    if isinstance(value, set | frozenset):
        return _size_bound(list(value))
    return _UNKNOWN


def field_errors(error: PydanticValidationError) -> tuple[FieldError, ...]:
    """pydantic's errors as (dotted field, message) pairs; `_id` is reported as `id`."""
    found = []
    for detail in error.errors():
        path = ".".join(str(part) for part in detail["loc"])
        if detail["type"] == NOT_TEXT and detail["ctx"]["path"]:  # a value inside the field
            path = f"{path}.{detail['ctx']['path']}" if path else detail["ctx"]["path"]
        found.append(FieldError("id" if path == "_id" else path, readable(detail)))
    return tuple(found)
