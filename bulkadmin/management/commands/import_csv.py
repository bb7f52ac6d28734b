"""`manage.py import_csv`: import a file in any registered format (CSV, TSV, JSON, NDJSON, XLSX) into a
registered collection."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from pymongo.errors import ConnectionFailure

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.core.registry import site
from bulkadmin.jobs import files, joblog, watch
from bulkadmin.jobs.imports import import_file, resume_import
from bulkadmin.jobs.runner import UNAVAILABLE, JobsDatabaseUnavailable, database_cause
from bulkadmin.jobs.summaries import summary
from bulkadmin.management.arguments import positive_int, worded
from bulkadmin.management.progress import ProgressLine, plain
from bulkadmin.management.results import not_confirmed
from bulkadmin.models import Job
from bulkadmin.operations.imports import MODES, ImportProgress
from bulkadmin.operations.imports.formats import formats
from bulkadmin.operations.progress import Cancelled
from bulkadmin.operations.results import OperationResult

SHOWN_ERRORS = 20
IMPORT_OPTIONS = (
    "mode",
    "key",
    "batch_size",
    "dry_run",
    "stop_on_error",
    "errors",
    "format",
    "encoding",
    "delimiter",
    "sheet",
    "map",
    "ignore_blanks",
    "limit",
    "date_format",
    "extended_json",
)
FLAGS = {"key_fields": "--key", "mapping": "--map", "errors_path": "--errors"}  # the others are --option-name


class Command(BaseCommand):
    help = (
        f"Import a file ({', '.join(f.label for f in formats)}) into a registered collection, validating every "
        "row with the collection's model. Recorded as a job; an interrupted import continues with --resume."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("collection", nargs="?", help="A registered collection's name, e.g. users.")
        parser.add_argument("file", nargs="?", help="The file to import, or - for standard input.")
        parser.add_argument(
            "--mode",
            choices=list(MODES),
            help=(
                "insert (default); upsert or replace (replace whole documents by key); merge ($set the file's "
                "fields by key); delete (by key)."
            ),
        )
        parser.add_argument(
            "--key",
            action="extend",
            nargs="+",
            metavar="FIELD",
            help="Key field(s) for upsert, merge and delete (default: the model's key fields).",
        )
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            metavar="N",
            help="Rows per batch (default: the collection admin's batch_size, 1000 unless set).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Validate every row and count; write nothing.")
        parser.add_argument("--stop-on-error", action="store_true", help="Stop at the first bad row.")
        parser.add_argument(
            "--errors", metavar="PATH", help="Write the bad rows, each with an error column, to this CSV file."
        )
        parser.add_argument(
            "--format", choices=formats.names(), help="The file's format (default: from its extension)."
        )
        parser.add_argument("--encoding", metavar="E", help="The file's encoding (default: detected).")
        parser.add_argument(
            "--delimiter", metavar="D", help="The CSV delimiter: , ; | or tab (default: detected; tab for .tsv)."
        )
        parser.add_argument("--sheet", metavar="NAME", help="The XLSX worksheet to read (default: the first).")
        parser.add_argument(
            "--map",
            action="append",
            metavar="HEADER=FIELD",
            help="Import column HEADER into FIELD (dotted for sub-documents); HEADER= leaves the column out.",
        )
        parser.add_argument(
            "--ignore-blanks", action="store_true", help="Leave empty cells out instead of using the field's default."
        )
        parser.add_argument("--limit", type=positive_int, metavar="N", help="Import only the first N rows.")
        parser.add_argument(
            "--date-format", metavar="FMT", help="strptime format of dates (e.g. %%d/%%m/%%Y); ISO 8601 is always read."
        )
        parser.add_argument(
            "--extended-json",
            action="store_true",
            help="JSON / NDJSON: read MongoDB Extended JSON ($oid, $date, ...), as export_data --extended-json "
            "and mongoexport write it.",
        )
        parser.add_argument("--resume", type=int, metavar="JOB_ID", help="Continue an interrupted import job.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        with joblog.off_the_terminal(show=self.verbosity >= 2):
            try:
                self._handle(options)
            except UNAVAILABLE as error:  # before or after a job: nothing to resume
                cause = f"Django's database, where jobs are recorded, could not be used ({database_cause(error)})."
                raise CommandError(cause) from None

    def _handle(self, options: dict[str, Any]) -> None:
        self._ensure_job_table()
        watch.mark_gone_here()  # a job whose process on this machine ended is not left running
        self.bar = ProgressLine(self.stderr, verbosity=self.verbosity, problem_style=self.style.WARNING)
        with _graceful_interrupts() as interrupts:
            self.interrupts = interrupts
            try:
                result = self._import(options)
            except (KeyboardInterrupt, SystemExit, ConnectionFailure, Cancelled) as error:
                self.bar.end()
                job_id = getattr(error, "job_id", None)
                reason = "cancelled" if isinstance(error, Cancelled) else "interrupted"
                if isinstance(error, ConnectionFailure):
                    reason = f"interrupted: lost the MongoDB server ({str(error).splitlines()[0][:200]})"
                resume = f"; continue with --resume {job_id}" if job_id and reason != "cancelled" else ""
                raise CommandError(f"Import {reason}{f' (job {job_id})' if job_id else ''}{resume}.") from error
            except JobsDatabaseUnavailable as error:
                self.bar.end()
                raise CommandError(_unwritable(error)) from error
            except BulkAdminError as error:
                self.bar.end()
                job_id = getattr(error, "job_id", None)
                message = worded(error, FLAGS).rstrip(".")
                raise CommandError(f"{message} (job {job_id})." if job_id else f"{message}.") from error
        self.bar.end()
        self._report(result)

    def _ensure_job_table(self) -> None:
        """On a fresh clone Django's tables do not exist yet: create them (jobs are recorded)."""
        if Job._meta.db_table not in connection.introspection.table_names():
            if self.verbosity >= 1:
                self.stderr.write("bulkadmin: creating Django's tables (manage.py migrate) to record jobs.", plain)
            call_command("migrate", verbosity=0, interactive=False)

    def _import(self, options: dict[str, Any]) -> OperationResult:
        progress = self._progress
        if options["resume"] is not None:
            given = [f"--{name.replace('_', '-')}" for name in IMPORT_OPTIONS if options[name] not in (None, False)]
            if given:
                raise CommandError(f"--resume takes the job's own options; do not pass {', '.join(given)}.")
            job = Job.objects.filter(pk=options["resume"]).first()
            if job is not None and options["collection"] and options["collection"] != job.collection:
                raise CommandError(f"Job {job.pk} imported into {job.collection!r}, not {options['collection']!r}.")
            # A file named again is read instead of the job's (moved, or stdin); it must be the same file.
            if options["file"]:
                _check_readable(options["file"])
            return resume_import(options["resume"], source=options["file"] or None, progress=progress)
        if not options["collection"] or not options["file"]:
            raise CommandError("Name a collection and a file (or - for stdin), e.g. import_csv users people.csv.")
        model = site.get(options["collection"])
        _check_readable(options["file"])
        return import_file(
            model=model,
            source=options["file"],
            mode=options["mode"] or "insert",
            key_fields=options["key"],
            batch_size=options["batch_size"] or site.admin(model.collection).batch_size,
            dry_run=options["dry_run"],
            stop_on_error=options["stop_on_error"],
            errors_path=options["errors"],
            format=options["format"],
            encoding=options["encoding"],
            delimiter=_delimiter(options["delimiter"]),
            sheet=options["sheet"],
            mapping=options["map"],
            ignore_blanks=options["ignore_blanks"],
            limit=options["limit"],
            date_format=options["date_format"],
            extended_json=options["extended_json"],
            progress=progress,
        )

    # Progress --------------------------------------------------------------------------------
    def _progress(self, state: ImportProgress) -> None:
        if self.interrupts.requested:
            raise KeyboardInterrupt(f"stopped by {self.interrupts.requested} after row {state.rows}")
        counts = state.state.counts
        problems = [f"{counts[what]:,} {what}" for what in ("rejected", "failed") if counts.get(what)]
        self.bar.update(
            state.rows,
            fraction=state.fraction,
            problems=", ".join(problems),
            elapsed=state.elapsed,
            done_this_run=state.rows_this_run,
        )

    # The report ------------------------------------------------------------------------------
    def _report(self, result: OperationResult) -> None:
        error_file, stopped_at = result.details["error_file"], result.details["stopped_at"]
        if self.verbosity >= 1:
            shown = result.errors if self.verbosity >= 2 else result.errors[:SHOWN_ERRORS]
            for error in shown:
                self.stderr.write(f"{error.outcome}: {error}")
            if result.error_count > len(shown):
                self.stderr.write(f"... and {result.error_count - len(shown):,} more in {_openable(error_file)}")
        self.stdout.write(summary(result))
        if self.verbosity >= 1 and error_file:
            self.stdout.write(f"errors: {_openable(error_file)}")
        if stopped_at is not None:
            raise CommandError(f"Stopped at the first bad row, {stopped_at}")
        concern = not_confirmed(result)
        if concern and not (result.counts.rejected or result.failed):
            raise CommandError(concern)
        if not result.ok:
            first = result.errors[0] if result.errors else None
            where = f"; first at {first}" if first else ""
            file = f"; all in {_openable(error_file)}" if error_file else ""
            bad = [
                f"{count:,} row(s) {what}"
                for count, what in ((result.counts.rejected, "rejected"), (result.failed, "failed"))
            ]
            raise CommandError(
                f"{' and '.join(b for b in bad if not b.startswith('0 '))} (job {result.job_id}){where}{file}"
                + (f"; {concern}" if concern else "")
            )


