"""One document at a time: add, save (replace) or delete a single document, never over a change
made since it was loaded, with undo data as a bulk job keeps it.

A save or delete is given the document as the user loaded it. The stored document is read
again and compared by fingerprint (a digest of its canonical Extended JSON): when it changed,
the write is refused with what changed (`StaleDocument`). The write itself is conditional: its
filter holds the `_id` and the loaded document's plain values (text, numbers, booleans, dates,
nulls, every list's length) and the model fields it did not have, so a change that lands
between the check and the write is refused too, on both servers (the embedded server answers
those conditions from the row, never by scanning). Before the write, the pre-image is kept in
`bulkadmin_undo` as a per-document record (undo restores it, or deletes an added document, and
leaves it alone when it changed since).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bson import ObjectId, decode, encode, json_util
from bson.json_util import CANONICAL_JSON_OPTIONS, RELAXED_JSON_OPTIONS
from pydantic import ValidationError
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from bulkadmin.core.documents import MongoModel, stored_key
from bulkadmin.core.exceptions import BulkAdminError, InvalidSpec
from bulkadmin.core.mongo import get_db
from bulkadmin.core.storable import check_storable
from bulkadmin.operations import document_jobs, undo
from bulkadmin.operations.results import EditCounts, OperationResult

ADD, SAVE, DELETE = "add", "save", "delete"
COUNT_OF = {ADD: "inserted", SAVE: "updated", DELETE: "deleted"}
MISSING = "(missing)"  # how an absent field is shown in a change
DELETED = "(deleted)"  # what a document deleted since it was loaded is now, in its change
MAX_SHOWN = 300  # characters of a value kept in a change (the job's parameters)
MAX_CONDITIONS = 200  # values a conditional write's filter compares
_SCALARS = (str, bool, int, float, dt.datetime)


@dataclass(frozen=True)
class Change:
    """One top-level field whose stored value differs: before and after as relaxed Extended
    JSON text (`MISSING` for an absent field)."""

    field: str
    before: str
    after: str

    def describe(self) -> str:
        return f"{self.field}: {self.before} → {self.after}"

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "before": self.before, "after": self.after}


class StaleDocument(BulkAdminError):
    """The document changed (or was deleted) since it was loaded; nothing was written.
    `.doc_id` names it and `.changes` say what changed (loaded → now)."""

    def __init__(self, doc_id: Any, changes: tuple[Change, ...]) -> None:
        self.doc_id = doc_id
        self.changes = changes
        told = "; ".join(change.describe() for change in changes[:5]) or "it was replaced"
        super().__init__(f"Document {doc_id} changed since it was loaded ({told}); nothing was written.")


def fingerprint(document: Mapping[str, Any] | None) -> str:
    """A digest of a stored document's canonical Extended JSON (types and key order count, as
    for MongoDB: `5` and `5.0` differ, so do `{a, b}` and `{b, a}`); '' for a missing document."""
    if document is None:
        return ""
    text = json_util.dumps(document, json_options=CANONICAL_JSON_OPTIONS)
    return hashlib.sha256(text.encode()).hexdigest()


def shown(value: Any) -> str:
    """A stored value as short relaxed Extended JSON text."""
    text = json_util.dumps(value, json_options=RELAXED_JSON_OPTIONS, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[Change, ...]:
    """The top-level fields whose stored values differ between two documents (type included),
    in the first document's order, then the fields only the second has."""
    old, new = before or {}, after or {}
    found = []
    for key in [*old, *(key for key in new if key not in old)]:
        if key not in new or key not in old or fingerprint({"v": old[key]}) != fingerprint({"v": new[key]}):
            found.append(
                Change(key, shown(old[key]) if key in old else MISSING, shown(new[key]) if key in new else MISSING)
            )
    return tuple(found)


def add_document(
    *, model: type[MongoModel], document: dict[str, Any], undo_key: int | None, db: Database | None = None
) -> OperationResult[EditCounts]:
    """Insert `document` (stored form, `_id` included) after validating it with the model; a
    duplicate key is an `InvalidSpec` naming the key field."""
    database, started = _db(db), time.perf_counter()
    validate(model, document)
    record = _keep_undo(database, undo_key, model.collection, document["_id"], None, document)
    try:
        database[model.collection].insert_one(document)
    except DuplicateKeyError as error:
        _forget(database, undo_key, record)
        raise _duplicate(model, error) from None
    return _result(ADD, model, document["_id"], changes(None, document), undo_key, started)


