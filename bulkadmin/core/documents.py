"""`MongoModel`: a pydantic v2 model bound to a MongoDB collection.

`id` is stored as `_id`; every other field is stored under its alias (its name by default).
Field paths written with model names are translated to stored keys by `storage_path`.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from operator import methodcaller
from typing import Annotated, Any, ClassVar, get_args, get_origin

from bson import Code, Int64, ObjectId
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from bulkadmin.core.exceptions import ImproperlyDeclared, InvalidSpec


def _to_object_id(value: Any) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and ObjectId.is_valid(value):
        return ObjectId(value)
    raise ValueError(f"{value!r} is not a valid ObjectId (24 hex characters)")


PyObjectId = Annotated[
    ObjectId,
    PlainValidator(_to_object_id),
    PlainSerializer(str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-f]{24}$"}),
]


@dataclass(frozen=True)
class Index:
    """An index declared on a collection model; `keys` are model field names."""

    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    name: str | None = None
    expire_after_seconds: int | None = None


class MongoModel(BaseModel):
    """Base class of collection models. Subclasses set `collection`; optionally `key_fields`
    (the natural key imports and syncs match on, backed by a unique index) and `indexes`.
    What the admin shows and allows is the collection's `CollectionAdmin`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)

    collection: ClassVar[str] = ""
    key_fields: ClassVar[tuple[str, ...]] = ()
    indexes: ClassVar[tuple[Index, ...]] = ()

    id: PyObjectId = Field(default_factory=ObjectId, alias="_id")

    @model_validator(mode="before")
    @classmethod
    def _refuse_non_text(cls, data: Any) -> Any:
        """Binary data or JavaScript code given to a text field (at any depth of it) is refused:
        pydantic's lax `str` would store bytes as text and code as a plain string. One call per
        document; a document of plain values (a CSV row) is cleared in one set operation."""
        if type(data) is not dict or _STORED_AS_IS.issuperset(map(type, data.values())):
            return data
        problem = not_text(cls, data)
        if problem is not None:
            path, message = problem
            raise PydanticCustomError(NOT_TEXT, "{message}", {"message": message, "path": path})
        return data

    def to_document(self) -> dict[str, Any]:
        """The document as stored: stored keys, BSON-ready values, `_id` included."""
        document: dict[str, Any] = to_storage(self.model_dump(by_alias=True))
        return document

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> MongoModel:
        """Build a model instance from a stored document."""
        return cls.model_validate(document)


NOT_TEXT = "not_text"  # the type of pydantic's error for binary data or code given to a text field


def not_text(annotation: Any, value: Any, path: str = "") -> tuple[str, str] | None:
    """Where (a dotted path inside `value`, '' for the value itself) and why `value` holds binary
    data or JavaScript code in a place `annotation` types as text (str, and not bytes); None when
    it holds none."""
    kind = type(value)
    if kind in _STORED_AS_IS:
        return None
    annotation = unwrap_annotated(annotation)
    if isinstance(value, bytes | Code):
        if not _takes_text(annotation):
            return None
        return path, "a JavaScript code value, not text" if kind is Code else "binary data, not text"
    model = _as_model(annotation) if isinstance(value, Mapping) else None
    if model is not None:
        for key, item in value.items():
            info = model.model_fields.get(key) or _field_by_alias(model, key)
            found = not_text(info.annotation, item, _join(path, key)) if info is not None else None
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        items = _item_type(annotation)
        for position, item in enumerate(value if items is not None else ()):
            found = not_text(items, item, _join(path, position))
            if found is not None:
                return found
    return None


def _takes_text(annotation: Any) -> bool:
    """Whether `annotation` takes text and not bytes (`str`, `int | str`, `str | None`)."""
    options = {unwrap_annotated(arg) for arg in get_args(annotation)} if get_args(annotation) else {annotation}
    return str in options and bytes not in options


def _item_type(annotation: Any) -> Any | None:
    """The items' type of a list or tuple annotation (in a union too), or None."""
    for option in (annotation, *get_args(annotation)):
        option = unwrap_annotated(option)
        if get_origin(option) in (list, tuple, set, frozenset) and get_args(option):
            return get_args(option)[0]
    return None


