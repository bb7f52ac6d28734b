"""One machine-readable log line (JSON, on the `bulkadmin.jobs` logger) for every job that starts
or ends: which job, what kind, on which collection, who started it and from where, its status,
counts, errors, write-concern errors and elapsed seconds."""

from __future__ import annotations

import json
import logging
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
