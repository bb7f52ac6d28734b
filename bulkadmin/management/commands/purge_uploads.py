"""`manage.py purge_uploads`: delete the web Import's abandoned uploads and the web Export's expired files."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bulkadmin.jobs.exports import purge_exports
from bulkadmin.jobs.uploads import purge_uploads


class Command(BaseCommand):
    help = (
        "Delete uploads older than BULKADMIN_UPLOAD_MAX_AGE_HOURS (default 24) that no queued or running import "
        "uses, and the files of web exports that finished longer ago than that."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-age-hours", type=float, help="Delete uploads older than this (hours).")

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_uploads(options["max_age_hours"])
        self.stdout.write(f"{purged.uploads} upload(s) deleted, {purged.bytes:,} bytes freed.")
        self.stdout.write(f"{purge_exports()} expired export file(s) deleted.")
