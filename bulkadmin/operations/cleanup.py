"""Cleanup rules and the cleanup operation.

A rule names a collection model, a filter written with model field names (relative dates such
as `ago(days=30)` are resolved when the rule runs, in UTC) and an action: `delete`, an
allow-listed `update`, or `archive` (copy into `<collection>_archive`, then delete). Matching
`_id`s are read from one cursor with a projection, a batch at a time, and each batch is written
by `_id`, so every server call stays short and memory stays flat however many documents match.
Rules run in declared order; a failing rule is reported and the others still run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from bulkadmin.bulk import (
    BulkResult,
    RowError,
    WriteConcernError,
    bulk_delete,
    bulk_update,
    bulk_upsert,
    raise_failed_rows,
)
from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import AlreadyRegistered, BulkAdminError, ImproperlyDeclared
from bulkadmin.core.mongo import get_db
from bulkadmin.core.safety import translate_filter, translate_update
from bulkadmin.core.streams import matching_batches
from bulkadmin.operations.post_images import results, split_valid
from bulkadmin.operations.progress import Cancelled, Progress
from bulkadmin.operations.results import CleanupCounts, OperationResult, from_bulk

ACTIONS = ("delete", "update", "archive")
ARCHIVE_SUFFIX = "_archive"


class UnknownRule(BulkAdminError):
    """A cleanup rule name is not declared; `.valid_names` lists the declared ones."""

    def __init__(self, name: str, valid_names: list[str]) -> None:
        self.name = name
        self.valid_names = valid_names
        super().__init__(f"Unknown cleanup rule {name!r}. Declared rules: {', '.join(valid_names) or 'none'}.")


@dataclass(frozen=True)
class Ago:
    """A moment relative to when the rule runs: `ago(days=30)` is `now - 30 days` (UTC)."""

    delta: dt.timedelta

    def resolve(self, now: dt.datetime) -> dt.datetime:
        return now - self.delta

    def __str__(self) -> str:
        days = self.delta.total_seconds() / 86400
        return "now" if not days else f"now - {days:g} days"


def ago(*, days: float = 0, hours: float = 0) -> Ago:
    """A relative date for rule filters and updates; `ago()` is the run's own time."""
    return Ago(dt.timedelta(days=days, hours=hours))


@dataclass(frozen=True)
class Rule:
    """One cleanup rule. `update` (model field names) is required for, and only for, `update`."""

    name: str
    model: type[MongoModel]
    filter: Mapping[str, Any]
    action: str = "delete"
    update: Mapping[str, Any] | None = None
    description: str = ""

    @property
    def collection(self) -> str:
        return self.model.collection

    def query(self, now: dt.datetime) -> dict[str, Any]:
        """The checked filter with stored keys, its relative dates resolved at `now`."""
        return translate_filter(self.model, resolve_dates(self.filter, now))

    def update_spec(self, now: dt.datetime) -> dict[str, Any]:
        """The update in model field names with relative dates resolved (checked by the bulk service)."""
        return resolve_dates(self.update or {}, now)

    def describe(self) -> str:
        """`filter -> action` in one line, for `--list`."""
        action = f"update {format_spec(self.update)}" if self.action == "update" else self.action
        if self.action == "archive":
            action = f"archive into {self.collection}{ARCHIVE_SUFFIX}"
        return f"{self.collection} where {format_spec(self.filter)} -> {action}"


def resolve_dates(value: Any, now: dt.datetime) -> Any:
    """`value` with every `Ago` replaced by the datetime it stands for at `now`."""
    if isinstance(value, Ago):
        return value.resolve(now)
    if isinstance(value, Mapping):
        return {key: resolve_dates(item, now) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve_dates(item, now) for item in value]
    return value


