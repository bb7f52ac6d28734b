"""`export_documents`: the documents of a collection matching a filter, streamed to a file in one
of the export formats, a batch at a time (memory stays flat at any size)."""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pymongo
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError

from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.conf import SETTINGS
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.mongo import get_db
from bulkadmin.core.streams import with_id_condition
from bulkadmin.operations.exports.formats import ExportFormat, WriteOptions, formats
from bulkadmin.operations.exports.plan import ExportError, ExportPlan, plan_export
from bulkadmin.operations.progress import Progress
from bulkadmin.operations.results import ExportCounts, OperationResult

Destination = str | os.PathLike[str] | IO[bytes]
READ_SECONDS = SETTINGS["BULKADMIN_USER_READ_MAX_TIME_MS"].default / 1000  # callers pass the setting


def export_documents(
    *,
    model: type[MongoModel],
    destination: Destination,
    format: str | None = None,
    filter: Mapping[str, Any] | str | None = None,
    fields: Sequence[str] | str | None = None,
    sort: Sequence[str] | str | None = None,
    limit: int | None = None,
    extended_json: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    read_seconds: float = READ_SECONDS,
    progress: Progress | None = None,
    db: Database | None = None,
) -> OperationResult[ExportCounts]:
    """Write the documents of `model` matching `filter` (model field names, checked as the
    composer checks them) to `destination`: a path (written whole or not at all), `-` for
    standard output, or a binary file object. `fields`, `sort` (`-last_login`) and `limit` as
    mongoexport's; each batch read within `read_seconds`; `progress(done, total)` after each batch."""
    started = time.perf_counter()
    fmt, plan = check_export(
        model,
        destination,
        format=format,
        filter=filter,
        fields=fields,
        sort=sort,
        limit=limit,
        extended_json=extended_json,
    )
    name = _name(destination)
    collection = (db if db is not None else get_db())[model.collection]
    total = _total(collection, plan)
    options = WriteOptions(extended_json=extended_json, sheet=model.collection)
    with _opened(destination) as stream:
        rows = _write(fmt, stream, plan, options, _batches(collection, plan, batch_size, read_seconds), total, progress)
    return OperationResult(
        operation="export",
        target=model.collection,
        counts=ExportCounts(rows=rows),
        details={"format": fmt.name, "file": str(name), "fields": [c.name for c in plan.fields]},
        elapsed=time.perf_counter() - started,
    )


def check_export(
    model: type[MongoModel],
    destination: Destination,
    *,
    format: str | None = None,
    filter: Mapping[str, Any] | str | None = None,
    fields: Sequence[str] | str | None = None,
    sort: Sequence[str] | str | None = None,
    limit: int | None = None,
    extended_json: bool = False,
) -> tuple[ExportFormat, ExportPlan]:
    """The format and the checked plan of an export; `ExportError` names the option at fault."""
    fmt = formats.detect(_name(destination), format)
    if extended_json and "extended_json" not in fmt.options:
        raise ExportError(
            f"Extended JSON applies to the JSON and NDJSON formats, not {fmt.label}.", option="extended_json"
        )
    return fmt, plan_export(model, filter=filter, fields=fields, sort=sort, limit=limit)


def _name(destination: Destination) -> str:
    return os.fspath(destination) if _is_path(destination) else "-"  # type: ignore[arg-type]


def _write(
    fmt: ExportFormat,
    stream: IO[bytes],
    plan: ExportPlan,
    options: WriteOptions,
    batches: Iterator[list[dict[str, Any]]],
    total: int | None,
    progress: Progress | None,
) -> int:
    writer = fmt.open(stream, plan, options)
    rows = 0
    for batch in batches:
        writer.write(batch)
        rows += len(batch)
        if progress is not None:
            progress(rows, total)
    writer.close()
    return rows


def _batches(collection: Any, plan: ExportPlan, batch_size: int, seconds: float) -> Iterator[list[dict[str, Any]]]:
    """The matching documents in the plan's order, `batch_size` at a time, each batch read within
    `seconds` (the time limit of a read a user composed). In `_id` order
    over ObjectIds each batch is its own query, the matches past the last `_id` (keyset), so no
    read waits on the whole collection; another order is one cursor."""
    with _time_limited(seconds):
        keyset = plan.sort == (("_id", 1),) and _only_object_ids(collection, plan.query)
    read = _keyset_batches if keyset else _cursor_batches
    return read(collection, plan, batch_size, seconds)


def _keyset_batches(
    collection: Any, plan: ExportPlan, batch_size: int, seconds: float
) -> Iterator[list[dict[str, Any]]]:
    last, left = None, plan.limit
    while left is None or left > 0:
        size = batch_size if left is None else min(batch_size, left)
        query = plan.query if last is None else with_id_condition(plan.query, {"$gt": last})
        with _time_limited(seconds):
            batch = list(collection.find(query, plan.projection, sort=[("_id", 1)], limit=size))
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        last = batch[-1]["_id"]
        left = None if left is None else left - len(batch)


def _cursor_batches(
    collection: Any, plan: ExportPlan, batch_size: int, seconds: float
) -> Iterator[list[dict[str, Any]]]:
    cursor = collection.find(plan.query, plan.projection, sort=list(plan.sort), limit=plan.limit or 0)
    cursor.batch_size(batch_size)
    with contextlib.closing(cursor):
        while True:
            with _time_limited(seconds):
                batch = list(itertools.islice(cursor, batch_size))
            if not batch:
                return
            yield batch


def _only_object_ids(collection: Any, query: dict[str, Any]) -> bool:
    """Whether every matching `_id` is an ObjectId (one indexed check): a range of them is then
    every match past a point (MongoDB compares values of one type only)."""
    try:
        return collection.find_one(with_id_condition(query, {"$not": {"$type": "objectId"}}), {"_id": 1}) is None
    except OperationFailure:
        return False


@contextlib.contextmanager
def _time_limited(seconds: float) -> Iterator[None]:
    """The reads inside within `seconds` (sent as maxTimeMS and kept by the client); `ExportError`
    naming the filter when it is exceeded."""
    try:
        with pymongo.timeout(seconds):
            yield
    except PyMongoError as error:
        if getattr(error, "timeout", False):
            raise ExportError(
                f"Reading the documents took longer than {seconds:g} s and was stopped: "
                "narrow the filter or filter on an indexed field.",
                option="filter",
            ) from None
        raise


def _total(collection: Any, plan: ExportPlan) -> int | None:
    """How many documents will be written, when that is cheap to know (no filter)."""
    if plan.query:
        return plan.limit
    count = collection.estimated_document_count()
    return min(count, plan.limit) if plan.limit else count


def _is_path(destination: Destination) -> bool:
    return isinstance(destination, (str, os.PathLike))


@contextlib.contextmanager
def _opened(destination: Destination) -> Iterator[IO[bytes]]:
    """A binary stream to write to: standard output, the file object given, or a temporary file
    beside the path that replaces it only when the export succeeded."""
    if not _is_path(destination):
        yield destination  # type: ignore[misc]
        return
    if os.fspath(destination) == "-":  # type: ignore[arg-type]
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(destination)  # type: ignore[arg-type]
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)  # noqa: SIM115
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise
