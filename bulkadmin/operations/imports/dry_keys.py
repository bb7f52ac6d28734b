"""What a real insert's unique indexes would refuse, found by an insert-mode dry run without
writing anything: keys already stored (one read per batch and unique key, `$in` on its values;
none while the collection is empty, as before a first import) and keys repeated in the file (a
16-byte digest of each key taken, kept in the process by a `SpillingKeySet`, which moves to a
temporary SQLite file past a bound: memory stays flat whatever the file's size, and nothing is
written to the server). A batch without any duplicate, the usual one, is settled with set
operations on its digests, not row by row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterable
from decimal import Decimal
from operator import methodcaller
from typing import Any, cast

from bson.decimal128 import Decimal128
from pymongo.database import Database

from bulkadmin.core.documents import MongoModel, get_path
from bulkadmin.core.registry import index_models
from bulkadmin.operations.imports.key_set import SpillingKeySet

Key = tuple[Any, ...]
RECHECK_EMPTY = 1.0  # seconds: how long a collection found empty is taken to stay empty


class DuplicateKeys:
    """The unique keys of one import's collection (the model's key, unique indexes, and `_id`
    for rows that give their own: `placeholder` is the `_id` of those that do not), the ones
    seen so far in the file, and the stored ones."""

    def __init__(self, model: type[MongoModel], db: Database, *, placeholder: Any) -> None:
        self.collection, self.placeholder = db[model.collection], placeholder
        self.keys: list[tuple[str, ...]] = [
            tuple(index.document["key"]) for index in index_models(model) if index.document.get("unique")
        ]
        self.keys.append(("_id",))
        self.names = [", ".join("id" if path == "_id" else path for path in paths) for paths in self.keys]
        self.seen = SpillingKeySet()
        self.holds_documents = False  # whether the collection was found to hold any document
        self._empty_at: float | None = None  # when it was last found empty

    def check(self, documents: list[dict[str, Any]]) -> list[str | None]:
        """For each stored-form document in file order: why a real insert would refuse it as a
        duplicate, or None (its keys are then taken, as the real insert would take them)."""
        columns = [self._column(paths, documents) for paths in self.keys]
        claims = [_claims(number, column) for number, column in enumerate(columns)]
        stored = self._stored(columns, claims)
        given = [claim for column in claims for claim in column if claim is not None]
        distinct = set(given)
        earlier = self.seen.found(distinct)
        if not stored and not earlier and len(distinct) == len(given):  # no duplicate: the usual batch
            self.seen.add(distinct)
            return [None] * len(documents)
        problems: list[str | None] = []
        taken: list[bytes] = []
        for row in zip(*claims, strict=True):
            problem = self._problem(row, stored, earlier)
            if problem is None:
                fresh = [claim for claim in row if claim is not None]
                earlier.update(fresh)
                taken.extend(fresh)
            problems.append(problem)
        self.seen.add(taken)
        return problems

    def close(self) -> None:
        """Forget the file's keys (and delete the file they spilled to)."""
        self.seen.close()

    def _problem(self, claims: tuple[bytes | None, ...], stored: set[bytes], earlier: set[bytes]) -> str | None:
        for number, claim in enumerate(claims):
            if claim is None:
                continue
            if claim in stored:
                return f"duplicate key ({self.names[number]}): already in the collection"
            if claim in earlier:
                return f"duplicate key ({self.names[number]}): earlier in the file"
        return None

    def _stored(self, columns: list[list[Key | None]], claims: list[list[bytes | None]]) -> set[bytes]:
        """The batch's claims that stored documents hold: one read per unique key the batch
        gives values for, `$in` on its values (for a compound key, `$in` on each field's values,
        a superset of which only the documents matching a whole key are kept)."""
        stored: set[bytes] = set()
        if not self._holds_documents():
            return stored
        for number, paths in enumerate(self.keys):
            wanted = {claim: key for claim, key in zip(claims[number], columns[number], strict=True) if key is not None}
            if not wanted:
                continue
            if len(paths) == 1:
                query = {paths[0]: {"$in": [key[0] for key in wanted.values()]}}
            else:
                query = {path: {"$in": _distinct(key[n] for key in wanted.values())} for n, path in enumerate(paths)}
            for document in self.collection.find(query, {path: 1 for path in paths}):
                claim = _claim(number, _values(document, paths))
                if claim in wanted:
                    stored.add(claim)
        return stored

    def _holds_documents(self) -> bool:
        """Whether the collection holds any document: until it does (a dry run before a first
        import), a read of one `_id` at most every `RECHECK_EMPTY` seconds stands for the reads
        of the batches' keys."""
        if self.holds_documents:
            return True
        now = time.monotonic()
        if self._empty_at is None or now - self._empty_at >= RECHECK_EMPTY:
            self.holds_documents = self.collection.find_one({}, {"_id": 1}) is not None
            self._empty_at = now
        return self.holds_documents

    def _column(self, paths: tuple[str, ...], documents: list[dict[str, Any]]) -> list[Key | None]:
        """Each document's value of the key; None for the `_id` of a row that gave none."""
        if paths == ("_id",):
            given = list(map(_get_id, documents))
            placeholder = self.placeholder
            if given.count(placeholder) == len(given):  # no row gave its own
                return [None] * len(given)
            return [None if value is placeholder or value == placeholder else (value,) for value in given]
        if len(paths) == 1 and "." not in paths[0]:
            return list(zip(map(methodcaller("get", paths[0]), documents)))
        return [_values(document, paths) for document in documents]