def _unwritable(error: JobsDatabaseUnavailable) -> str:
    """What to do after Django's database refused the import part way."""
    job = error.job_id
    if error.recorded:
        return f"Import interrupted (job {job}): {error} The job is marked interrupted; continue with --resume {job}."
    return (
        f"Import interrupted (job {job}): {error} The job shows running until a command or worker on this "
        f"machine sees this process has ended; once the database can be written, continue with --resume {job}."
    )


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    return {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(value.lower(), value)


def _check_readable(file: str) -> None:
    """Refuse a file that cannot be opened before any job is recorded for it (`-` is standard input)."""
    if file == "-":
        return
    try:
        with open(file, "rb"):
            pass
    except OSError as error:
        raise CommandError(f"Cannot read {file!r}: {error.strerror or error}.") from None


def _openable(error_file: str) -> str:
    """Where the user opens an import's error file: their own `--errors` file, or the job's file
    in the jobs' storage, as a full path on this machine (a remote storage: its name there)."""
    if Path(error_file).is_file():
        return str(Path(error_file).resolve())
    local = files.local_path(error_file)
    return str(local) if local is not None else f"{error_file} (in the job files' storage)"


class _Interrupts:
    requested: str | None = None


@contextmanager
def _graceful_interrupts() -> Iterator[_Interrupts]:
    """Ctrl-C and SIGTERM stop the import after the batch being written (a second one stops it at
    once), so the job's last committed row is exact. Only in the main thread."""
    state = _Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(number: int, frame: Any) -> None:
        if state.requested:
            raise KeyboardInterrupt
        state.requested = signal.Signals(number).name

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