def save_document(
    *,
    model: type[MongoModel],
    loaded: dict[str, Any],
    document: dict[str, Any],
    undo_key: int | None,
    db: Database | None = None,
) -> OperationResult[EditCounts]:
    """Replace the document `loaded` (as the user loaded it) with `document` (stored form, same
    `_id`), validated with the model; `StaleDocument` when it changed since it was loaded."""
    database, started = _db(db), time.perf_counter()
    if document.get("_id") != loaded.get("_id"):
        raise InvalidSpec("A document's id cannot be changed.", field="id")
    validate(model, document)
    current = _unchanged_since(database, model, loaded)
    found = changes(current, document)
    if not found:
        return _result(SAVE, model, current["_id"], (), None, started, written=False)
    record = _keep_undo(database, undo_key, model.collection, current["_id"], current, document)
    try:
        written = database[model.collection].replace_one(write_filter(model, current), document).matched_count
    except DuplicateKeyError as error:
        _forget(database, undo_key, record)
        raise _duplicate(model, error) from None
    if not written:
        _forget(database, undo_key, record)
        raise _changed_meanwhile(database, model, current)
    return _result(SAVE, model, current["_id"], found, undo_key, started)


def delete_document(
    *, model: type[MongoModel], loaded: dict[str, Any], undo_key: int | None, db: Database | None = None
) -> OperationResult[EditCounts]:
    """Delete the document `loaded` (as the user loaded it); `StaleDocument` when it changed since."""
    database, started = _db(db), time.perf_counter()
    current = _unchanged_since(database, model, loaded)
    record = _keep_undo(database, undo_key, model.collection, current["_id"], current, None)
    if not database[model.collection].delete_one(write_filter(model, current)).deleted_count:
        _forget(database, undo_key, record)
        raise _changed_meanwhile(database, model, current)
    return _result(DELETE, model, current["_id"], changes(current, None), undo_key, started)


def validate(model: type[MongoModel], document: Mapping[str, Any]) -> MongoModel:
    """The model instance of a stored-form document (its fields only: keys the model does not
    know are kept as stored); `InvalidSpec` names the first invalid field."""
    known = {key: value for key, value in document.items() if key in _stored_keys(model)}
    try:
        instance = model.from_document(known)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidSpec(f"{field}: {first['msg']}", field=field) from None
    check_storable(dict(document))
    return instance


def write_filter(model: type[MongoModel], document: Mapping[str, Any]) -> dict[str, Any]:
    """The filter of a write that must find `document` exactly as given: its `_id`, each plain
    value at its dotted path (a null as a null that exists, a list by its length and its plain
    items), `$exists: false` for the model's fields it does not have, and the number of keys of
    the document and of each sub-document (so a key added meanwhile, one the model does not
    know, is not wiped). Values the embedded server cannot compare from the row (ObjectIds
    outside `_id`, Decimal128, binary) are left to the fingerprint check made just before."""
    conditions: dict[str, Any] = {"_id": document["_id"]}
    for path, condition in _conditions(document, ""):
        if len(conditions) > MAX_CONDITIONS:
            break
        conditions[path] = condition
    for key in _stored_keys(model):
        if key not in document and len(conditions) <= MAX_CONDITIONS:
            conditions[key] = {"$exists": False}
    sizes = [{"$eq": [_key_count(field), count]} for field, count in list(_key_counts(document, "$$ROOT"))]
    conditions["$expr"] = {"$and": sizes[:MAX_CONDITIONS]}
    return conditions


def _key_count(field: str) -> dict[str, Any]:
    """The number of keys of the document at `field` (-1 when it is no longer a document)."""
    count = {"$size": {"$objectToArray": field}}
    return count if field == "$$ROOT" else {"$cond": [{"$eq": [{"$type": field}, "object"]}, count, -1]}


def _key_counts(document: Mapping[str, Any], field: str) -> Iterator[tuple[str, int]]:
    """The number of keys of a document and of each sub-document reachable by a dotted path."""
    yield field, len(document)
    prefix = "$" if field == "$$ROOT" else f"{field}."
    for key, value in document.items():
        if isinstance(value, Mapping) and _addressable(key):
            yield from _key_counts(value, f"{prefix}{key}")


