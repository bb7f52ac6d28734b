"""External sync sources and the sync operation.

A source reads records from a paged JSON API (`bulkadmin.operations.feeds`), maps the API's key to a key
field (`id` -> `external_id`) and its fields to model fields, and upserts them by key through
`bulk_upsert(mode="merge")`, stamping `last_sync`. Records that fail validation are counted and
reported, not fatal; an HTTP error or broken JSON part-way raises `SyncFailed` with the page.
Documents are only written by key or `_id`; `mark_missing` flags absent ones, never deletes.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database

from bulkadmin.bulk import BatchStat, RowError, WriteConcernError, bulk_update, bulk_upsert, raise_failed_rows
from bulkadmin.bulk.results import FieldError, Outcome
from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import AlreadyRegistered, BulkAdminError, ImproperlyDeclared, InvalidSpec
from bulkadmin.core.mongo import get_db
from bulkadmin.core.registry import site
from bulkadmin.core.safety import translate_filter
from bulkadmin.core.streams import matching_batches
from bulkadmin.operations.feeds import (
    REQUEST_DEADLINE,
    RUN_DEADLINE,
    Feed,
    FetchFailed,
    Pagination,
    RetryPolicy,
    Sleep,
    value_at,
)
from bulkadmin.operations.progress import Cancelled, Progress
from bulkadmin.operations.results import OperationResult, SyncCounts, concerned

SYNC_COUNTS = ("records", "created", "updated", "unchanged", "rejected", "marked_missing", "pages")


@dataclass(frozen=True)
class Source:
    """An external API feeding one collection. `fields` maps API fields (dotted paths allowed)
    to model fields; `scope` selects the documents that belong to the source (default: those
    with a key); `active_field` is set false on documents missing from a full feed."""

    name: str
    model: type[MongoModel]
    url_env: str
    fields: Mapping[str, str]
    default_url: str = ""
    records_path: str = ""
    key_field: str = "id"
    key_target: str = "external_id"
    pagination: Pagination = field(default_factory=Pagination)
    updated_since_param: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    auth_env: str | None = None
    auth_header: str = "Authorization"
    scope: Mapping[str, Any] | None = None
    active_field: str | None = "is_active"
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    description: str = ""

    @property
    def url(self) -> str:
        url = os.environ.get(self.url_env) or self.default_url
        if not url:
            raise ImproperlyDeclared(f"Sync source {self.name!r}: set the {self.url_env} environment variable.")
        return url

    def headers(self) -> dict[str, str]:
        """The auth header read from `auth_env`; a declared but unset variable is an error."""
        if not self.auth_env:
            return {}
        value = os.environ.get(self.auth_env)
        if not value:
            raise ImproperlyDeclared(f"Sync source {self.name!r}: set the {self.auth_env} environment variable.")
        return {self.auth_header: value}

    def owned_filter(self, **conditions: Any) -> dict[str, Any]:
        """The stored filter of documents belonging to this source (and `conditions`)."""
        return translate_filter(self.model, {**(self.scope or {self.key_target: {"$ne": None}}), **conditions})


def check_source(source: Source) -> None:
    """Raise `ImproperlyDeclared` when a source names fields its model does not have."""
    where = f"Sync source {source.name!r}"
    targets = [source.key_target, *source.fields.values(), "last_sync"]
    if source.active_field:
        targets.append(source.active_field)
    for target in targets:
        if target not in source.model.model_fields:
            raise ImproperlyDeclared(f"{where}: {source.model.__name__} has no field {target!r}.")
    try:
        source.owned_filter()
    except BulkAdminError as error:
        raise ImproperlyDeclared(f"{where}: scope: {error}") from error


class UnknownSource(BulkAdminError):
    """A sync source name is not declared; `.valid_names` lists the declared ones."""

    def __init__(self, name: str, valid_names: list[str]) -> None:
        self.name = name
        self.valid_names = valid_names
        super().__init__(f"Unknown sync source {name!r}. Declared sources: {', '.join(valid_names) or 'none'}.")


class SourceRegistry:
    """Sources declared in code (`register`); `all` and `get` add those `configured` in settings
    (`BULKADMIN_SYNC_SOURCES`, which the caller reads: see `jobs.sources`)."""

    def __init__(self) -> None:
        self._sources: dict[str, Source] = {}

    def register(self, source: Source) -> Source:
        check_source(source)
        if source.name in self._sources and self._sources[source.name] != source:
            raise AlreadyRegistered(f"Sync source {source.name!r} is already declared.")
        self._sources[source.name] = source
        return source

    def all(self, configured: Mapping[str, Mapping[str, Any]]) -> dict[str, Source]:
        from_settings = {name: source_from_settings(name, config) for name, config in configured.items()}
        return {**self._sources, **from_settings}

    def get(self, name: str, configured: Mapping[str, Mapping[str, Any]]) -> Source:
        found = self.all(configured)
        if name not in found:
            raise UnknownSource(name, sorted(found))
        return found[name]


def source_from_settings(name: str, config: Mapping[str, Any]) -> Source:
    """A `Source` from a settings entry: `collection` names the model; `pagination` and
    `policy` are dicts of their options."""
    options = dict(config)
    try:
        model = site.get(options.pop("collection"))
        pagination = Pagination(**options.pop("pagination", {}))
        policy = RetryPolicy(**options.pop("policy", {}))
        source = Source(name=name, model=model, pagination=pagination, policy=policy, **options)
    except (KeyError, TypeError, BulkAdminError) as error:
        raise ImproperlyDeclared(f"BULKADMIN_SYNC_SOURCES[{name!r}]: {error}") from error
    check_source(source)
    return source


sources = SourceRegistry()
register_source = sources.register


class SyncFailed(BulkAdminError):
    """A sync stopped part-way (HTTP error, broken JSON); `.result` holds what was done before."""

    def __init__(self, source: str, failure: FetchFailed, result: OperationResult[SyncCounts]) -> None:
        self.source = source
        self.page = failure.page
        self.status = failure.status
        self.reason = failure.reason
        self.url = failure.url
        self.result = result
        self.job: Any = None  # the job row, when the sync ran as a job
        super().__init__(f"Sync {source!r} failed on {failure}")

    def context(self) -> dict[str, Any]:
        return {"page": self.page, "status": self.status, "reason": self.reason, "url": self.url}


@dataclass
class _Tally:
    """Counts, rejected records and the server's write-concern errors gathered page by page."""

    source: Source
    since: dt.datetime | None
    dry_run: bool
    started: float = field(default_factory=time.perf_counter)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    write_concern_errors: list[WriteConcernError] = field(default_factory=list)
    batches: list[BatchStat] = field(default_factory=list)
    seen: set[Any] = field(default_factory=set)
    missing_check: str = ""

    def add(self, **counts: int) -> None:
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + value

    def result(self) -> OperationResult[SyncCounts]:
        """The sync's result: records read, created / updated / unchanged / rejected, missing
        flagged, pages; rejected records are its errors. A dry run with some good records is
        partial, not failed (nothing is written in a dry run); so is one with write-concern errors."""
        counts = {name: self.counts.get(name, 0) for name in SYNC_COUNTS}
        errors = tuple(sorted(self.errors, key=lambda error: error.index))
        written = 0 if self.dry_run else counts["created"] + counts["updated"] + counts["marked_missing"]
        kept = written or counts["unchanged"]
        status = Outcome.SUCCEEDED if not errors else Outcome.PARTIAL if kept else Outcome.FAILED
        if self.dry_run and status == Outcome.FAILED and counts["records"] > counts["rejected"]:
            status = Outcome.PARTIAL
        status = concerned(status, tuple(self.write_concern_errors))
        return OperationResult(
            operation="sync",
            target=self.source.name,
            counts=SyncCounts(rows=counts["records"], **counts, failed=len({error.index for error in errors})),
            errors=errors,
            error_count=len(errors),
            write_concern_errors=tuple(self.write_concern_errors),
            batches=tuple(self.batches),
            details={"source": self.source.name, "since": self.since}
            | ({"missing_check": self.missing_check} if self.missing_check else {}),
            elapsed=time.perf_counter() - self.started,
            dry_run=self.dry_run,
            status=status,
        )


