"""bulkadmin's settings, declared once in `SETTINGS`: each one's environment variable, default,
rule (a system check `bulkadmin.E0xx`) and doc. Accessors read Django's settings when asked (so
overrides apply at once) and refuse a value that breaks its rule; `project/settings.py` reads the
environment through `SETTINGS.read_environment`; `manage.py settings_table` prints the
table of docs/settings.md."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error

from bulkadmin.core.settings_table import (
    BOOLEAN,
    FOLDER,
    INTEGER,
    NON_NEGATIVE_INTEGER,
    NUMBER,
    POSITIVE_INTEGER,
    POSITIVE_NUMBER,
    PYTHON,
    TEXT,
    TRUE_OR_FALSE,
    Rule,
    Setting,
    SettingsTable,
    one_of,
)

DEFAULT_USER_READ_MAX_TIME_MS = 2000
BROWSE_PAGING_MODES = ("auto", "skip", "keyset")
URI_SCHEMES = ("mongodb://", "mongodb+srv://")
DATABASE_NAME_FORBIDS = '/\\. "$'
SOURCES_SHAPE = "a dict of source name -> dict of options with a 'collection'"


def _bad_sources(name: str, declared: Any) -> str | None:
    """What is wrong with the sync sources declared in setting `name`, or None (also for none)."""
    if declared is None:
        return None
    if not isinstance(declared, Mapping):
        return f"{name} must be {SOURCES_SHAPE}, not {type(declared).__name__}."
    for source, options in declared.items():
        if not isinstance(source, str) or not isinstance(options, Mapping) or "collection" not in options:
            return f"{name}[{source!r}] must be a dict with a 'collection' entry."
    return None


@dataclass(frozen=True)
class SourcesRule(Rule):
    """Sync sources' shape; the message names the first bad source."""

    def problem(self, name: str, value: Any) -> str | None:
        return _bad_sources(name, value)


MONGODB_URI_RULE = Rule(
    f"empty or start with {' or '.join(URI_SCHEMES)}",
    lambda value: not value or (isinstance(value, str) and value.startswith(URI_SCHEMES)),
    quotes_value=False,
)
DATABASE_NAME = Rule(
    "a MongoDB database name",
    lambda value: isinstance(value, str) and bool(value) and not any(c in value for c in DATABASE_NAME_FORBIDS),
)
FOLDER_PATH = Rule(
    "a folder this process can create and write",
    lambda value: value is None or isinstance(value, str | os.PathLike),
)
STORAGE_NAME = Rule(
    "bulkadmin or the name of an entry of Django's STORAGES",
    lambda value: isinstance(value, str) and (value == "bulkadmin" or value in getattr(settings, "STORAGES", {})),
)
SOURCES = SourcesRule(SOURCES_SHAPE, lambda value: _bad_sources("", value) is None)
SITE_URL = Rule(
    "empty or an http:// or https:// address",
    lambda value: isinstance(value, str) and (not value or value.startswith(("http://", "https://"))),
)


def _callable_path(value: Any) -> bool:
    from django.utils.module_loading import import_string

    try:
        return isinstance(value, str) and callable(import_string(value))
    except ImportError:
        return False


CALLABLE_PATH = Rule("the dotted path of a function", _callable_path)

