"""bulkadmin's settings: each one's default, read from Django's settings when asked (so overrides
apply at once), and the system checks (`bulkadmin.E0xx`) that reject bad values at startup."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error

DEFAULT_MONGODB_URI = ""  # empty: the embedded server, started under BULKADMIN_EMBEDDED_DIR
DEFAULT_MONGODB_DB = "bulkadmin"
DEFAULT_UNDO_LIMIT = 100_000
DEFAULT_UNDO_DAYS = 30
DEFAULT_JOB_STALE_SECONDS = 60
DEFAULT_HEARTBEAT_SECONDS = 10
DEFAULT_LEASE_SECONDS = 60
DEFAULT_AUTO_RESUME = 3
DEFAULT_STORAGE = "bulkadmin"
DEFAULT_UPLOAD_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_UPLOAD_MAX_AGE_HOURS = 24  # an upload older than this, used by no queued or running job, is deleted
DEFAULT_UPLOAD_QUOTA_BYTES = 1024 * 1024 * 1024  # what one user's uploads may hold at a time
DEFAULT_SYNC_REQUEST_DEADLINE = 30.0  # seconds for one page's complete response, retries included
DEFAULT_SYNC_RUN_DEADLINE = 3600.0  # seconds for a whole sync run
DEFAULT_HEALTH_TIMEOUT = 2.0  # seconds /healthz waits for MongoDB
DEFAULT_USER_READ_MAX_TIME_MS = 2000  # a read a user composed (preview, count, browse search)
DEFAULT_INLINE_COUNT_LIMIT = 5000  # collections this small are counted on the page, not in the background
DEFAULT_BROWSE_MARK_PAGES = 10  # a typed page number is read from a mark at most this many pages before it
BROWSE_PAGING_MODES = ("auto", "skip", "keyset")
URI_SCHEMES = ("mongodb://", "mongodb+srv://")


def _get(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _path(name: str, default: Path) -> Path:
    value = _get(name, None)
    return Path(value) if value else default


def var_dir() -> Path:
    """The project's data folder: `VAR_DIR`, else `<BASE_DIR>/var`, else `./var`."""
    base = _get("BASE_DIR", None)
    return _path("VAR_DIR", Path(base) / "var" if base else Path("var"))


def mongodb_uri() -> str:
    """`MONGODB_URI`: the server to use; empty for the embedded one."""
    return str(_get("MONGODB_URI", DEFAULT_MONGODB_URI) or "")


def mongodb_db() -> str:
    """`MONGODB_DB`: the database holding the collections."""
    return str(_get("MONGODB_DB", DEFAULT_MONGODB_DB))


def allow_embedded() -> bool:
    """`BULKADMIN_ALLOW_EMBEDDED`: run the embedded server although DEBUG is false (default false)."""
    return bool(_get("BULKADMIN_ALLOW_EMBEDDED", False))


def embedded_dir() -> Path:
    """`BULKADMIN_EMBEDDED_DIR`: where the embedded server keeps its data (default: the data folder)."""
    return _path("BULKADMIN_EMBEDDED_DIR", var_dir())


def jobs_dir() -> Path:
    """`BULKADMIN_JOBS_DIR`: job files (error files, uploads); default `<data folder>/jobs`."""
    return _path("BULKADMIN_JOBS_DIR", var_dir() / "jobs")


def sync_request_deadline() -> float:
    """`BULKADMIN_SYNC_REQUEST_DEADLINE`: seconds a sync page's complete response may take."""
    return float(_get("BULKADMIN_SYNC_REQUEST_DEADLINE", DEFAULT_SYNC_REQUEST_DEADLINE))


def sync_run_deadline() -> float:
    """`BULKADMIN_SYNC_RUN_DEADLINE`: seconds a whole sync run may take."""
    return float(_get("BULKADMIN_SYNC_RUN_DEADLINE", DEFAULT_SYNC_RUN_DEADLINE))


