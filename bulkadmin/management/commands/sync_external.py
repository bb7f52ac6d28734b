"""`manage.py sync_external`: upsert records from a declared HTTP API source, recorded as a job."""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import joblog, sources
from bulkadmin.jobs.leases import LeaseHeld
from bulkadmin.jobs.runs import last_synced_at, sync_job
from bulkadmin.jobs.summaries import summary
from bulkadmin.management.arguments import worded
from bulkadmin.management.progress import ProgressLine, showing_job_progress
from bulkadmin.management.results import not_confirmed
from bulkadmin.models import Job
from bulkadmin.operations.results import OperationResult, SyncCounts
from bulkadmin.operations.sync import SyncFailed

ERRORS_SHOWN = 10


def iso_datetime(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date or datetime (e.g. 2026-01-31T12:00)") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _rejected(result: OperationResult[SyncCounts]) -> str:
    """The one-line reason a sync with rejected records exits non-zero, like `import_csv`'s."""
    first = result.errors[0] if result.errors else None
    where = f"; first at record {first.index}: {first.message}" if first else ""
    return f"{result.counts.rejected:,} record(s) rejected (job #{result.job_id}){where}".splitlines()[0]


class Command(BaseCommand):
    help = "Sync documents from an external HTTP API source: upsert by key, count created/updated/unchanged/rejected."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", help="The source's name (see --list).")
        parser.add_argument("--dry-run", action="store_true", help="Fetch and count; write nothing.")
        parser.add_argument("--full", action="store_true", help="Fetch every record, not only those updated since.")
        parser.add_argument("--since", type=iso_datetime, help="Fetch records updated since this ISO datetime (UTC).")
        parser.add_argument(
            "--mark-missing",
            action="store_true",
            help="Full sync; flag the source's documents absent from the feed inactive (never deletes).",
        )
        parser.add_argument("--list", action="store_true", help="List the declared sources and exit.")

    def handle(self, *args: object, source: str | None, **options) -> None:
        if not source and not options["list"]:
            raise CommandError("Name a source to sync (see --list).")
        try:
            if options["list"] or source is None:
                self._list()
                return
            declared = sources.get(source)
            self.stdout.write(f"Syncing {declared.name} from {declared.url} into {declared.model.collection} ...")
            line = ProgressLine(self.stderr, verbosity=options["verbosity"], unit="records")
            with joblog.off_the_terminal(show=options["verbosity"] >= 2), showing_job_progress(line, Job.Kind.SYNC):
                result = sync_job(
                    source=declared, mode=_mode(options), since=options["since"], dry_run=options["dry_run"]
                )
        except SyncFailed as error:
            self._report(error.result)
            where = f" (job #{error.job.pk})" if error.job is not None else ""
            told = f"{error}{where}; documents already written stay, and a re-run converges."
            raise CommandError(" ".join([told, not_confirmed(error.result)]).strip()) from error
        except LeaseHeld as error:
            raise CommandError(str(error)) from error
        except BulkAdminError as error:
            raise CommandError(f"sync {source!r}: {worded(error)}") from error
        self._report(result)
        self.stdout.write(f"Job #{result.job_id}: {Job.Status(result.status).label.lower()}.")
        problems = [_rejected(result)] if result.counts.rejected else []
        if result.write_concern_errors:
            problems.append(not_confirmed(result))
        if problems:
            raise CommandError("; ".join(problems))

    def _list(self) -> None:
        for name, source in sorted(sources.declared().items()):
            last = last_synced_at(source)
            since = f"last synced {last:%Y-%m-%d %H:%M} UTC" if last else "never synced"
            url = source.default_url or "-"
            self.stdout.write(f"{name}: {source.model.collection} from ${source.url_env} (default {url}); {since}")
            if source.description:
                self.stdout.write(f"   {source.description}")

    def _report(self, result: OperationResult) -> None:
        self.stdout.write(summary(result))
        for error in result.errors[:ERRORS_SHOWN]:
            self.stdout.write(f"  record {error.index}: {error.message}")
        if result.error_count > ERRORS_SHOWN:
            self.stdout.write(f"  ... and {result.error_count - ERRORS_SHOWN} more (see the job's errors).")


def _mode(options: dict[str, object]) -> str:
    """The sync's mode from the flags: --mark-missing, --full, else incremental (--since)."""
    if options["mark_missing"]:
        return "mark_missing"
    return "full" if options["full"] else "incremental"