def sync_source(
    *,
    source: Source,
    since: dt.datetime | None = None,
    mark_missing: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    request_deadline: float = REQUEST_DEADLINE,
    run_deadline: float = RUN_DEADLINE,
    sleep: Sleep | None = None,
    db: Database | None = None,
) -> OperationResult[SyncCounts]:
    """Fetch every page of `source` (only records updated since `since` when given) and upsert
    them by key, stamping `last_sync` with `now` (default: the current time, UTC). `mark_missing`
    needs a full sync: it sets `active_field` false on the source's documents absent from the
    feed. Deadlines in seconds the source's policy leaves unset: `request_deadline` per page,
    `run_deadline` per run. Raises `SyncFailed` (with the partial result) part-way."""
    _check_options(source, since, mark_missing)
    now = now or dt.datetime.now(dt.UTC)
    db = db if db is not None else get_db()
    tally = _Tally(source, since, dry_run)
    policy = source.policy.with_default_deadlines(request=request_deadline, run=run_deadline)
    feed = _feed(source, since, sleep, policy)
    try:
        for page in feed.pages():
            page_started = time.perf_counter()
            _sync_page(source, page.records, tally, now=now, dry_run=dry_run, db=db)
            tally.add(pages=1)
            tally.batches.append(BatchStat(page.number, len(page.records), time.perf_counter() - page_started))
            if progress is not None:
                progress(tally.counts.get("records", 0), None)
    except FetchFailed as error:
        raise SyncFailed(source.name, error, tally.result()) from error
    except Cancelled as stop:
        stop.result = tally.result()
        raise
    if mark_missing:
        seen = tally.seen
        try:
            seen, tally.missing_check = _confirmed_seen(source, seen, sleep, policy)
        except FetchFailed as error:
            raise SyncFailed(source.name, error, tally.result()) from error
        flagged, concerns = flag_missing(source, seen, dry_run=dry_run, db=db)
        tally.add(marked_missing=flagged)
        tally.write_concern_errors.extend(concerns)
    return tally.result()