# Each entry: name (also its environment variable's), read as, default, rule, check id, doc.
SETTINGS: SettingsTable = SettingsTable(
    Setting(
        "MONGODB_URI", TEXT, "", MONGODB_URI_RULE, "bulkadmin.E008",
        "the MongoDB server, e.g. `mongodb+srv://user:pass@cluster.example.net/`",
        shown_default="empty: the embedded server",
    ),
    Setting(
        "MONGODB_DB", TEXT, "bulkadmin", DATABASE_NAME, "bulkadmin.E009",
        "the database holding the collections",
    ),
    Setting(
        "BULKADMIN_ALLOW_EMBEDDED", BOOLEAN, False, TRUE_OR_FALSE, "bulkadmin.E014",
        "with `DEBUG=false` and no `MONGODB_URI`, run the embedded server anyway (otherwise an error)",
    ),
    Setting(
        "BULKADMIN_EMBEDDED_DIR", FOLDER, None, FOLDER_PATH, "bulkadmin.E015",
        "where the embedded development server keeps its data (checked when `MONGODB_URI` is empty)",
        shown_default="`var`",
    ),
    Setting(
        "BULKADMIN_JOBS_DIR", FOLDER, None, FOLDER_PATH, "bulkadmin.E005",
        "the folder of the default job files' storage: an import's full error file is `<job id>/errors.csv` "
        "in it, uploads are under `uploads/`",
        shown_default="`var/jobs`",
    ),
    Setting(
        "BULKADMIN_STORAGE", TEXT, "bulkadmin", STORAGE_NAME, "bulkadmin.E016",
        "the entry of Django's `STORAGES` holding uploads and error files "
        "(see [Several machines](deploying.md#several-machines))",
    ),
    Setting(
        "BULKADMIN_UPLOAD_MAX_BYTES", INTEGER, 200 * 1024 * 1024, POSITIVE_INTEGER, "bulkadmin.E004",
        "the largest file the web admin's Import page accepts",
        shown_default="`209715200` (200 MiB)",
    ),
    Setting(
        "BULKADMIN_UPLOAD_MAX_AGE_HOURS", NUMBER, 24, POSITIVE_NUMBER, "bulkadmin.E017",
        "uploads older than this, used by no queued or running import, are deleted (`purge_uploads`)",
    ),
    Setting(
        "BULKADMIN_UPLOAD_QUOTA_BYTES", INTEGER, 1024 * 1024 * 1024, POSITIVE_INTEGER, "bulkadmin.E012",
        "what one user's kept uploads may hold together",
        shown_default="`1073741824` (1 GiB)",
    ),
    Setting(
        "BULKADMIN_UNDO_LIMIT", INTEGER, 100_000, POSITIVE_INTEGER, "bulkadmin.E001",
        "undo keeps pre-images of jobs touching at most this many documents",
    ),
    Setting(
        "BULKADMIN_UNDO_DAYS", INTEGER, 30, POSITIVE_INTEGER, "bulkadmin.E002",
        "how long undo data is kept (a TTL index)",
    ),
    Setting(
        "BULKADMIN_JOB_STALE_SECONDS", INTEGER, 60, POSITIVE_INTEGER, "bulkadmin.E003",
        "a running job whose heartbeat stopped this long ago is marked interrupted by the workers",
    ),
    Setting(
        "BULKADMIN_HEARTBEAT_SECONDS", NUMBER, 10, POSITIVE_NUMBER, "bulkadmin.E010",
        "a running job's heartbeat ticks at least this often (also during a long batch); the workers look "
        "for dead workers' jobs as often",
    ),
    Setting(
        "BULKADMIN_LEASE_SECONDS", NUMBER, 60, POSITIVE_NUMBER, "bulkadmin.E011",
        "a lease (the cleanup, a sync of one source, a running job) whose holder stopped renewing it is free "
        "after this long",
    ),
    Setting(
        "BULKADMIN_AUTO_RESUME", INTEGER, 3, NON_NEGATIVE_INTEGER, "bulkadmin.E018",
        "how many times the workers resume an import, or queue a scheduled run again, whose worker died (`0`: never)",
    ),
    Setting(
        "BULKADMIN_SYNC_SOURCES", PYTHON, None, SOURCES, "bulkadmin.E007",
        "sync sources declared in settings (see [Syncing](commands.md#syncing-from-an-http-api))",
        shown_default="none",
        environment=False,
    ),
    Setting(
        "BULKADMIN_SYNC_REQUEST_DEADLINE", NUMBER, 30, POSITIVE_NUMBER, "bulkadmin.E019",
        "seconds a sync page's complete response may take, retries included",
    ),
    Setting(
        "BULKADMIN_SYNC_RUN_DEADLINE", NUMBER, 3600, POSITIVE_NUMBER, "bulkadmin.E020",
        "seconds a whole sync run may take",
    ),
    Setting(
        "BULKADMIN_BROWSE_PAGING", TEXT, "auto", one_of(*BROWSE_PAGING_MODES), "bulkadmin.E021",
        "how the browser reads deep pages in `_id` order: `auto` (keyset links and page marks, on the embedded "
        "server for ObjectId `_id`s only), `skip` or `keyset` (see [The web admin](web.md))",
    ),
    Setting(
        "BULKADMIN_BROWSE_MARK_PAGES", INTEGER, 10, POSITIVE_INTEGER, "bulkadmin.E013",
        "a page number typed in is read from a page mark at most this many pages before it",
    ),
    Setting(
        "BULKADMIN_USER_READ_MAX_TIME_MS", INTEGER, DEFAULT_USER_READ_MAX_TIME_MS, POSITIVE_INTEGER, "bulkadmin.E022",
        "the time limit of a read a user composed (preview, count, browse search)",
    ),
    Setting(
        "BULKADMIN_INLINE_COUNT_LIMIT", INTEGER, 5000, NON_NEGATIVE_INTEGER, "bulkadmin.E023",
        "collections of at most this many documents are counted on the page, larger ones in the background",
    ),
    Setting(
        "BULKADMIN_HEALTH_TIMEOUT", NUMBER, 2, POSITIVE_NUMBER, "bulkadmin.E024",
        "seconds `/healthz` waits for MongoDB's answer",
    ),
    Setting(
        "BULKADMIN_IMPORT_MAX_COLUMNS", INTEGER, 16_384, POSITIVE_INTEGER, "bulkadmin.E025",
        "the most columns a CSV/TSV row, or cells an XLSX row, may have (Excel's own limit)",
    ),
    Setting(
        "BULKADMIN_IMPORT_MAX_CELL_BYTES", INTEGER, 16 * 1024 * 1024, POSITIVE_INTEGER, "bulkadmin.E026",
        "the longest cell of an import file (a CSV field; an XLSX text, shared strings included) and the most "
        "text one XLSX row may hold",
        shown_default="`16777216` (16 MiB, MongoDB's document limit)",
    ),
    Setting(
        "BULKADMIN_XLSX_MAX_PART_BYTES", INTEGER, 1024 * 1024 * 1024, POSITIVE_INTEGER, "bulkadmin.E027",
        "the most bytes one part of an XLSX workbook (a sheet, its shared strings) may decompress to",
        shown_default="`1073741824` (1 GiB)",
    ),
    Setting(
        "BULKADMIN_XLSX_MAX_RATIO", NUMBER, 100, POSITIVE_NUMBER, "bulkadmin.E028",
        "the most one part of an XLSX workbook may grow by decompression (after its first MiB)",
    ),
    Setting(
        "BULKADMIN_XLSX_MAX_ENTRIES", INTEGER, 10_000, POSITIVE_INTEGER, "bulkadmin.E029",
        "the most files an XLSX workbook (a zip archive) may hold",
    ),
    Setting(
        "BULKADMIN_SCHEDULE_CHECK_SECONDS", NUMBER, 10, POSITIVE_NUMBER, "bulkadmin.E030",
        "every worker looks for due schedule runs this often (see [Schedules](schedules.md))",
    ),
    Setting(
        "BULKADMIN_SCHEDULE_LATE_SECONDS", NUMBER, 300, POSITIVE_NUMBER, "bulkadmin.E031",
        "a due run found later than this was missed (no worker was up): it runs once or is skipped, as its "
        "schedule says",
    ),
    Setting(
        "BULKADMIN_SCHEDULE_CLOCK", TEXT, "django.utils.timezone.now", CALLABLE_PATH, "bulkadmin.E032",
        "the function giving the schedules' time (tests make time pass faster with it)",
    ),
    Setting(
        "BULKADMIN_SITE_URL", TEXT, "", SITE_URL, "bulkadmin.E033",
        "the web admin's address, e.g. `https://bulk.example.com`: notices link to job pages under it",
        shown_default="empty: links are paths",
    ),
    Setting(
        "BULKADMIN_WEBHOOK_TIMEOUT", NUMBER, 10, POSITIVE_NUMBER, "bulkadmin.E034",
        "seconds one notice webhook POST may take",
    ),
    Setting(
        "BULKADMIN_WEBHOOK_RETRIES", INTEGER, 2, NON_NEGATIVE_INTEGER, "bulkadmin.E035",
        "how many times a failed notice webhook POST is tried again (after 1 s, 2 s, 4 s ...)",
    ),
)  # fmt: skip