def health_timeout() -> float:
    """`BULKADMIN_HEALTH_TIMEOUT`: seconds the health endpoint waits for MongoDB's answer."""
    return float(_get("BULKADMIN_HEALTH_TIMEOUT", DEFAULT_HEALTH_TIMEOUT))


def user_read_max_time_ms() -> int:
    """`BULKADMIN_USER_READ_MAX_TIME_MS`: the time limit of a read a user composed."""
    return int(_get("BULKADMIN_USER_READ_MAX_TIME_MS", DEFAULT_USER_READ_MAX_TIME_MS))


def inline_count_limit() -> int:
    """`BULKADMIN_INLINE_COUNT_LIMIT`: collections of at most this many documents are counted at once."""
    return int(_get("BULKADMIN_INLINE_COUNT_LIMIT", DEFAULT_INLINE_COUNT_LIMIT))


def browse_paging() -> str:
    """`BULKADMIN_BROWSE_PAGING`: how deep browse pages are read: auto (by server), skip or keyset."""
    return str(_get("BULKADMIN_BROWSE_PAGING", "auto"))


def browse_mark_pages() -> int:
    """`BULKADMIN_BROWSE_MARK_PAGES`: every how many pages the browser marks where a page begins."""
    return int(_get("BULKADMIN_BROWSE_MARK_PAGES", DEFAULT_BROWSE_MARK_PAGES))


def undo_limit() -> int:
    """`BULKADMIN_UNDO_LIMIT`: the most documents a job keeps pre-images for."""
    return int(_get("BULKADMIN_UNDO_LIMIT", DEFAULT_UNDO_LIMIT))


def undo_days() -> int:
    """`BULKADMIN_UNDO_DAYS`: how long undo data is kept."""
    return int(_get("BULKADMIN_UNDO_DAYS", DEFAULT_UNDO_DAYS))


def job_stale_seconds() -> int:
    """`BULKADMIN_JOB_STALE_SECONDS`: a running job silent this long is shown as interrupted."""
    return int(_get("BULKADMIN_JOB_STALE_SECONDS", DEFAULT_JOB_STALE_SECONDS))


