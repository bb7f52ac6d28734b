"""`manage.py seed_demo`: load reproducible demo data into every example collection."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.management.arguments import non_negative_int
from project.demo_data import flush_demo, has_users, seed_demo


class Command(BaseCommand):
    help = "Fill every example collection with realistic, reproducible demo data (same --seed, same data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=non_negative_int, default=2000, help="Users (default: %(default)s).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default: %(default)s).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when users already has documents.")
        parser.add_argument("--flush", action="store_true", help="Delete the example collections' documents first.")

    def handle(self, *args: object, users: int, seed: int, if_empty: bool, flush: bool, **options: object) -> None:
        existing = has_users()
        if existing and if_empty:
            self.stdout.write(f"users already holds {existing} document(s); demo data not loaded.")
            return
        if existing and not flush:
            raise CommandError(f"users already holds {existing} document(s); pass --flush to replace them.")
        try:
            if flush:
                self.stdout.write(f"Deleted {flush_demo()} existing document(s).")
            result = seed_demo(users=users, seed=seed)
        except BulkAdminError as error:
            raise CommandError(f"seeding failed: {error}") from error
        for collection, count in result.counts.items():
            self.stdout.write(f"{collection}: {count} document(s)")
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {result.total} documents in {result.elapsed:.1f}s."))