def var_dir() -> Path:
    """The project's data folder: `VAR_DIR`, else `<BASE_DIR>/var`, else `./var`."""
    value, base = getattr(settings, "VAR_DIR", None), getattr(settings, "BASE_DIR", None)
    return Path(value) if value else Path(base) / "var" if base else Path("var")


def _folder(name: str, default: Path) -> Path:
    value = SETTINGS.value(name)
    return Path(value) if value else default


def mongodb_uri() -> str:
    """`MONGODB_URI`: the server to use; empty for the embedded one."""
    return str(SETTINGS.value("MONGODB_URI") or "")


def mongodb_db() -> str:
    """`MONGODB_DB`: the database holding the collections."""
    return str(SETTINGS.value("MONGODB_DB"))


def allow_embedded() -> bool:
    """`BULKADMIN_ALLOW_EMBEDDED`: run the embedded server although DEBUG is false."""
    return bool(SETTINGS.value("BULKADMIN_ALLOW_EMBEDDED"))


def embedded_dir() -> Path:
    """`BULKADMIN_EMBEDDED_DIR`: where the embedded server keeps its data (default: the data folder)."""
    return _folder("BULKADMIN_EMBEDDED_DIR", var_dir())


def jobs_dir() -> Path:
    """`BULKADMIN_JOBS_DIR`: job files (error files, uploads); default `<data folder>/jobs`."""
    return _folder("BULKADMIN_JOBS_DIR", var_dir() / "jobs")