def _confirmed_seen(source: Source, seen: set[Any], sleep: Sleep | None, policy: RetryPolicy) -> tuple[set[Any], str]:
    """The keys a full sync saw, made safe for flagging missing records, and how. A cursor walks a
    snapshot the source keeps; with page numbers or next links a record deleted mid-run shifts
    the pages and hides another, so the listing is read a second time and only keys missing from
    both readings count as missing."""
    if source.pagination.style in ("cursor", "none"):
        return seen, f"{source.pagination.style} paging reads one snapshot: flagged what it lacked"
    again = {
        value_at(record, source.key_field)
        for page in _feed(source, None, sleep, policy).pages()
        for record in page.records
        if isinstance(record, Mapping)
    }
    return seen | again, "pages can shift: the listing was read twice and only keys missing from both are flagged"


def _check_options(source: Source, since: dt.datetime | None, mark_missing: bool) -> None:
    if since is not None and not source.updated_since_param:
        message = f"Sync source {source.name!r} has no updated-since parameter; sync it in full."
        raise InvalidSpec(message, option="since")
    if mark_missing and since is not None:
        raise InvalidSpec("mark_missing needs a full sync: records not fetched would look missing.", option="since")
    if mark_missing and not source.active_field:
        raise InvalidSpec(f"Sync source {source.name!r} declares no active_field to flag.", option="mark_missing")


def _feed(source: Source, since: dt.datetime | None, sleep: Sleep | None, policy: RetryPolicy) -> Feed:
    params = dict(source.params)
    if since is not None and source.updated_since_param:
        params[source.updated_since_param] = since.astimezone(dt.UTC).isoformat()
    return Feed(
        url=source.url,
        records_path=source.records_path,
        pagination=source.pagination,
        params=params,
        headers=source.headers(),
        policy=policy,
        sleep=sleep,
    )


