"""One machine-readable log line (JSON, on the `bulkadmin.jobs` logger) for every job that starts
or ends: which job, what kind, on which collection, who started it and from where, its status,
counts, errors, write-concern errors and elapsed seconds. They are for the log (a file, a pipe,
journald), not for a person at a terminal: a command keeps them off it (`off_the_terminal`)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from bulkadmin.models import Job

logger = logging.getLogger("bulkadmin.jobs")


def started(job: Job) -> None:
    _log("job_started", job)


def finished(job: Job) -> None:
    concerns = len(job.details.get("write_concern_errors", ()))
    _log(
        "job_finished",
        job,
        counts=job.counts,
        rows=job.rows_done,
        errors=job.error_count,
        write_concern_errors=concerns,
        message=job.message,
    )


def record(job: Job) -> dict[str, Any]:
    """The fields every job line carries."""
    user = job.user if job.user_id else None
    return {
        "job": job.pk,
        "kind": job.kind,
        "collection": job.collection,
        "user": user.get_username() if user is not None else None,
        "origin": job.origin,
        "dry_run": job.dry_run,
        "status": job.status,
        "elapsed": round(job.elapsed, 3) if job.elapsed is not None else None,
    }


def _log(event: str, job: Job, **extra: Any) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    line = {"event": event, **record(job), **extra}
    logger.info(json.dumps(line, default=str, ensure_ascii=False, sort_keys=False))


@contextlib.contextmanager
def off_the_terminal(*, show: bool = False) -> Iterator[None]:
    """While a command shows its own output, keep job lines off the handlers that write to a
    terminal; handlers writing to a file, a pipe or journald still get them. `show` (the command's
    `--verbosity 2`) leaves them on the terminal too."""
    handlers = [] if show else [handler for handler in _handlers_of(logger) if _writes_to_terminal(handler)]
    for handler in handlers:
        handler.addFilter(_not_a_job_line)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(_not_a_job_line)


def _not_a_job_line(record: logging.LogRecord) -> bool:
    return record.name != logger.name


def _handlers_of(source: logging.Logger) -> list[logging.Handler]:
    """The handlers a record logged on `source` reaches (its own, then its parents' while it propagates)."""
    handlers: list[logging.Handler] = []
    current: logging.Logger | None = source
    while current is not None:
        handlers.extend(current.handlers)
        current = current.parent if current.propagate else None
    return handlers


def _writes_to_terminal(handler: logging.Handler) -> bool:
    isatty = getattr(getattr(handler, "stream", None), "isatty", None)
    if isinstance(handler, logging.FileHandler) or not callable(isatty):
        return False
    try:
        return bool(isatty())
    except ValueError:  # a closed stream
        return False