def check_declaration(model: type[MongoModel]) -> None:
    """Raise `ImproperlyDeclared` when the model's collection, keys or indexes are wrong."""
    if not model.collection:
        raise ImproperlyDeclared(f"{model.__name__} must set `collection`.")
    for name in model.key_fields:
        if name not in model.model_fields:
            raise ImproperlyDeclared(f"{model.__name__}.key_fields names unknown field {name!r}.")
    for index in model.indexes:
        for name, _ in index.keys:
            storage_path(model, name)


def stored_key(model: type[MongoModel], name: str) -> str:
    """The stored key of a top-level model field (`id` -> `_id`)."""
    info = model.model_fields.get(name)
    if info is not None:
        return info.alias or name
    if _field_by_alias(model, name) is not None:
        return name
    raise InvalidSpec(f"Unknown field {name!r} for {model.__name__}.", field=name)


def storage_path(model: type[MongoModel], path: str) -> str:
    """Translate a dotted model path (`id`, `profile.bio`) into the stored key path.

    Raises `InvalidSpec` naming the field when the path is not part of the model.
    """
    head, _, rest = path.partition(".")
    key = stored_key(model, head)
    if rest:
        _check_nested(model, head, rest, path)
    return f"{key}.{rest}" if rest else key


def field_annotation(model: type[MongoModel], path: str) -> Any | None:
    """The type annotation at a dotted model path, or None when it is free-form (dict / Any)."""
    annotation: Any = model
    info: FieldInfo | None = None
    for part in path.split("."):
        sub_model = _as_model(annotation)
        if sub_model is None:
            return None
        info = sub_model.model_fields.get(part) or _field_by_alias(sub_model, part)
        if info is None:
            return None
        annotation = info.annotation
    # Keep the field's constraints (ge, pattern, ...) and validators with its type.
    if info is None or not info.metadata:
        return annotation if info is not None else None
    return Annotated[(annotation, *info.metadata)]


