"""`manage.py sync_external`: upsert records from a declared HTTP API source, recorded as a job."""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs.locks import LockHeld
from bulkadmin.jobs.runs import last_synced_at, sync_job
from bulkadmin.management.arguments import worded
from bulkadmin.operations.sync import SyncFailed, SyncResult, sources

ERRORS_SHOWN = 10


def iso_datetime(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date or datetime (e.g. 2026-01-31T12:00)") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


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
            job, result = sync_job(
                source=declared,
                full=options["full"],
                since=options["since"],
                mark_missing=options["mark_missing"],
                dry_run=options["dry_run"],
            )
        except SyncFailed as error:
            self._report(error.result)
            where = f" (job #{error.job.pk})" if error.job is not None else ""
            raise CommandError(f"{error}{where}; documents already written stay, and a re-run converges.") from error
        except LockHeld as error:
            raise CommandError(str(error)) from error
        except BulkAdminError as error:
            raise CommandError(f"sync {source!r}: {worded(error)}") from error
        self._report(result)
        self.stdout.write(f"Job #{job.pk}: {job.get_status_display().lower()}.")

    def _list(self) -> None:
        for name, source in sorted(sources.all().items()):
            last = last_synced_at(source)
            since = f"last synced {last:%Y-%m-%d %H:%M} UTC" if last else "never synced"
            url = source.default_url or "-"
            self.stdout.write(f"{name}: {source.model.collection} from ${source.url_env} (default {url}); {since}")
            if source.description:
                self.stdout.write(f"   {source.description}")

    def _report(self, result: SyncResult) -> None:
        scope = f"updated since {result.since.isoformat()}" if result.since else "full"
        counts = (
            f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}, "
            f"rejected {result.rejected}, marked missing {result.marked_missing}"
        )
        dry = " (dry run, nothing written)" if result.dry_run else ""
        self.stdout.write(
            f"{result.source} ({scope}): {result.records} record(s) in {result.pages} page(s): {counts}"
            f" in {result.elapsed:.2f}s{dry}."
        )
        for error in result.errors[:ERRORS_SHOWN]:
            self.stdout.write(f"  record {error.index}: {error.message}")
        if len(result.errors) > ERRORS_SHOWN:
            self.stdout.write(f"  ... and {len(result.errors) - ERRORS_SHOWN} more (see the job's errors).")
