"""Upserts by key: match rows to existing documents with one `$in` read per batch, then insert
new ones and write changed ones by `_id`, counting created / updated / unchanged exactly."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne

from bulkadmin.bulk.key_values import canonical_key, read_parts
from bulkadmin.bulk.plans import DUPLICATE_KEY, Cut, Find, Plan, Prepared, Steps
from bulkadmin.bulk.results import RowOutcome
from bulkadmin.bulk.validation import RowInvalid, validate_document, validate_partial
from bulkadmin.bulk.would_be import WouldBe
from bulkadmin.core.documents import MongoModel, get_path, stored_key, to_storage, unflatten
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.safety import coerce_value

UPSERT_MODES = ("merge", "replace", "delete")


@dataclass(frozen=True)
class Pending:
    """A validated upsert row waiting for its key to be resolved."""

    index: int
    document: dict[str, Any]
    key: str  # `canonical_key` of its key's values: equal for keys MongoDB holds equal


class UpsertPlan(Plan):
    """Match rows to existing documents by key with one `$in` read per batch, then insert new
    ones and write changed ones by `_id`, counting created / updated / unchanged exactly."""

    operation = "upsert"

    def __init__(
        self,
        model: type[MongoModel],
        *,
        key_fields: tuple[str, ...],
        mode: str = "merge",
        on_pre_images: Callable[[list[dict[str, Any]]], None] | None = None,
        would_be: WouldBe | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, **options)
        if mode not in UPSERT_MODES:
            raise InvalidSpec(f"mode must be one of {', '.join(UPSERT_MODES)}, got {mode!r}.", field="mode")
        if not key_fields:
            raise InvalidSpec(f"{model.__name__} declares no key_fields; pass key_fields=.", field="key_fields")
        self.keys = tuple(stored_key(model, name) for name in key_fields)
        self.mode = mode
        self.on_pre_images = on_pre_images
        # A dry run's would-be writes by key (None: deleted), which later rows see as a real run's
        # writes; shared by the plans of one session's batches, and closed with the session.
        self.would_be = WouldBe() if would_be is None else would_be

    def batch(self, prepared: list[Prepared]) -> Steps:
        accepted, cut = self._accepted(prepared)
        groups = list(split_on_duplicate_keys(row for _, row in accepted))
        for number, group in enumerate(groups):
            yield from self._upsert(group, retry=True)
            if self.stopped:
                self.tally.add("skipped", sum(len(rest) for rest in groups[number + 1 :]))
                break
        self._conclude(cut)

    def prepare_row(self, index: int, item: Any) -> Pending:
        validate = validate_document if self.mode == "replace" else validate_partial
        document = validate(self.model, item)
        missing = [key for key in self.keys if key not in document]
        if missing:
            raise InvalidSpec(f"key field {missing[0]!r} is missing.", field=missing[0])
        return Pending(index, document, self._key(document))

    def _key(self, document: dict[str, Any]) -> str:
        return canonical_key([to_storage(document.get(key)) for key in self.keys])

    def _key_values(self, row: Pending) -> list[Any]:
        return [row.document[key] for key in self.keys]

    def _key_filter(self, rows: list[Pending]) -> dict[str, Any]:
        if len(self.keys) == 1:
            return {self.keys[0]: {"$in": [row.document[self.keys[0]] for row in rows]}}
        return {"$or": [{key: row.document[key] for key in self.keys} for row in rows]}

    def _found(self, group: list[Pending]) -> Generator[Find, Any, dict[str, Any]]:
        """The stored documents of `group`'s keys by key: one read, or one per part of at most
        `READ_BYTES` of key values (no query may pass the server's 16 MiB)."""
        current: dict[str, Any] = {}
        for part in read_parts(group, self._key_values):
            existing = yield Find(self._key_filter(part))
            current.update((self._key(document), document) for document in existing)
        return current

    def _upsert(self, group: list[Pending], *, retry: bool) -> Steps:
        current = yield from self._found(group)
        if self.dry_run:
            current = self._as_if_written(group, current)
        requests, op_rows, pre_images, unchanged = [], [], [], []
        kinds: list[RowOutcome] = []
        cut = None
        for position, row in enumerate(group):
            try:
                kind, request, row = self._request_for(row, current.get(row.key))
            except (RowInvalid, InvalidSpec) as error:
                if self.ordered:
                    cut = Cut(row.index, error, len(group) - position - 1)
                    break
                self.tally.reject(row.index, error)
                continue
            if kind == RowOutcome.UNCHANGED:
                unchanged.append(row.index)
                continue
            if kind != RowOutcome.CREATED:
                pre_images.append(current[row.key])
            requests.append(request)
            op_rows.append(row)
            kinds.append(kind)
        if pre_images and self.on_pre_images and not self.dry_run:
            self.on_pre_images(pre_images)
        if self.dry_run or not requests:
            self._count(kinds, op_rows, not_done=set())
            if self.dry_run:
                self._remember(kinds, op_rows, current)
        else:
            outcome = yield from self._write(requests)
            yield from self._settle(outcome, op_rows, kinds, retry)
        self._count_unchanged(unchanged)
        self._conclude(cut)

    def _as_if_written(self, group: list[Pending], found: dict[str, Any]) -> dict[str, Any]:
        """The documents of `group`'s keys as a real run would find them, after this dry run's
        earlier rows (`found` is what the collection holds)."""
        current = dict(found)
        for key, document in self.would_be.get([row.key for row in group]).items():
            if document is None:
                current.pop(key, None)
            else:
                current[key] = document
        return current

    def _remember(self, kinds: list[RowOutcome], op_rows: list[Pending], current: dict[str, Any]) -> None:
        """Keep what each written row of a dry run would leave under its key."""
        leaves: dict[str, dict[str, Any] | None] = {}
        for kind, row in zip(kinds, op_rows, strict=True):
            if kind == RowOutcome.DELETED:
                leaves[row.key] = None
            elif kind == RowOutcome.CREATED:
                leaves[row.key] = {"_id": ObjectId(), **to_storage(row.document)}
            else:
                leaves[row.key] = self._updated(to_storage(current[row.key]), row.document)
        self.would_be.put(leaves)

    def _updated(self, stored: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
        if self.mode == "replace":
            return {**to_storage(document), "_id": stored["_id"]}
        return _with_changes(stored, merge_changes(self.model, stored, document))

    def _count_unchanged(self, indexes: list[int]) -> None:
        """Unchanged rows count as such, except after the failed write that stopped an ordered run."""
        after_stop = sum(1 for index in indexes if self.stopped and index > self.stopped_at)
        self.tally.add("unchanged", len(indexes) - after_stop)
        self.tally.add("skipped", after_stop)

    def _settle(self, outcome: dict[str, Any], op_rows: list[Pending], kinds: list[RowOutcome], retry: bool) -> Steps:
        """Count a write's outcome; re-run rows whose insert lost a race for their key."""
        errors = outcome.get("writeErrors", [])
        new = RowOutcome.CREATED
        raced = {e["index"] for e in errors if e.get("code") == DUPLICATE_KEY and kinds[e["index"]] == new}
        if retry and raced:
            first = min(raced)
            again = raced | (set(range(first + 1, len(op_rows))) if self.ordered else set())
            outcome = {**outcome, "writeErrors": [e for e in errors if e["index"] not in again]}
            self._count(kinds, op_rows, not_done=self._written_rows(outcome, op_rows) | again)
            yield from self._upsert([op_rows[i] for i in sorted(again)], retry=False)
            return
        self._count(kinds, op_rows, not_done=self._written_rows(outcome, op_rows))

    def _written_rows(self, outcome: dict[str, Any], op_rows: list[Pending]) -> set[int]:
        return self._written(outcome, [row.index for row in op_rows])

    def _count(self, kinds: list[RowOutcome], op_rows: list[Pending], not_done: set[int]) -> None:
        for position, kind in enumerate(kinds):
            if position in not_done:
                continue
            self.tally.add(kind)
            if kind == RowOutcome.CREATED and not self.dry_run:
                self.tally.add("inserted")
                self.tally.upserted_ids[op_rows[position].index] = op_rows[position].document["_id"]

    def _request_for(self, row: Pending, current: dict[str, Any] | None) -> tuple[RowOutcome, Any, Pending]:
        """What to do with a row: (its `RowOutcome`, the request, the row);
        a created row comes back with its whole validated document."""
        if self.mode == "delete":
            if current is None:
                return RowOutcome.UNCHANGED, None, row
            return RowOutcome.DELETED, DeleteOne({"_id": current["_id"]}), row
        if current is None:
            if self.mode == "merge":
                row = Pending(row.index, validate_document(self.model, unflatten(row.document)), row.key)
            return RowOutcome.CREATED, InsertOne(row.document), row
        stored = to_storage(current)
        if self.mode == "replace":
            document = {**row.document, "_id": current["_id"]}
            if document == stored:
                return RowOutcome.UNCHANGED, None, row
            return RowOutcome.UPDATED, ReplaceOne({"_id": current["_id"]}, document), row
        changes = merge_changes(self.model, stored, row.document)
        if not changes:
            return RowOutcome.UNCHANGED, None, row
        return RowOutcome.UPDATED, UpdateOne({"_id": current["_id"]}, {"$set": changes}), row


_MISSING = object()


def merge_changes(model: type[MongoModel], stored: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
    """The `$set` merging a partial document (sub-fields as dotted paths) into a stored one: only
    changed values; sub-fields whose parent is not stored as an object set the whole parent,
    validated with its model's defaults (MongoDB cannot set a field inside a null)."""
    changes: dict[str, Any] = {}
    orphans: dict[str, dict[str, Any]] = {}
    for path, value in partial.items():
        parent = _missing_parent(stored, path)
        if parent:
            orphans.setdefault(parent, {})[path[len(parent) + 1 :]] = value
        elif path != "_id" and get_path(stored, path, _MISSING) != value:
            changes[path] = value
    for parent, values in orphans.items():
        changes[parent] = coerce_value(model, parent, unflatten(values))
    return changes


def _with_changes(stored: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`stored` after `{"$set": changes}` (dotted paths into sub-documents)."""
    document = copy.deepcopy(stored)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        target[last] = to_storage(value)
    return document


def _missing_parent(stored: dict[str, Any], path: str) -> str:
    """The first ancestor of a dotted path that is not an object in `stored`, or ''."""
    parts = path.split(".")
    for end in range(1, len(parts)):
        prefix = ".".join(parts[:end])
        if not isinstance(get_path(stored, prefix), dict):
            return prefix
    return ""


def split_on_duplicate_keys(rows: Iterable[Pending]) -> Iterable[list[Pending]]:
    """Cut a batch wherever a key repeats, so a later row sees the earlier row's write."""
    group: list[Pending] = []
    seen: set[str] = set()
    for row in rows:
        if row.key in seen:
            yield group
            group, seen = [], set()
        group.append(row)
        seen.add(row.key)
    if group:
        yield group