def flatten_sub_documents(model: type[MongoModel], data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Spell the sub-documents of model-typed fields as dotted paths (`{"profile": {"bio": x}}` ->
    `{"profile.bio": x}`), so a merge sets only the sub-fields it is given."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and _as_model(field_annotation(model, path)) is not None:
            flat.update(flatten_sub_documents(model, value, f"{path}."))
        else:
            flat[path] = value
    return flat


def unflatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of dotted paths: `{"a.b": 1}` -> `{"a": {"b": 1}}`."""
    nested: dict[str, Any] = {}
    for path, value in data.items():
        *parents, last = path.split(".")
        target = nested
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return nested


def get_path(document: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted path of a document, or `default` when a part is missing."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def _check_nested(model: type[MongoModel], head: str, rest: str, path: str) -> None:
    info = model.model_fields.get(head) or _field_by_alias(model, head)
    sub_model = _as_model(info.annotation) if info else None
    if sub_model is None:
        return
    for part in rest.split("."):
        nested = sub_model.model_fields.get(part) or _field_by_alias(sub_model, part)
        if nested is None:
            raise InvalidSpec(f"Unknown field {path!r} for {model.__name__}.", field=path)
        sub_model = _as_model(nested.annotation)
        if sub_model is None:
            return


def _field_by_alias(model: type[BaseModel], alias: str) -> FieldInfo | None:
    for info in model.model_fields.values():
        if info.alias == alias:
            return info
    return None


def _as_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `annotation` (`Profile`, `Profile | None`), if any."""
    annotation = unwrap_annotated(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def unwrap_annotated(annotation: Any) -> Any:
    """The bare type of `Annotated[T, ...]`; other annotations unchanged."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


_STORED_AS_IS = frozenset({str, int, float, bool, type(None), ObjectId})


def to_storage(value: Any, path: str = "") -> Any:
    """Normalise a value to what MongoDB stores and returns: UTC datetimes with millisecond
    precision, dates as midnight datetimes, enums as their values, tuples and sets as lists.

    A datetime that leaves the calendar when converted to UTC (`9999-12-31T23:59:59-14:00`)
    raises `InvalidSpec` naming its `path` within the value."""
    if type(value) in _STORED_AS_IS:
        return value
    if isinstance(value, BaseModel):
        return to_storage(value.model_dump(by_alias=True), path)
    if isinstance(value, dict):  # plain values are kept without a call: most of a row is plain
        return {
            key: item if type(item) in _STORED_AS_IS else to_storage(item, _join(path, key))
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [
            item if type(item) in _STORED_AS_IS else to_storage(item, _join(path, position))
            for position, item in enumerate(value)
        ]
    if isinstance(value, dt.datetime):
        return _utc_milliseconds(value, path)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def holds_int64(value: Any) -> bool:
    """Whether `value` is or holds a `bson.Int64` (a walk that only reads)."""
    if type(value) is Int64:
        return True
    if not _is_container(value):
        return False
    pending = [value]
    while pending:
        container = pending.pop()
        for item in container.values() if isinstance(container, Mapping) else container:
            if type(item) is Int64:
                return True
            if _is_container(item):
                pending.append(item)
    return False


def _is_container(value: Any) -> bool:
    kind = type(value)
    return kind is dict or kind is list or kind is tuple or isinstance(value, Mapping)


def keep_int64(annotation: Any, source: Any, stored: Any) -> Any:
    """`stored` (`source` validated against `annotation`, a model or a field's type, in stored
    form) with each plain int that came in as an Int64 of the same value an Int64 again: pydantic
    turns an Int64 into an int, which pymongo writes as a 32-bit integer when it fits, where
    MongoDB's own tools keep a `$numberLong` 64-bit."""
    return _restore_int64(annotation, source, stored) if holds_int64(source) else stored


def keep_int64_rows(model: type[BaseModel], rows: list[Any], stored: list[Any]) -> list[Any]:
    """`keep_int64` of each row and its stored document (a row's error left as it is). Only the
    fields whose type holds an int are looked at: a batch without an Int64 or a container in them
    (rows read from a CSV file) is cleared at once."""
    keys = _int_keys(model)
    if not keys:
        return stored
    if set(map(type, rows)) == {dict}:
        kinds = set(chain.from_iterable(map(type, map(methodcaller("get", key), rows)) for key in keys))
        if kinds.isdisjoint((Int64, dict, list, tuple)):
            return stored
    return [
        keep_int64(model, row, document) if isinstance(document, dict) else document
        for row, document in zip(rows, stored, strict=True)
    ]


@functools.cache
def _int_keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys (names and aliases) of `model`'s fields whose type holds an int somewhere."""
    keys: list[str] = []
    for name, info in model.model_fields.items():
        if _holds_int_type(info.annotation, set()):
            keys += [name, info.alias] if info.alias and info.alias != name else [name]
    return tuple(keys)


def _holds_int_type(annotation: Any, seen: set[type[BaseModel]]) -> bool:
    annotation = unwrap_annotated(annotation)
    if annotation is int:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        return any(_holds_int_type(info.annotation, seen) for info in annotation.model_fields.values())
    return any(_holds_int_type(arg, seen) for arg in get_args(annotation))


def _restore_int64(annotation: Any, source: Any, stored: Any) -> Any:
    if type(source) is Int64:
        return Int64(stored) if type(stored) is int and stored == source else stored
    if isinstance(source, Mapping) and isinstance(stored, dict):
        model = _as_model(annotation)
        for key, item in source.items():
            stored_key, item_annotation = _stored_place(model, key)
            if stored_key in stored:
                stored[stored_key] = _restore_int64(item_annotation, item, stored[stored_key])
    elif isinstance(source, list | tuple) and isinstance(stored, list) and len(source) == len(stored):
        return [_restore_int64(annotation, item, value) for item, value in zip(source, stored, strict=True)]
    return stored


def _stored_place(model: type[BaseModel] | None, key: str) -> tuple[str, Any]:
    """The stored key of `key` (a field's name or alias) and the field's annotation, if any."""
    info = (model.model_fields.get(key) or _field_by_alias(model, key)) if model else None
    if info is None:
        return key, None
    return info.alias or key, info.annotation


def _utc_milliseconds(value: dt.datetime, path: str) -> dt.datetime:
    try:
        aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except OverflowError:
        where = f"{path}: " if path else ""
        raise InvalidSpec(
            f"{where}{value.isoformat()} is outside the dates MongoDB stores (years 1-9999 in UTC).", field=path or None
        ) from None
    return aware.replace(microsecond=aware.microsecond // 1000 * 1000)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
