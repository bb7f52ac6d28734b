"""Exports as jobs, through the runner: the one place the command line (and later the web and
the tasks) starts them. The job row keeps the options, the progress and the result."""

from __future__ import annotations

import os
import time
from typing import Any

from pymongo.database import Database

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.registry import site
from bulkadmin.jobs.runner import JobRun, run_job
from bulkadmin.models import Job
from bulkadmin.operations.exports import export_documents
from bulkadmin.operations.exports.run import check_export
from bulkadmin.operations.progress import Progress
from bulkadmin.operations.results import OperationResult

PROGRESS_SECONDS = 1.0  # the job row's progress is saved at most this often


def export_job(
    *,
    model: type[MongoModel] | str,
    destination: str | os.PathLike[str] | Any,
    origin: str = Job.Origin.CLI,
    user: Any = None,
    progress: Progress | None = None,
    db: Database | None = None,
    **options: Any,
) -> OperationResult:
    """Export `model`'s documents (`export_documents`' options) as an `export` job."""
    model = site.get(model) if isinstance(model, str) else model
    check_export(model, destination, **{k: v for k, v in options.items() if k != "batch_size"})  # before the job starts
    file = os.fspath(destination) if isinstance(destination, (str, os.PathLike)) else "<stream>"
    parameters = {"file": file, **{name: value for name, value in options.items() if value not in (None, False)}}
    return run_job(
        lambda run: export_documents(
            model=model, destination=destination, progress=_reporter(run, progress), db=db, **options
        ),
        kind=Job.Kind.EXPORT,
        collection=model.collection,
        parameters=parameters,
        origin=origin,
        user=user,
    )


def _reporter(run: JobRun, shown: Progress | None) -> Progress:
    """The job's progress (saved at most once a second; it raises `Cancelled` when a user asked to
    stop) and the caller's (a progress bar)."""
    saved_at = 0.0

    def report(done: int, total: int | None) -> None:
        nonlocal saved_at
        if shown is not None:
            shown(done, total)
        now = time.monotonic()
        if now - saved_at >= PROGRESS_SECONDS:
            saved_at = now
            run.progress(done, total)

    return report
