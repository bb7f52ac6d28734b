"""The background check of a whole uploaded file (`scan_file`) and its small record: a JSON file
next to the upload, one per choice of read options and mapping, updated as the scan goes, so the
preview page can show the first bad rows of the whole file arriving."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.core.registry import site
from bulkadmin.operations.imports.scan import ScanResult, scan_file

READ_OPTIONS = (
    "mode",
    "key_fields",
    "format",
    "encoding",
    "delimiter",
    "mapping",
    "ignore_blanks",
    "sheet",
    "date_format",
)
STALE_SECONDS = 600.0  # a queued or running record not updated for this long is started again


def scan_key(request: dict[str, Any]) -> str:
    """The record's name for a choice of file, collection, options and mapping."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()[:16]


def record_path(folder: Path, key: str) -> Path:
    return folder / f"scan-{key}.json"


def read_scan(folder: Path, key: str) -> dict[str, Any] | None:
    """The scan's record (state "queued", "running", "done" or "failed"), or None."""
    path = record_path(folder, key)
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def request_scan(folder: Path, *, file: str, collection: str, read: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The key and record of the scan of `file` with these options, queued unless one exists (or
    the one there stopped reporting)."""
    request = {"file": file, "collection": collection, **{name: read.get(name) for name in READ_OPTIONS}}
    key = scan_key(request)
    record = read_scan(folder, key)
    if record is not None and not _stale(record):
        return key, record
    record = {"state": "queued", "request": request, "updated": time.time()}
    _write(folder, key, record)
    from bulkadmin.jobs import tasks  # the tasks import the runners; imported when a scan starts

    tasks.scan_import_file.enqueue(str(folder), key)
    return key, read_scan(folder, key) or record


def run_scan(folder: Path, key: str) -> dict[str, Any]:
    """Run the scan a record asks for, writing its progress and result to the record."""
    record = read_scan(folder, key)
    if record is None:
        return {"state": "gone"}
    request = record["request"]
    read = {name: request.get(name) for name in READ_OPTIONS}
    read["key_fields"] = tuple(read["key_fields"] or ())
    read["ignore_blanks"] = bool(read["ignore_blanks"])
    read["mode"] = read["mode"] or "insert"

    def report(result: ScanResult) -> None:
        _write(folder, key, {**record, "state": "running", "result": _plain(result), "updated": time.time()})

    try:
        result = scan_file(model=site.get(request["collection"]), path=folder / request["file"], report=report, **read)
    except (BulkAdminError, OSError, ValueError) as error:  # the page says why instead of waiting
        done = {**record, "state": "failed", "problem": str(error) or repr(error), "updated": time.time()}
    else:
        done = {**record, "state": "done", "result": _plain(result), "updated": time.time()}
    _write(folder, key, done)
    return done


def _plain(result: ScanResult) -> dict[str, Any]:
    return {**asdict(result), "first_bad": [asdict(row) for row in result.first_bad]}


def _stale(record: dict[str, Any]) -> bool:
    return record.get("state") in ("queued", "running") and time.time() - record.get("updated", 0) > STALE_SECONDS


def _write(folder: Path, key: str, record: dict[str, Any]) -> None:
    """Write the record whole (a reader never sees half of it)."""
    path = record_path(folder, key)
    spare = path.with_suffix(f".{os.getpid()}.tmp")
    spare.write_text(json.dumps(record, default=str))
    spare.replace(path)
