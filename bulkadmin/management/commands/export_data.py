"""`manage.py export_data`: export a registered collection to a file in any export format (CSV,
TSV, JSON, NDJSON, XLSX) that `import_csv --mode merge` reads back unchanged."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pymongo.errors import ConnectionFailure

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs.exports import export_job
from bulkadmin.jobs.summaries import summary
from bulkadmin.management.arguments import positive_int, worded
from bulkadmin.operations.exports import formats
from bulkadmin.operations.progress import Cancelled

BAR_INTERVAL = 0.1


def _sort_joined(args: list[str]) -> list[str]:
    """`--sort -x` as `--sort=-x`."""
    joined: list[str] = []
    for position, arg in enumerate(args):
        if position and args[position - 1] == "--sort" and arg.startswith("-") and joined[-1] == "--sort":
            joined[-1] = f"--sort={arg}"
        else:
            joined.append(arg)
    return joined


class Command(BaseCommand):
    help = (
        f"Export a registered collection ({', '.join(f.label for f in formats)}), every document or those "
        "matching --filter, in a file that import_csv --mode merge reads back unchanged. Recorded as a job."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """The parser, reading `--sort -last_login` as `--sort=-last_login` (argparse would take
        `-last_login` for an option)."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parse_args = parser.parse_args

        def parse(args: Sequence[str] | None = None, namespace: Any = None) -> Any:
            return parse_args(_sort_joined(list(args) if args is not None else sys.argv[2:]), namespace)

        parser.parse_args = parse  # type: ignore[method-assign,assignment]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("collection", help="A registered collection's name, e.g. users.")
        parser.add_argument("file", help="The file to write, or - for standard output.")
        parser.add_argument(
            "--format",
            metavar="FORMAT",
            help=f"{' | '.join(formats.names())} (default: from the file's extension; csv for standard output).",
        )
        parser.add_argument(
            "--filter",
            metavar="JSON",
            help='Only the documents matching this filter, with model field names, e.g. \'{"age": {"$gte": 30}}\'.',
        )
        parser.add_argument(
            "--fields",
            metavar="A,B",
            help="The fields to export, e.g. name,email,profile.bio (default: every field of the model).",
        )
        parser.add_argument(
            "--sort", metavar="FIELDS", help="The order: fields, - for descending, e.g. -last_login,name (default: id)."
        )
        parser.add_argument("--limit", type=positive_int, metavar="N", help="Export at most N documents.")
        parser.add_argument(
            "--extended-json",
            action="store_true",
            help="JSON / NDJSON: canonical Extended JSON ($oid, $date, ...) with the stored keys, types kept.",
        )
        parser.add_argument(
            "--batch-size", type=positive_int, default=1000, metavar="N", help="Documents per read (default 1000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        self.to_stdout = options["file"] == "-"
        self._bar_shown, self._bar_at, self._started = False, 0.0, time.monotonic()
        try:
            result = export_job(
                model=options["collection"],
                destination=options["file"],
                format=options["format"],
                filter=options["filter"],
                fields=options["fields"],
                sort=options["sort"],
                limit=options["limit"],
                extended_json=options["extended_json"],
                batch_size=options["batch_size"],
                progress=self._progress,
            )
        except (KeyboardInterrupt, SystemExit, ConnectionFailure, Cancelled) as error:
            self._end_bar()
            job_id = getattr(error, "job_id", None)
            reason = "cancelled" if isinstance(error, Cancelled) else "interrupted"
            raise CommandError(
                f"Export {reason}{f' (job {job_id})' if job_id else ''}; no file was written."
            ) from error
        except BulkAdminError as error:
            self._end_bar()
            job_id = getattr(error, "job_id", None)
            message = worded(error).rstrip(".")
            raise CommandError(f"{message} (job {job_id})." if job_id else f"{message}.") from error
        self._end_bar()
        (self.stderr if self.to_stdout else self.stdout).write(summary(result))

    def _progress(self, done: int, total: int | None) -> None:
        if self.verbosity < 1 or not self.stderr.isatty():
            return
        now = time.monotonic()
        if now - self._bar_at < BAR_INTERVAL:
            return
        self._bar_at = now
        elapsed = now - self._started
        speed = done / elapsed if elapsed > 0 else 0.0
        bar = ""
        if total:
            fraction = min(done / total, 1.0)
            bar = f"[{'#' * int(fraction * 30)}{'.' * (30 - int(fraction * 30))}] {fraction:6.1%} "
        self.stderr.write(f"\r{bar}{done:,} documents  {speed:,.0f} docs/s   ", ending="")
        self.stderr.flush()
        self._bar_shown = True

    def _end_bar(self) -> None:
        if self._bar_shown:
            self.stderr.write("")
            self._bar_shown = False