def sync_request_deadline() -> float:
    """`BULKADMIN_SYNC_REQUEST_DEADLINE`, in seconds."""
    return float(SETTINGS.value("BULKADMIN_SYNC_REQUEST_DEADLINE"))


def sync_run_deadline() -> float:
    """`BULKADMIN_SYNC_RUN_DEADLINE`, in seconds."""
    return float(SETTINGS.value("BULKADMIN_SYNC_RUN_DEADLINE"))


def health_timeout() -> float:
    """`BULKADMIN_HEALTH_TIMEOUT`, in seconds."""
    return float(SETTINGS.value("BULKADMIN_HEALTH_TIMEOUT"))


def user_read_max_time_ms() -> int:
    """`BULKADMIN_USER_READ_MAX_TIME_MS`: the time limit of a read a user composed."""
    return int(SETTINGS.value("BULKADMIN_USER_READ_MAX_TIME_MS"))


def inline_count_limit() -> int:
    """`BULKADMIN_INLINE_COUNT_LIMIT`: collections of at most this many documents are counted at once."""
    return int(SETTINGS.value("BULKADMIN_INLINE_COUNT_LIMIT"))


def browse_paging() -> str:
    """`BULKADMIN_BROWSE_PAGING`: one of `BROWSE_PAGING_MODES`."""
    return str(SETTINGS.value("BULKADMIN_BROWSE_PAGING"))


def browse_mark_pages() -> int:
    """`BULKADMIN_BROWSE_MARK_PAGES`: every how many pages the browser marks where a page begins."""
    return int(SETTINGS.value("BULKADMIN_BROWSE_MARK_PAGES"))


def undo_limit() -> int:
    """`BULKADMIN_UNDO_LIMIT`: the most documents a job keeps pre-images for."""
    return int(SETTINGS.value("BULKADMIN_UNDO_LIMIT"))


def undo_days() -> int:
    """`BULKADMIN_UNDO_DAYS`: how long undo data is kept."""
    return int(SETTINGS.value("BULKADMIN_UNDO_DAYS"))


def job_stale_seconds() -> int:
    """`BULKADMIN_JOB_STALE_SECONDS`: a running job silent this long is shown as interrupted."""
    return int(SETTINGS.value("BULKADMIN_JOB_STALE_SECONDS"))


def heartbeat_seconds() -> float:
    """`BULKADMIN_HEARTBEAT_SECONDS`: a running job reports it is alive at least this often."""
    return float(SETTINGS.value("BULKADMIN_HEARTBEAT_SECONDS"))


def lease_seconds() -> float:
    """`BULKADMIN_LEASE_SECONDS`: a lease whose holder stopped renewing it is free after this long."""
    return float(SETTINGS.value("BULKADMIN_LEASE_SECONDS"))


def auto_resume() -> int:
    """`BULKADMIN_AUTO_RESUME`: how many times workers resume an import, or queue a scheduled run again,
    whose worker died (0: never)."""
    return int(SETTINGS.value("BULKADMIN_AUTO_RESUME"))


def storage_name() -> str:
    """`BULKADMIN_STORAGE`: the entry of `STORAGES` holding uploads and error files."""
    return str(SETTINGS.value("BULKADMIN_STORAGE"))


def upload_max_bytes() -> int:
    """`BULKADMIN_UPLOAD_MAX_BYTES`: the largest file the web Import page accepts."""
    return int(SETTINGS.value("BULKADMIN_UPLOAD_MAX_BYTES"))


def upload_max_age_hours() -> float:
    """`BULKADMIN_UPLOAD_MAX_AGE_HOURS`: how long an upload is kept (`purge_uploads`)."""
    return float(SETTINGS.value("BULKADMIN_UPLOAD_MAX_AGE_HOURS"))