_get_id = methodcaller("get", "_id")


def _values(document: dict[str, Any], paths: tuple[str, ...]) -> Key:
    """The document's values at `paths`, None where missing (a unique index holds it as null)."""
    return tuple(get_path(document, path) if "." in path else document.get(path) for path in paths)


def _claims(number: int, column: list[Key | None]) -> list[bytes | None]:
    """`_claim` of each key of unique key `number` (None stays None); a column of one-field text
    keys, the usual one, in one pass."""
    if set(map(type, column)) == {tuple}:
        keys = cast(list[Key], column)
        values = [key[0] for key in keys] if set(map(len, keys)) == {1} else []
        if values and set(map(type, values)) == {str}:
            prefix, blake2b = f"{number}:", hashlib.blake2b
            return [
                blake2b((prefix + value).encode("utf-8", "surrogatepass"), digest_size=16).digest() for value in values
            ]
    return [None if key is None else _claim(number, key) for key in column]


def _claim(number: int, key: Key) -> bytes:
    """16 bytes standing for the value `key` of unique key `number`: the same for values a
    unique index holds equal. (A one-field text key, the usual one, skips `repr`.)"""
    if len(key) == 1 and type(key[0]) is str:
        text = f"{number}:{key[0]}"
    else:
        text = f"{number}={tuple(map(_canonical, key))!r}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _distinct(values: Iterable[Any]) -> list[Any]:
    """`values` without repeats (as MongoDB compares them)."""
    return list({repr(_canonical(value)): value for value in values}.values())


def _canonical(value: Any) -> Any:
    """`value` in a form whose `repr` is equal for values MongoDB compares equal: numbers by
    value (1 is 1.0 but not true), datetimes as naive UTC, documents field by field in order."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is bool:
        return ("bool", value)
    if isinstance(value, int):
        return int(value)
    if kind is float:
        return int(value) if value.is_integer() else value
    if isinstance(value, Decimal128):
        number = value.to_decimal()
        return _canonical(float(number)) if number.is_finite() and Decimal(float(number)) == number else value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, dict):
        return ("document", *((name, _canonical(item)) for name, item in value.items()))
    if isinstance(value, list):
        return ("array", *map(_canonical, value))
    return value