def format_spec(value: Any) -> str:
    """A filter or update as readable text, relative dates shown as `now - N days`."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {format_spec(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_spec(item) for item in value) + "]"
    return str(value) if isinstance(value, Ago) else repr(value)


class CleanupRegistry:
    """The declared cleanup rules, in declaration order (the order they run in)."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> Rule:
        """Check and add `rule`; raises `ImproperlyDeclared` or `AlreadyRegistered`."""
        check_rule(rule)
        if rule.name in self._rules and self._rules[rule.name] != rule:
            raise AlreadyRegistered(f"Cleanup rule {rule.name!r} is already declared.")
        self._rules[rule.name] = rule
        return rule

    def get(self, name: str) -> Rule:
        try:
            return self._rules[name]
        except KeyError:
            raise UnknownRule(name, self.names()) from None

    def select(self, names: Iterable[str] | None = None) -> list[Rule]:
        """The named rules (all when `names` is empty), always in declared order."""
        wanted = {self.get(name).name for name in names or ()}
        return [rule for rule in self if not wanted or rule.name in wanted]

    def names(self) -> list[str]:
        return list(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(list(self._rules.values()))


def check_rule(rule: Rule) -> None:
    """Raise `ImproperlyDeclared` when a rule's action, filter or update is wrong."""
    where = f"Cleanup rule {rule.name!r}"
    if not rule.name:
        raise ImproperlyDeclared("A cleanup rule needs a name.")
    if rule.action not in ACTIONS:
        raise ImproperlyDeclared(f"{where}: action must be one of {', '.join(ACTIONS)}, not {rule.action!r}.")
    if (rule.action == "update") != (rule.update is not None):
        raise ImproperlyDeclared(f"{where}: `update` is required for, and only for, the update action.")
    now = dt.datetime.now(dt.UTC)
    try:
        rule.query(now)
        if rule.update is not None:
            translate_update(rule.model, rule.update_spec(now))
    except BulkAdminError as error:
        raise ImproperlyDeclared(f"{where}: {error}") from error


rules = CleanupRegistry()
register_rule = rules.register


@dataclass(frozen=True)
class RuleResult:
    """What one rule did (or, in a dry run, would touch), and the server's write-concern errors."""

    rule: str
    collection: str
    action: str
    matched: int = 0
    deleted: int = 0
    modified: int = 0
    archived: int = 0
    seconds: float = 0.0
    error: str = ""
    write_concern_errors: tuple[WriteConcernError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.error


def cleanup_result(
    results: tuple[RuleResult, ...], *, dry_run: bool, elapsed: float, now: dt.datetime
) -> OperationResult[CleanupCounts]:
    """A cleanup run's result: each failed rule is one error; an archived document counts as
    deleted (and archived). Details: `rules` (one `RuleResult` each, in the order they ran),
    `totals` per action, `failed_rules`, `now`."""
    names = ("matched", "deleted", "modified", "archived")
    totals = {name: sum(getattr(result, name) for result in results) for name in names}
    errors = tuple(
        RowError(index, f"{result.rule}: {result.error}", code=0, kind="write", field=result.rule)
        for index, result in enumerate(results)
        if not result.ok
    )
    bulk = BulkResult(
        operation="cleanup",
        rows=totals["matched"],
        matched=totals["matched"],
        modified=totals["modified"],
        deleted=totals["deleted"] + totals["archived"],
        errors=errors,
        write_concern_errors=tuple(error for result in results for error in result.write_concern_errors),
        elapsed=elapsed,
        dry_run=dry_run,
    )
    details = {
        "now": now,
        "rules": results,
        "totals": totals,
        "failed_rules": [result.rule for result in results if not result.ok],
    }
    result = from_bulk(bulk, target=", ".join(sorted({r.collection for r in results}))[:200], details=details)
    return result.with_counts(CleanupCounts(**result.counts, archived=totals["archived"]))


def run_cleanup(
    *,
    rules: Iterable[Rule],
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    db: Database | None = None,
) -> OperationResult[CleanupCounts]:
    """Run `rules` in order, their relative dates resolved at `now` (default: the current time,
    UTC); a dry run counts the documents each rule would touch and writes nothing."""
    if batch_size < 1:
        raise ImproperlyDeclared(f"batch_size must be a positive integer, got {batch_size!r}.")
    now = now or dt.datetime.now(dt.UTC)
    db = db if db is not None else get_db()
    started = time.perf_counter()
    counter = _Counter(progress)
    results = [_run_rule(rule, dry_run, batch_size, counter, now, db) for rule in rules]
    return cleanup_result(tuple(results), dry_run=dry_run, elapsed=time.perf_counter() - started, now=now)


@dataclass
class _Counter:
    """Documents processed so far across rules, reported after each batch."""

    progress: Progress | None
    done: int = 0

    def add(self, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, None)


def _run_rule(
    rule: Rule, dry_run: bool, batch_size: int, counter: _Counter, now: dt.datetime, db: Database
) -> RuleResult:
    started = time.perf_counter()
    base = RuleResult(rule.name, rule.collection, rule.action)
    try:
        query = rule.query(now)
        if dry_run:
            counts = {"matched": db[rule.collection].count_documents(query)}
        else:
            fields = () if rule.action == "delete" else None  # whole documents to check or archive
            batches = matching_batches(db[rule.collection], query, batch_size, fields=fields)
            counts = _apply(rule, batches, counter, now, db)
    except Cancelled:
        raise
    except (BulkAdminError, PyMongoError) as error:
        return _replace(base, error=str(error) or repr(error), seconds=time.perf_counter() - started)
    return _replace(base, seconds=time.perf_counter() - started, **counts)


def _replace(result: RuleResult, **changes: Any) -> RuleResult:
    return RuleResult(**{**vars(result), **changes})


def _apply(
    rule: Rule, batches: Iterator[list[dict[str, Any]]], counter: _Counter, now: dt.datetime, db: Database
) -> dict[str, Any]:
    counts: dict[str, Any] = {"matched": 0, "deleted": 0, "modified": 0, "archived": 0}
    kept, first_problem = 0, ""
    concerns: list[WriteConcernError] = []
    for batch in batches:
        counts["matched"] += len(batch)
        if rule.action == "delete":
            removed = delete_ids(rule.model, [document["_id"] for document in batch], db=db)
            counts["deleted"] += removed.deleted
            concerns.extend(removed.write_concern_errors)
        elif rule.action == "update":
            written, invalid = update_valid(rule, batch, now=now, db=db)
            counts["modified"] += written.modified
            concerns.extend(written.write_concern_errors)
            kept, first_problem = kept + len(invalid), first_problem or (invalid[0] if invalid else "")
        else:
            archived, failed, concerned = archive_documents(rule.model, batch, now=now, db=db)
            counts["archived"] += archived
            concerns.extend(concerned)
            kept, first_problem = kept + len(failed), first_problem or (failed[0] if failed else "")
        counter.add(len(batch))
    counts["write_concern_errors"] = tuple(concerns)
    if kept:
        what = "would become invalid and were not updated" if rule.action == "update" else "could not be archived"
        counts["error"] = f"{kept} document(s) {what} and were kept; first: {first_problem}"
    return counts


def update_valid(
    rule: Rule, documents: list[dict[str, Any]], *, now: dt.datetime, db: Database
) -> tuple[BulkResult, list[str]]:
    """Apply the rule's update to the documents (as just read) it leaves valid (each result is
    validated with the model first); return the write's result and the documents refused, by
    `_id` and field."""
    update = rule.update_spec(now)
    stored_update = translate_update(rule.model, update)
    after = results(documents, stored_update, now=now, codec_options=db.codec_options)
    valid, invalid = split_valid(rule.model, documents, after, stored_update)
    written = BulkResult(operation="update")
    if valid:
        spec = {"filter": {"id": {"$in": [document["_id"] for document in valid]}}, "update": update}
        written = raise_failed_rows(bulk_update(rule.model, [spec], raise_on_error=False, db=db))
    return written, [problem.describe() for problem in invalid]


def delete_ids(model: type[MongoModel], ids: list[Any], *, db: Database) -> BulkResult:
    """Delete the documents with these `_id`s; the result counts them and keeps the server's
    write-concern errors."""
    return raise_failed_rows(bulk_delete(model, [{"filter": {"id": {"$in": ids}}}], raise_on_error=False, db=db))


_archive_models: dict[type[MongoModel], type[MongoModel]] = {}


def archive_model(model: type[MongoModel]) -> type[MongoModel]:
    """The model of `<collection>_archive`: the same fields and indexes, no natural key."""
    if model not in _archive_models:
        namespace = {"collection": model.collection + ARCHIVE_SUFFIX, "key_fields": (), "__module__": __name__}
        _archive_models[model] = type(f"{model.__name__}Archive", (model,), namespace)
    return _archive_models[model]


def copy_to_archive(
    model: type[MongoModel], documents: list[dict[str, Any]], *, now: dt.datetime, db: Database
) -> tuple[list[Any], list[str], BulkResult]:
    """Copy the documents (as just read) into the archive (replace by `_id`, so a copy made
    before a crash is overwritten, never duplicated). Return the copied `_id`s, problems and
    the write's result."""
    stamp = {name: value for name, value in (("archived", True), ("archived_at", now)) if name in model.model_fields}
    result = bulk_upsert(
        archive_model(model),
        [{**document, **stamp} for document in documents],
        key_fields=("id",),
        mode="replace",
        ordered=False,
        raise_on_error=False,
        db=db,
    )
    failed = {error.index for error in result.errors}
    copied = [document["_id"] for index, document in enumerate(documents) if index not in failed]
    problems = [f"_id {documents[error.index]['_id']}: {error.message}" for error in result.errors]
    return copied, problems, result


def archive_documents(
    model: type[MongoModel], documents: list[dict[str, Any]], *, now: dt.datetime, db: Database
) -> tuple[int, list[str], tuple[WriteConcernError, ...]]:
    """Move documents into the archive: copy, then delete the copied ones by `_id`. Return how
    many moved, the problems and the server's write-concern errors."""
    copied, problems, copy = copy_to_archive(model, documents, now=now, db=db)
    removed = delete_ids(model, copied, db=db) if copied else BulkResult(operation="delete")
    return removed.deleted, problems, copy.write_concern_errors + removed.write_concern_errors
