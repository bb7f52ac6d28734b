"""Exports as jobs, through the runner: the one place the command line, the web and the tasks
start them. The job row keeps the options, the progress and the result.

A queued export (the web's Export…) writes its file to the job files' storage
(`<job id>/<collection>.<ext>`, see `jobs.files`), where it is kept as long as an upload
(`BULKADMIN_UPLOAD_MAX_AGE_HOURS` after the job finished) and then deleted (`purge_exports`)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.utils import timezone
from pymongo.database import Database

from bulkadmin.core import conf
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.registry import site
from bulkadmin.jobs import files
from bulkadmin.jobs.runner import JobRun, run_job
from bulkadmin.models import Job
from bulkadmin.operations.exports import export_documents, formats
from bulkadmin.operations.exports.run import check_export
from bulkadmin.operations.progress import Progress
from bulkadmin.operations.results import OperationResult

logger = logging.getLogger("bulkadmin.jobs")
PROGRESS_SECONDS = 1.0  # the job row's progress is saved at most this often
STORED_FILE = "stored_file"  # the detail naming a queued export's file in the job files' storage
PURGED = "deleted_file"  # the detail naming that file instead once it was deleted


@dataclass(frozen=True)
class ExportParameters:
    """A queued export: `export_documents`' options as the job keeps them (the filter with model
    field names; no fields: every field of the model), and `selection`, what the browse page
    carried, in words, for the job page."""

    format: str = "csv"
    fields: tuple[str, ...] = ()
    filter: dict[str, Any] = field(default_factory=dict)
    sort: str = ""
    limit: int | None = None
    extended_json: bool = False
    selection: tuple[str, ...] = ()

    def to_parameters(self) -> dict[str, Any]:
        parameters = dataclasses.asdict(self)
        return {**parameters, "fields": list(self.fields), "selection": list(self.selection)}

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> ExportParameters:
        known = {name: parameters[name] for name in ("format", "filter", "sort", "limit") if parameters.get(name)}
        fields = parameters.get("fields") or ()
        fields = fields.split(",") if isinstance(fields, str) else fields
        return cls(
            **known,
            fields=tuple(name.strip() for name in fields if name.strip()),
            extended_json=bool(parameters.get("extended_json")),
            selection=tuple(parameters.get("selection") or ()),
        )

    def options(self) -> dict[str, Any]:
        """The keyword arguments of `export_documents` and `check_export`."""
        return {
            "format": self.format,
            "filter": self.filter,
            "fields": list(self.fields) or None,
            "sort": self.sort or None,
            "limit": self.limit,
            "extended_json": self.extended_json,
        }


def check_export_parameters(model: type[MongoModel], parameters: ExportParameters) -> None:
    """Refuse (`ExportError`, naming the option) what the export would refuse, before it is queued."""
    check_export(model, "-", **parameters.options())


def run_queued_export(job: Job) -> OperationResult:
    """Run a queued export job: its file is written to the job files' storage, kept for download
    until it expires (`export_file`)."""
    parameters = ExportParameters.from_parameters(job.parameters)
    model = site.get(job.collection)
    extension = formats.detect("-", parameters.format).extensions[0]
    name = f"{job.pk}/{model.collection}-{job.pk}{extension}"

    def export(run: JobRun) -> OperationResult:
        with _stored_output(name) as path:
            result = export_documents(
                model=model,
                destination=path,
                read_seconds=_read_seconds(),
                progress=_reporter(run, None),
                **parameters.options(),
            )
        details = {**result.details, "file": Path(name).name, STORED_FILE: name}  # the user knows it by its name
        return dataclasses.replace(result, details=details)

    return run_job(export, kind=job.kind, job=job)


def expires_at(job: Job) -> dt.datetime | None:
    """When a queued export's file is deleted: `BULKADMIN_UPLOAD_MAX_AGE_HOURS` after the job finished."""
    if job.finished_at is None:
        return None
    return job.finished_at + dt.timedelta(hours=conf.upload_max_age_hours())


def export_file(job: Job, now: dt.datetime | None = None) -> str | None:
    """The storage name of the file a finished export job wrote, while it is kept; else None."""
    name = job.details.get(STORED_FILE) if job.kind == Job.Kind.EXPORT else None
    until = expires_at(job)
    if not name or until is None or (now or timezone.now()) >= until:
        return None
    return name if files.storage().exists(name) else None


def wrote_file(job: Job) -> bool:
    """Whether `job` is a queued export that wrote a file (kept or since deleted)."""
    return job.kind == Job.Kind.EXPORT and bool(job.details.get(STORED_FILE) or job.details.get(PURGED))


def purge_exports(now: dt.datetime | None = None) -> int:
    """Delete the files of the exports finished more than `BULKADMIN_UPLOAD_MAX_AGE_HOURS` ago
    (marking their jobs); return how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=conf.upload_max_age_hours())
    deleted = 0
    old = Job.objects.filter(kind=Job.Kind.EXPORT, finished_at__lt=cutoff, details__has_key=STORED_FILE)
    for job in old.only("pk", "details"):
        details = dict(job.details)
        name = details.pop(STORED_FILE)
        try:
            with contextlib.suppress(FileNotFoundError):
                files.storage().delete(name)
        except (OSError, SuspiciousFileOperation) as error:  # the others are still deleted; this one next time
            logger.warning("job %s: the export file %r could not be deleted: %s", job.pk, name, error)
            continue
        job.details = {**details, PURGED: name}
        job.save(update_fields=["details"])
        deleted += 1
    return deleted


@contextlib.contextmanager
def _stored_output(name: str) -> Iterator[Path]:
    """Where to write the file stored as `name`: in place on a local storage, else a temporary
    file saved to the storage once written."""
    path = files.local_path(name)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="bulkadmin-") as folder:
        local = Path(folder) / Path(name).name
        yield local
        files.save(name, local)


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
            model=model,
            destination=destination,
            read_seconds=_read_seconds(),
            progress=_reporter(run, progress),
            db=db,
            **options,
        ),
        kind=Job.Kind.EXPORT,
        collection=model.collection,
        parameters=parameters,
        origin=origin,
        user=user,
    )


def _read_seconds() -> float:
    """The time limit of each read of an export (`BULKADMIN_USER_READ_MAX_TIME_MS`), in seconds."""
    return conf.user_read_max_time_ms() / 1000


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
