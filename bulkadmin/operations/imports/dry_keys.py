"""What a real insert's unique indexes would refuse, found by an insert-mode dry run without
writing anything: keys already stored (one read per batch and unique key, `$in` on its values;
none while the collection is empty, as before a first import) and keys repeated in the file
(each key taken is kept in a `FileKeySet`, a temporary SQLite file whose memory stays flat
whatever the file's size; nothing is written to the server). A key is kept as its text when it
is one text field, the usual one, else as a 16-byte digest of its canonical form. A batch
without any duplicate, the usual one, is settled with set operations, not row by row.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from itertools import repeat
from operator import is_, methodcaller
from typing import Any, cast

from pymongo.database import Database

from bulkadmin.bulk.key_values import TEXT_KEY_CHARS, canonical, canonical_key, read_parts
from bulkadmin.core.documents import MongoModel, get_path
from bulkadmin.core.registry import index_models
from bulkadmin.operations.imports.key_set import FileKeySet

Key = tuple[Any, ...]
Claim = str | bytes  # what stands for a key: its text, or a digest
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
        self.seen = FileKeySet()
        self.holds_documents = False  # whether the collection was found to hold any document
        self._empty_at: float | None = None  # when it was last found empty

    def check(self, documents: list[dict[str, Any]]) -> list[str | None]:
        """For each stored-form document in file order: why a real insert would refuse it as a
        duplicate, or None (its keys are then taken, as the real insert would take them)."""
        columns = [self._column(paths, documents) for paths in self.keys]
        claims = [_claims(column) for column in columns]
        stored = self._stored(columns, claims)
        given = [[claim for claim in column if claim is not None] for column in claims]
        distinct = [set(column) for column in given]
        new = [self.seen.add_new(kind, keys) if keys else set() for kind, keys in enumerate(distinct)]
        earlier = [keys - added for keys, added in zip(distinct, new, strict=True)]
        repeated = any(len(keys) != len(column) for keys, column in zip(distinct, given, strict=True))
        if not any(stored) and not any(earlier) and not repeated:  # no duplicate: the usual batch
            return [None] * len(documents)
        problems: list[str | None] = []
        taken: list[set[Claim]] = [set() for _ in self.keys]
        for row in zip(*claims, strict=True):
            problem = self._problem(row, stored, earlier)
            if problem is None:
                for kind, claim in enumerate(row):
                    if claim is not None:
                        earlier[kind].add(claim)
                        taken[kind].add(claim)
            problems.append(problem)
        for kind, added in enumerate(new):
            self.seen.discard(kind, added - taken[kind])  # keys of rows refused are not taken
        return problems

    def close(self) -> None:
        """Forget the file's keys (and delete the file they are kept in)."""
        self.seen.close()

    def _problem(
        self, claims: tuple[Claim | None, ...], stored: list[set[Claim]], earlier: list[set[Claim]]
    ) -> str | None:
        for kind, claim in enumerate(claims):
            if claim is None:
                continue
            if claim in stored[kind]:
                return f"duplicate key ({self.names[kind]}): already in the collection"
            if claim in earlier[kind]:
                return f"duplicate key ({self.names[kind]}): earlier in the file"
        return None

    def _stored(self, columns: list[list[Key | None]], claims: list[list[Claim | None]]) -> list[set[Claim]]:
        """The batch's claims that stored documents hold: one read per unique key the batch
        gives values for, `$in` on its values (for a compound key, `$in` on each field's values,
        a superset of which only the documents matching a whole key are kept)."""
        stored: list[set[Claim]] = [set() for _ in self.keys]
        if not self._holds_documents():
            return stored
        for number, paths in enumerate(self.keys):
            wanted = {claim: key for claim, key in zip(claims[number], columns[number], strict=True) if key is not None}
            for part in read_parts(list(wanted.values()), lambda key: key):
                for document in self.collection.find(_query(paths, part), {path: 1 for path in paths}):
                    claim = _claim(_values(document, paths))
                    if claim in wanted:
                        stored[number].add(claim)
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
            placeholder = self.placeholder  # the very object: a row may give an id equal to it
            if all(map(is_, given, repeat(placeholder))):  # no row gave its own
                return [None] * len(given)
            return [None if value is placeholder else (value,) for value in given]
        if len(paths) == 1 and "." not in paths[0]:
            return list(zip(map(methodcaller("get", paths[0]), documents)))
        return [_values(document, paths) for document in documents]


_get_id = methodcaller("get", "_id")


def _query(paths: tuple[str, ...], keys: list[Key]) -> dict[str, Any]:
    """The documents holding any of `keys` (for a compound key, a superset: `$in` per field)."""
    if len(paths) == 1:
        return {paths[0]: {"$in": [key[0] for key in keys]}}
    return {path: {"$in": _distinct(key[n] for key in keys)} for n, path in enumerate(paths)}


def _values(document: dict[str, Any], paths: tuple[str, ...]) -> Key:
    """The document's values at `paths`, None where missing (a unique index holds it as null)."""
    return tuple(get_path(document, path) if "." in path else document.get(path) for path in paths)


def _claims(column: list[Key | None]) -> list[Claim | None]:
    """`_claim` of each key of a unique key (None stays None); a column of one-field text keys,
    the usual one, in one pass."""
    if set(map(type, column)) == {tuple}:
        keys = cast(list[Key], column)
        values = [key[0] for key in keys] if set(map(len, keys)) == {1} else []
        if values and set(map(type, values)) == {str} and max(map(len, values)) <= TEXT_KEY_CHARS:
            joined = "".join(values)
            if joined.isascii() or not _LONE_SURROGATE.search(joined):
                return cast(list[Claim | None], values)
    return [None if key is None else _claim(key) for key in column]


def _claim(key: Key) -> Claim:
    """What stands for the value `key` of a unique key, the same for values a unique index holds
    equal: the text of a one-field text key (short, and that SQLite can hold), else 16 bytes
    digesting its canonical form."""
    if len(key) == 1 and type(key[0]) is str and len(key[0]) <= TEXT_KEY_CHARS and not _LONE_SURROGATE.search(key[0]):
        return key[0]
    text = canonical_key(key)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # text SQLite cannot hold (not UTF-8)


def _distinct(values: Iterable[Any]) -> list[Any]:
    """`values` without repeats (as MongoDB compares them)."""
    return list({repr(canonical(value)): value for value in values}.values())