def heartbeat_seconds() -> float:
    """`BULKADMIN_HEARTBEAT_SECONDS`: a running job reports it is alive at least this often."""
    return float(_get("BULKADMIN_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS))


def lease_seconds() -> float:
    """`BULKADMIN_LEASE_SECONDS`: a lease (cleanup, sync, a running job) whose holder stopped
    renewing it is free after this long."""
    return float(_get("BULKADMIN_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def auto_resume() -> int:
    """`BULKADMIN_AUTO_RESUME`: how many times workers resume an import whose worker died (0: never)."""
    return int(_get("BULKADMIN_AUTO_RESUME", DEFAULT_AUTO_RESUME))


def storage_name() -> str:
    """`BULKADMIN_STORAGE`: the entry of `STORAGES` holding uploads and error files."""
    return str(_get("BULKADMIN_STORAGE", DEFAULT_STORAGE))


def upload_max_bytes() -> int:
    """`BULKADMIN_UPLOAD_MAX_BYTES`: the largest file the web Import page accepts."""
    return int(_get("BULKADMIN_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))


def upload_max_age_hours() -> float:
    """`BULKADMIN_UPLOAD_MAX_AGE_HOURS`: how long an upload is kept (`purge_uploads`)."""
    return float(_get("BULKADMIN_UPLOAD_MAX_AGE_HOURS", DEFAULT_UPLOAD_MAX_AGE_HOURS))


def upload_quota_bytes() -> int:
    """`BULKADMIN_UPLOAD_QUOTA_BYTES`: what one user's kept uploads may hold together."""
    return int(_get("BULKADMIN_UPLOAD_QUOTA_BYTES", DEFAULT_UPLOAD_QUOTA_BYTES))


def sync_sources() -> dict[str, Mapping[str, Any]]:
    """`BULKADMIN_SYNC_SOURCES`: sync sources declared in settings, by name."""
    return dict(_get("BULKADMIN_SYNC_SOURCES", None) or {})


# System checks ---------------------------------------------------------------------------------
POSITIVE_INTEGERS = (
    ("BULKADMIN_UNDO_LIMIT", DEFAULT_UNDO_LIMIT, "bulkadmin.E001"),
    ("BULKADMIN_UNDO_DAYS", DEFAULT_UNDO_DAYS, "bulkadmin.E002"),
    ("BULKADMIN_JOB_STALE_SECONDS", DEFAULT_JOB_STALE_SECONDS, "bulkadmin.E003"),
    ("BULKADMIN_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES, "bulkadmin.E004"),
    ("BULKADMIN_UPLOAD_QUOTA_BYTES", DEFAULT_UPLOAD_QUOTA_BYTES, "bulkadmin.E012"),
    ("BULKADMIN_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS, "bulkadmin.E010"),
    ("BULKADMIN_LEASE_SECONDS", DEFAULT_LEASE_SECONDS, "bulkadmin.E011"),
    ("BULKADMIN_BROWSE_MARK_PAGES", DEFAULT_BROWSE_MARK_PAGES, "bulkadmin.E013"),
)
FOLDERS: tuple[tuple[str, Callable[[], Path], str], ...] = (("BULKADMIN_JOBS_DIR", jobs_dir, "bulkadmin.E005"),)


def check_settings(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Every problem with bulkadmin's settings, each an `Error` with its `bulkadmin.E0xx` id."""
    problems: list[CheckMessage] = []
    for name, default, check_id in POSITIVE_INTEGERS:
        problems += _positive_integer(name, _get(name, default), check_id)
    for name, folder, check_id in FOLDERS:
        problems += _writable_folder(name, folder(), check_id)
    problems += _sync_sources_shape(_get("BULKADMIN_SYNC_SOURCES", None))
    problems += _mongodb(_get("MONGODB_URI", DEFAULT_MONGODB_URI), _get("MONGODB_DB", DEFAULT_MONGODB_DB))
    return problems


def _positive_integer(name: str, value: Any, check_id: str) -> list[CheckMessage]:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return []
    return [Error(f"{name} must be a positive whole number, not {value!r}.", id=check_id)]


def _writable_folder(name: str, folder: Path, check_id: str) -> list[CheckMessage]:
    """The folder, or the nearest existing folder above it (it is created when first used), must
    be a writable directory."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return []
    why = "is not a folder" if existing.exists() and not existing.is_dir() else "is not writable"
    hint = f"Set {name} to a folder this process can write to."
    return [Error(f"{name} ({folder}) cannot be used: {existing} {why}.", hint=hint, id=check_id)]


def _sync_sources_shape(declared: Any) -> list[CheckMessage]:
    if declared is None:
        return []
    shape = "a dict of source name -> dict of options with a 'collection'"
    if not isinstance(declared, Mapping):
        return [Error(f"BULKADMIN_SYNC_SOURCES must be {shape}, not {type(declared).__name__}.", id="bulkadmin.E007")]
    return [
        Error(f"BULKADMIN_SYNC_SOURCES[{name!r}] must be a dict with a 'collection' entry.", id="bulkadmin.E007")
        for name, options in declared.items()
        if not isinstance(name, str) or not isinstance(options, Mapping) or "collection" not in options
    ]


def _mongodb(uri: Any, db: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if uri and (not isinstance(uri, str) or not uri.startswith(URI_SCHEMES)):
        problems.append(Error(f"MONGODB_URI must start with {' or '.join(URI_SCHEMES)}.", id="bulkadmin.E008"))
    if not isinstance(db, str) or not db or any(c in db for c in '/\\. "$'):
        problems.append(Error(f"MONGODB_DB must be a MongoDB database name, not {db!r}.", id="bulkadmin.E009"))
    return problems