def _sync_page(
    source: Source, records: list[Any], tally: _Tally, *, now: dt.datetime, dry_run: bool, db: Database
) -> None:
    first = tally.counts.get("records", 0)
    rows, positions = [], []
    for offset, record in enumerate(records):
        try:
            rows.append(map_record(source, record))
            positions.append(first + offset)
            tally.seen.add(rows[-1][source.key_target])
        except InvalidSpec as error:
            tally.errors.append(_mapping_error(first + offset, error))
    tally.add(records=len(records), rejected=len(records) - len(rows))
    if not rows:
        return
    key = (source.key_target,)
    options: dict[str, Any] = {"key_fields": key, "mode": "merge", "ordered": False, "raise_on_error": False, "db": db}
    result = bulk_upsert(source.model, rows, dry_run=dry_run, **options)
    failed = {error.index for error in result.errors}
    tally.errors.extend(
        _relocated(error, positions[error.index], f"{source.key_field} {rows[error.index][source.key_target]!r}")
        for error in result.errors
    )
    tally.add(created=result.created, updated=result.updated, unchanged=result.unchanged, rejected=len(failed))
    tally.write_concern_errors.extend(result.write_concern_errors)
    if not dry_run:
        stamps = [{source.key_target: row[source.key_target], "last_sync": now} for row in rows]
        stamped = bulk_upsert(source.model, [stamp for i, stamp in enumerate(stamps) if i not in failed], **options)
        tally.write_concern_errors.extend(stamped.write_concern_errors)


def map_record(source: Source, record: Any) -> dict[str, Any]:
    """An API record as a merge row with model field names; `InvalidSpec` when it has no key."""
    if not isinstance(record, Mapping):
        raise InvalidSpec(f"a record must be an object, not {type(record).__name__}.", field=source.key_field)
    key = value_at(record, source.key_field)
    if key is None or key == "":
        raise InvalidSpec(f"the record has no {source.key_field!r}.", field=source.key_field)
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise InvalidSpec(f"{source.key_field!r} must be a string or an integer, got {key!r}.", field=source.key_field)
    row = {source.key_target: key}
    for api_field, model_field in source.fields.items():
        value = value_at(record, api_field)
        if value is not None or _has_path(record, api_field):
            row[model_field] = value
    if source.active_field and source.active_field not in row:
        row[source.active_field] = True
    return row


def _has_path(record: Mapping[str, Any], path: str) -> bool:
    head, _, rest = path.partition(".")
    if head not in record:
        return False
    return not rest or (isinstance(record[head], Mapping) and _has_path(record[head], rest))


def _mapping_error(index: int, error: InvalidSpec) -> RowError:
    return RowError(index, str(error), field=error.field, field_errors=(FieldError(error.field or "", str(error)),))


def _relocated(error: RowError, index: int, key: str) -> RowError:
    """A row error moved from its position in one page's upsert to its position in the feed,
    its message naming the record by its key (`id 'P-17': ...`)."""
    return RowError(index, f"{key}: {error.message}", error.code, error.kind, error.field, error.field_errors)


def flag_missing(
    source: Source, seen: set[Any], *, dry_run: bool, db: Database
) -> tuple[int, tuple[WriteConcernError, ...]]:
    """Set `active_field` false on the source's active documents whose key was not in the feed;
    return how many (a dry run only counts them; none without an `active_field`) and the
    server's write-concern errors."""
    active = source.active_field
    if active is None:
        return 0, ()
    query = source.owned_filter(**{active: True})
    key = source.model.model_fields[source.key_target].alias or source.key_target
    flagged = 0
    concerns: tuple[WriteConcernError, ...] = ()
    for batch in matching_batches(db[source.model.collection], query, DEFAULT_BATCH_SIZE, fields=(key,)):
        ids = [doc["_id"] for doc in batch if doc.get(key) not in seen]
        if dry_run or not ids:
            flagged += len(ids)
            continue
        spec = {"filter": {"id": {"$in": ids}}, "update": {"$set": {active: False}}}
        written = raise_failed_rows(bulk_update(source.model, [spec], raise_on_error=False, db=db))
        flagged, concerns = flagged + written.modified, concerns + written.write_concern_errors
    return flagged, concerns
