"""The background check of a whole uploaded file (`scan_file`) and its small record: a JSON file
next to the upload, one per choice of read options and mapping, updated as the scan goes, so the
preview page can show the first bad rows of the whole file arriving.

Background work is shared fairly: a new check of an upload replaces the older ones of that upload
still waiting or running, and one user has at most `SCANS_PER_USER` checks waiting or running (the
oldest gives way). A replaced check is marked by a file of its own (`scan-<key>.replaced`), which
its worker looks for before it starts and between reports, and then stops."""

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
from bulkadmin.jobs import leases, queue
from bulkadmin.operations.imports.scan import ScanResult, scan_file
from bulkadmin.operations.progress import Cancelled

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
    "extended_json",
)
STALE_SECONDS = 600.0  # a queued or running record not updated for this long is started again
SCANS_PER_USER = 2  # checks one user may have waiting or running at once
WAITING = ("queued", "running")
REPLACED = "replaced"


def scan_key(request: dict[str, Any]) -> str:
    """The record's name for a choice of file, collection, options and mapping."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()[:16]


def record_path(folder: Path, key: str) -> Path:
    return folder / f"scan-{key}.json"


def replaced_path(folder: Path, key: str) -> Path:
    return folder / f"scan-{key}.replaced"


def read_scan(folder: Path, key: str) -> dict[str, Any] | None:
    """The scan's record (state "queued", "running", "done", "failed" or "replaced"), or None."""
    path = record_path(folder, key)
    try:
        record = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if record.get("state") in WAITING and replaced_path(folder, key).exists():
        return {**record, "state": REPLACED}
    return record


def request_scan(
    folder: Path, *, file: str, collection: str, read: dict[str, Any], user: int | None = None
) -> tuple[str, dict[str, Any]]:
    """The key and record of the scan of `file` with these options for `user`, queued unless one
    exists (or the one there stopped reporting, or was replaced); queuing it replaces the
    upload's other waiting checks and the user's oldest past `SCANS_PER_USER`."""
    request = {"file": file, "collection": collection, **{name: read.get(name) for name in READ_OPTIONS}}
    key = scan_key(request)
    record = read_scan(folder, key)
    if record is not None and record["state"] != REPLACED and not _stale(record):
        return key, record
    with leases.briefly(f"scans-{user}"):
        _make_room(folder, key, user)
        record = {"state": "queued", "request": request, "user": user, "updated": time.time()}
        _write(folder, key, record)
        replaced_path(folder, key).unlink(missing_ok=True)
    queue.enqueue("scan_import_file", str(folder), key)
    return key, read_scan(folder, key) or record


def _make_room(folder: Path, key: str, user: int | None) -> None:
    """Replace the upload's other waiting checks, then the user's oldest ones past the cap."""
    waiting = []
    for path in folder.parent.glob("*/scan-*.json"):
        other = read_scan(path.parent, path.stem.removeprefix("scan-"))
        if other is None or other["state"] not in WAITING or _stale(other) or path == record_path(folder, key):
            continue
        if path.parent == folder:
            replaced_path(folder, path.stem.removeprefix("scan-")).touch()
        elif other.get("user") == user:
            waiting.append((other.get("updated", 0), path))
    for _, path in sorted(waiting)[: max(0, len(waiting) - SCANS_PER_USER + 1)]:
        replaced_path(path.parent, path.stem.removeprefix("scan-")).touch()


def run_scan(folder: Path, key: str) -> dict[str, Any]:
    """Run the scan a record asks for, writing its progress and result to the record."""
    record = read_scan(folder, key)
    if record is None:
        return {"state": "gone"}
    if record["state"] == REPLACED:
        return record  # a newer check took its place: not started
    request = record["request"]
    read = {name: request.get(name) for name in READ_OPTIONS}
    read["key_fields"] = tuple(read["key_fields"] or ())
    read["ignore_blanks"] = bool(read["ignore_blanks"])
    read["mode"] = read["mode"] or "insert"

    def report(result: ScanResult) -> None:
        if replaced_path(folder, key).exists():
            raise Cancelled(f"The check {key} was replaced by a newer one.")
        _write(folder, key, {**record, "state": "running", "result": _plain(result), "updated": time.time()})

    try:
        result = scan_file(model=site.get(request["collection"]), path=folder / request["file"], report=report, **read)
    except Cancelled:
        return {**record, "state": REPLACED}  # its record stays as the newer check left it
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