def _conditions(document: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for key, value in document.items():
        if not _addressable(key) or (key == "_id" and not prefix):
            continue
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _conditions(value, f"{path}.") if value else [(path, {"$exists": True})]
        elif isinstance(value, list):
            yield path, _list_condition(value)
        elif value is None:
            yield path, {"$eq": None, "$exists": True}
        elif _plain(value):
            yield path, value


def _addressable(key: Any) -> bool:
    """Whether a key can be named in a dotted path (hostile keys with dots or `$` cannot)."""
    return isinstance(key, str) and bool(key) and "." not in key and not key.startswith("$")


def _list_condition(items: list[Any]) -> dict[str, Any]:
    plain = [item for item in items if _plain(item) and not isinstance(item, dt.datetime)]
    condition: dict[str, Any] = {"$size": len(items)}
    if plain:
        condition["$all"] = list(dict.fromkeys(plain))
    return condition


def _plain(value: Any) -> bool:
    """Text, a boolean, a whole number, a finite float or a date: compared from the row on both servers."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, _SCALARS)


def _unchanged_since(database: Database, model: type[MongoModel], loaded: Mapping[str, Any]) -> dict[str, Any]:
    """The stored document, when it is still the one `loaded`; else `StaleDocument`."""
    current = database[model.collection].find_one({"_id": loaded["_id"]})
    if current is None or fingerprint(current) != fingerprint(loaded):
        raise StaleDocument(loaded["_id"], changes(loaded, current) if current is not None else _deleted(loaded))
    return current


def _changed_meanwhile(database: Database, model: type[MongoModel], current: Mapping[str, Any]) -> StaleDocument:
    """The refusal of a conditional write that found nothing: the document changed after the check."""
    now = database[model.collection].find_one({"_id": current["_id"]})
    return StaleDocument(current["_id"], changes(current, now) if now is not None else _deleted(current))


def _deleted(loaded: Mapping[str, Any]) -> tuple[Change, ...]:
    return (Change("_id", shown(loaded["_id"]), DELETED),)


def _keep_undo(
    database: Database,
    job: int | None,
    target: str,
    doc_id: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> ObjectId | None:
    """Save the per-document undo record of a write about to happen: the pre-image (None: the
    write adds it) and the fingerprint undo will find after it (None: the write deletes it)."""
    if job is None:
        return None
    undo.prepare(database)
    stored_after = decode(encode(after), codec_options=database.codec_options) if after is not None else None
    record = {
        "_id": ObjectId(),
        "job": job,
        "target": target,
        "doc_id": doc_id,
        "before": before,
        "after": undo.fingerprint(stored_after),
        "created_at": dt.datetime.now(dt.UTC),
    }
    database[undo.UndoRecord.collection].insert_one(record)
    document_jobs.record(job=job, target=target, doc_ids=[doc_id], db=database)
    return record["_id"]


def _forget(database: Database, job: int | None, record: ObjectId | None) -> None:
    """Drop the undo data of a write that did not happen."""
    if job is not None and record is not None:
        database[undo.UndoRecord.collection].delete_one({"_id": record})
        document_jobs.discard(job, db=database)


def _duplicate(model: type[MongoModel], error: DuplicateKeyError) -> InvalidSpec:
    """A duplicate key as an error naming the key field (the first of the model's key fields
    the server's reply names, else the first key field)."""
    named = (error.details or {}).get("keyValue") or {}
    fields = [name for name in model.key_fields if stored_key(model, name) in named] or list(model.key_fields)
    field = fields[0] if fields else "id"
    value = named.get(stored_key(model, field)) if field != "id" else None
    what = f" {json.dumps(value, default=str)}" if value is not None else ""
    return InvalidSpec(f"Another document already has this {field}{what}.", field=field)


def _result(
    action: str,
    model: type[MongoModel],
    doc_id: Any,
    found: tuple[Change, ...],
    undo_key: int | None,
    started: float,
    *,
    written: bool = True,
) -> OperationResult[EditCounts]:
    counts = EditCounts(**{COUNT_OF[action] if written else "unchanged": 1})
    details = {
        "action": action,
        "doc_id": shown(doc_id),
        "changes": [change.as_json() for change in found],
        "undo_records": 1 if written and undo_key is not None else 0,
        "undo_available": written and undo_key is not None,
    }
    elapsed = time.perf_counter() - started
    return OperationResult(operation="edit", target=model.collection, counts=counts, details=details, elapsed=elapsed)


def _stored_keys(model: type[MongoModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _db(db: Database | None) -> Database:
    return db if db is not None else get_db()
