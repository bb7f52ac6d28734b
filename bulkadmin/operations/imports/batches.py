"""Writing one batch of an import through the run's `BulkWriter` session (an insert or upsert
session; in a dry-run insert, only the model's validation), with each refused row traced back to
its file row."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database

from bulkadmin.bulk import BulkWriter
from bulkadmin.bulk.plans import DUPLICATE_KEY
from bulkadmin.bulk.results import BulkResult, RowError, WriteConcernError
from bulkadmin.bulk.validation import RowInvalid, validate_document, validate_documents
from bulkadmin.core.documents import MongoModel, to_storage
from bulkadmin.operations.imports.dry_keys import DuplicateKeys
from bulkadmin.operations.imports.errors import row_error
from bulkadmin.operations.imports.readers import Record
from bulkadmin.operations.imports.state import RunIdentity
from bulkadmin.operations.imports.undo_data import ImportUndo

Failures = list[tuple[Record, RowError]]
WRITE_COUNTS = ("inserted", "updated", "unchanged", "deleted", "rejected", "failed")

_DUP_KEY = re.compile(r"dup key: \{(.*)\}", re.DOTALL)
_KEY_NAME = re.compile(r"(?:^|,)\s*([\w.$]+)\s*:")


class BatchWriter:
    """Writes batches for one run; used from the import's writer thread, one batch at a time."""

    def __init__(
        self,
        model: type[MongoModel],
        *,
        mode: str,
        keys: tuple[str, ...],
        dry_run: bool,
        ordered: bool,
        identity: RunIdentity,
        undo: ImportUndo | None,
        check_replayed: bool,
        db: Database,
        placeholder_id: Any = None,
    ) -> None:
        self.model, self.mode, self.keys, self.db = model, mode, keys, db
        self.dry_run, self.ordered, self.identity, self.undo = dry_run, ordered, identity, undo
        self.check_replayed = check_replayed
        self.placeholder_id = placeholder_id  # the `_id` a dry run gives rows that have none
        self.duplicate_keys: DuplicateKeys | None = None
        self.session: BulkWriter | None = None  # from `start`
        self.write_concern_errors: list[WriteConcernError] = []  # what the server said, batch after batch

    def start(self) -> None:
        """Open the run's write session; outside a dry run it creates the model's indexes (a key's
        unique index is what refuses duplicate keys), once for the run."""
        kind = "insert" if self.mode == "insert" else "upsert"
        mode = "replace" if self.mode == "upsert" else self.mode  # the bulk service's name: replace documents
        options: dict[str, Any] = {} if kind == "insert" else {"key_fields": self.keys, "mode": mode}
        if kind == "upsert" and self.undo is not None:
            options["on_pre_images"] = self.undo.on_pre_images
        self.session = BulkWriter(
            self.model,
            kind,
            db=self.db,
            ordered=self.ordered,
            dry_run=self.dry_run,
            indexes=not self.dry_run,
            **options,
        )

    @property
    def validates_first(self) -> bool:
        """Whether batches are `validate`d before they are written: in a dry-run insert."""
        return self.mode == "insert" and self.dry_run

    def write(
        self, docs: list[dict[str, Any]], owners: list[Record], validated: Validated | None = None
    ) -> tuple[dict[str, int], Failures]:
        """Write (or, in a dry run, check) one batch, `validated` already in a dry-run insert;
        return its counts and its bad rows."""
        counts = dict.fromkeys(WRITE_COUNTS, 0)
        if self.validates_first:
            return self._validate_only(validated or self.validate(docs, owners), counts)
        if self.check_replayed and docs:
            docs, owners, counts["inserted"] = self._skip_replayed(docs, owners)
        if not docs:
            return counts, []
        if self.mode == "insert":
            result = self._insert(docs)
            counts["inserted"] += result.inserted
        else:
            result = self._upsert(docs)
            counts["inserted"] += result.created
            counts["updated"] += result.updated
            counts["unchanged"] += result.unchanged
            counts["deleted"] += result.deleted
        self.write_concern_errors.extend(result.write_concern_errors)
        return counts, self._failures(result, owners)

    def _insert(self, docs: list[dict[str, Any]]) -> BulkResult:
        result = self._session().write(docs)
        if self.undo is not None:
            self.undo.after_insert(docs, result, ordered=self.ordered)
        return result

    def _upsert(self, docs: list[dict[str, Any]]) -> BulkResult:
        result = self._session().write(docs)
        if self.undo is not None:
            self.undo.after_upsert(result)
        return result

    def _session(self) -> BulkWriter:
        if self.session is None:
            raise RuntimeError("BatchWriter.start() opens the session before the first write.")
        return self.session

    def _failures(self, result: BulkResult, owners: list[Record]) -> Failures:
        failures, seen = [], set()
        for error in result.errors:
            if error.index in seen:
                continue
            seen.add(error.index)
            record = owners[error.index]
            traced = dataclasses.replace(error, index=record.number - 1, line=record.line, message=self._message(error))
            failures.append((record, traced))
        return failures

    def _message(self, error: RowError) -> str:
        """A write error in the dry run's words: a duplicate names its key, not the server's index."""
        if error.code == DUPLICATE_KEY:
            fields = ["id" if name == "_id" else name for name in duplicated_fields(error.message)]
            named = [name for name in fields if name in self.model.model_fields]
            keys = ", ".join(named or self.keys or self.model.key_fields) or "_id"
            return f"duplicate key ({keys}): already in the collection or earlier in the file"
        return error.message

    def validate(self, docs: list[dict[str, Any]], owners: list[Record]) -> Validated:
        """A dry-run insert's validation of one batch with the model, storability included, in
        one call for the batch (CPU work: run where the batch is prepared, while the previous
        one's keys are checked)."""
        validated = Validated()
        results = validate_documents(self.model, docs)
        if set(map(type, results)) == {dict}:  # every row valid, the usual batch: not looked at one by one
            validated.docs, validated.owners = results, owners  # type: ignore[assignment]
            return validated
        for checked, record in zip(results, owners, strict=True):
            if not isinstance(checked, RowInvalid):
                validated.docs.append(checked)
                validated.owners.append(record)
                continue
            found = checked.field_errors
            message = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in found)
            code = checked.code if checked.kind == "write" else None  # a document over 16 MiB fails
            validated.failures.append((record, row_error(record, message, found[0].field, code=code)))
            if self.ordered:
                break
        return validated

    def _validate_only(self, validated: Validated, counts: dict[str, int]) -> tuple[dict[str, int], Failures]:
        """A dry-run insert of a validated batch: the unique keys a real insert would refuse
        (already stored, or earlier in the file); nothing is written."""
        failures = validated.failures
        problems = self._duplicates(validated.docs) if validated.docs else []
        if problems.count(None) == len(problems):  # no duplicate key
            counts["inserted"] += len(problems)
            return counts, failures[:1] if self.ordered else failures
        for record, problem in zip(validated.owners, problems, strict=True):
            if problem is None:
                counts["inserted"] += 1
                continue
            failures.append((record, row_error(record, problem, code=DUPLICATE_KEY)))
            if self.ordered:
                break
        return counts, sorted(failures, key=lambda item: item[0].number)[: 1 if self.ordered else None]

    def take_keys(self, validated: Validated) -> None:
        """Take the keys of a dry-run insert's validated rows without counting them (those a
        resumed run counted before its resume point)."""
        if validated.docs:
            self._duplicates(validated.docs)

    def close(self) -> None:
        """End the write session; forget what the run kept aside (a dry run's keys of the file,
        and their file on disk)."""
        if self.session is not None:
            self.session.close()
        if self.duplicate_keys is not None:
            self.duplicate_keys.close()

    def _duplicates(self, documents: list[dict[str, Any]]) -> list[str | None]:
        if self.duplicate_keys is None:
            self.duplicate_keys = DuplicateKeys(self.model, self.db, placeholder=self.placeholder_id)
        return self.duplicate_keys.check(documents)

    def _skip_replayed(
        self, docs: list[dict[str, Any]], owners: list[Record]
    ) -> tuple[list[dict[str, Any]], list[Record], int]:
        """After a crash, rows this import inserted past its last checkpoint are already stored:
        they carry the `_id` derived from their row number, or the file's own `_id` with the
        same values, so count them instead of writing them again."""
        wanted = self._stored_forms(docs)
        found = self.db[self.model.collection].find({"_id": {"$in": list(wanted)}})
        replayed = {wanted[doc["_id"]][0] for doc in found if self._replayed(*wanted[doc["_id"]][1:], doc)}
        if not replayed:
            self.check_replayed = False  # the crash happened before this batch: nothing later was written
            return docs, owners, 0
        kept = [
            (doc, owner) for number, (doc, owner) in enumerate(zip(docs, owners, strict=True)) if number not in replayed
        ]
        return [doc for doc, _ in kept], [owner for _, owner in kept], len(docs) - len(kept)

    def _stored_forms(self, docs: list[dict[str, Any]]) -> dict[Any, tuple[int, dict[str, Any], dict[str, Any]]]:
        """By stored `_id`: each valid row's position, the row and its stored form."""
        forms = {}
        for number, doc in enumerate(docs):
            try:
                document = validate_document(self.model, doc)
            except RowInvalid:
                continue
            forms[document["_id"]] = (number, doc, document)
        return forms

    def _replayed(self, row: dict[str, Any], document: dict[str, Any], stored: dict[str, Any]) -> bool:
        """Whether `stored` is what this import wrote for `row`: the `_id` derived from its row
        number, or the file's own `_id` with every field the row gives equal to the stored one."""
        if self.identity.owns(stored["_id"]):
            return True
        given = [key for key in document if key in row or _named_in(self.model, key, row)]
        return all(to_storage(stored.get(key)) == document[key] for key in given)


@dataclass
class Validated:
    """A dry-run insert batch after validation: its valid rows' stored forms, the records they
    come from, and the rows refused (up to the first, when the import stops on errors)."""

    docs: list[dict[str, Any]] = field(default_factory=list)
    owners: list[Record] = field(default_factory=list)
    failures: Failures = field(default_factory=list)


def _named_in(model: type[MongoModel], key: str, row: dict[str, Any]) -> bool:
    """Whether `row` gives the field stored under `key` by its model name."""
    return any((info.alias or name) == key and name in row for name, info in model.model_fields.items())


def duplicated_fields(message: str) -> list[str]:
    """The fields of the key a duplicate-key error names (`... dup key: { email: "a@b" }`)."""
    found = _DUP_KEY.search(message)
    return _KEY_NAME.findall(found[1]) if found else []
