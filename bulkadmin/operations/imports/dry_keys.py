"""What a real insert's unique indexes would refuse, found by an insert-mode dry run without
writing to the collection: keys already in the collection (one read per batch and unique key,
`$in` on the key's values) and keys repeated in the file. The keys of earlier batches are kept
in a scratch collection (`bulkadmin_dry_run_keys_<n>`, one read and one insert per batch,
dropped at the end, expiring after a day if a run dies), so memory stays flat.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from bulkadmin.core.documents import MongoModel, get_path
from bulkadmin.core.registry import index_models

Key = tuple[Any, ...]
SCRATCH_PREFIX = "bulkadmin_dry_run_keys_"
SCRATCH_SECONDS = 86_400


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
        self.scratch = db[f"{SCRATCH_PREFIX}{ObjectId()}"]
        self.scratch.create_index("at", expireAfterSeconds=SCRATCH_SECONDS)

    def check(self, documents: list[dict[str, Any]]) -> list[str | None]:
        """For each stored-form document in file order: why a real insert would refuse it as a
        duplicate, or None (its keys are then taken, as the real insert would take them)."""
        stored = [self._stored(paths, documents) for paths in self.keys]
        claims = [
            [self._claim(number, document, paths) for number, paths in enumerate(self.keys)] for document in documents
        ]
        wanted = [claim for row in claims for claim in row if claim is not None]
        earlier = {found["_id"] for found in self.scratch.find({"_id": {"$in": wanted}}, {"_id": 1})}
        problems: list[str | None] = []
        taken: list[str] = []
        for document, row in zip(documents, claims, strict=True):
            problem = self._problem(document, row, stored, earlier)
            if problem is None:
                fresh = [claim for claim in row if claim is not None]
                earlier.update(fresh)
                taken.extend(fresh)
            problems.append(problem)
        if taken:
            now = dt.datetime.now(dt.UTC)
            self.scratch.insert_many([{"_id": claim, "at": now} for claim in taken], ordered=False)
        return problems

    def close(self) -> None:
        """Drop the scratch collection."""
        self.scratch.drop()

    def _problem(
        self, document: dict[str, Any], claims: list[str | None], stored: list[set[Key]], earlier: set[str]
    ) -> str | None:
        for paths, claim, in_db in zip(self.keys, claims, stored, strict=True):
            if claim is None:
                continue
            named = ", ".join("id" if path == "_id" else path for path in paths)
            if _key(document, paths) in in_db:
                return f"duplicate key ({named}): already in the collection"
            if claim in earlier:
                return f"duplicate key ({named}): earlier in the file"
        return None

    def _claim(self, number: int, document: dict[str, Any], paths: tuple[str, ...]) -> str | None:
        """The scratch `_id` standing for the document's value of key `number`, or None."""
        value = self._key(document, paths)
        if value is None:
            return None
        return f"{number}:{hashlib.sha256(repr(value).encode()).hexdigest()}"

    def _stored(self, paths: tuple[str, ...], documents: list[dict[str, Any]]) -> set[Key]:
        """The batch's values of the key `paths` that are already stored (one read)."""
        documents = [document for document in documents if self._key(document, paths) is not None]
        if not documents:
            return set()
        if len(paths) == 1:
            values = [get_path(document, paths[0]) for document in documents]
            query: dict[str, Any] = {paths[0]: {"$in": values}}
        else:
            query = {"$or": [{path: get_path(document, path) for path in paths} for document in documents]}
        projection = {path: 1 for path in paths}
        return {_key(found, paths) for found in self.collection.find(query, projection)}

    def _key(self, document: dict[str, Any], paths: tuple[str, ...]) -> Key | None:
        """The document's value of the key, or None for the `_id` of a row that gave none."""
        if paths == ("_id",) and document.get("_id") == self.placeholder:
            return None
        return _key(document, paths)


def _key(document: dict[str, Any], paths: tuple[str, ...]) -> Key:
    return tuple(_hashable(get_path(document, path)) for path in paths)


def _hashable(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return value