def upload_quota_bytes() -> int:
    """`BULKADMIN_UPLOAD_QUOTA_BYTES`: what one user's kept uploads may hold together."""
    return int(SETTINGS.value("BULKADMIN_UPLOAD_QUOTA_BYTES"))


def import_max_columns() -> int:
    """`BULKADMIN_IMPORT_MAX_COLUMNS`: the most columns (cells) one row of an import file may have."""
    return int(SETTINGS.value("BULKADMIN_IMPORT_MAX_COLUMNS"))


def import_max_cell_bytes() -> int:
    """`BULKADMIN_IMPORT_MAX_CELL_BYTES`: the longest cell of an import file (and an XLSX row's text)."""
    return int(SETTINGS.value("BULKADMIN_IMPORT_MAX_CELL_BYTES"))


def xlsx_max_part_bytes() -> int:
    """`BULKADMIN_XLSX_MAX_PART_BYTES`: the most bytes one part of a workbook may decompress to."""
    return int(SETTINGS.value("BULKADMIN_XLSX_MAX_PART_BYTES"))


def xlsx_max_ratio() -> float:
    """`BULKADMIN_XLSX_MAX_RATIO`: the most one part of a workbook may grow by decompression."""
    return float(SETTINGS.value("BULKADMIN_XLSX_MAX_RATIO"))


def xlsx_max_entries() -> int:
    """`BULKADMIN_XLSX_MAX_ENTRIES`: the most files a workbook's zip archive may hold."""
    return int(SETTINGS.value("BULKADMIN_XLSX_MAX_ENTRIES"))


def schedule_check_seconds() -> float:
    """`BULKADMIN_SCHEDULE_CHECK_SECONDS`: how often every worker looks for due schedule runs."""
    return float(SETTINGS.value("BULKADMIN_SCHEDULE_CHECK_SECONDS"))


def schedule_late_seconds() -> float:
    """`BULKADMIN_SCHEDULE_LATE_SECONDS`: a due run found later than this was missed."""
    return float(SETTINGS.value("BULKADMIN_SCHEDULE_LATE_SECONDS"))


def schedule_clock() -> str:
    """`BULKADMIN_SCHEDULE_CLOCK`: the dotted path of the function giving the schedules' time."""
    return str(SETTINGS.value("BULKADMIN_SCHEDULE_CLOCK"))


def site_url() -> str:
    """`BULKADMIN_SITE_URL`: the web admin's address for links in notices (empty: paths)."""
    return str(SETTINGS.value("BULKADMIN_SITE_URL") or "").rstrip("/")


def webhook_timeout() -> float:
    """`BULKADMIN_WEBHOOK_TIMEOUT`: seconds one webhook POST may take."""
    return float(SETTINGS.value("BULKADMIN_WEBHOOK_TIMEOUT"))


def webhook_retries() -> int:
    """`BULKADMIN_WEBHOOK_RETRIES`: how many times a failed webhook POST is tried again."""
    return int(SETTINGS.value("BULKADMIN_WEBHOOK_RETRIES"))


def sync_sources() -> dict[str, Mapping[str, Any]]:
    """`BULKADMIN_SYNC_SOURCES`: sync sources declared in settings, by name."""
    return dict(SETTINGS.value("BULKADMIN_SYNC_SOURCES") or {})


# System checks ---------------------------------------------------------------------------------
def check_settings(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Every problem with bulkadmin's settings, each an `Error` with its setting's id: its rule
    first, then whether the folders named can be written (the embedded server's only when used)."""
    problems = SETTINGS.check()
    failed = {problem.id for problem in problems}
    folders = [("BULKADMIN_JOBS_DIR", jobs_dir)]
    if SETTINGS["MONGODB_URI"].check_id not in failed and not mongodb_uri():
        folders.append(("BULKADMIN_EMBEDDED_DIR", embedded_dir))
    for name, folder in folders:
        if SETTINGS[name].check_id not in failed:
            problems += _writable_folder(SETTINGS[name], folder())
    return problems


def _writable_folder(setting: Setting, folder: Path) -> list[CheckMessage]:
    """The folder, or the nearest existing folder above it (it is created when first used), must
    be a writable directory."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return []
    why = "is not a folder" if existing.exists() and not existing.is_dir() else "is not writable"
    hint = f"Set {setting.name} to a folder this process can write to."
    return [Error(f"{setting.name} ({folder}) cannot be used: {existing} {why}.", hint=hint, id=setting.check_id)]
