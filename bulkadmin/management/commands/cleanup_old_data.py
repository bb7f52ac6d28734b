"""`manage.py cleanup_old_data`: run the declared cleanup rules (or preview them) as a job."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs.locks import LockHeld
from bulkadmin.jobs.runs import cleanup_job
from bulkadmin.management.arguments import positive_int, worded
from bulkadmin.operations.cleanup import CleanupResult, UnknownRule, rules


class Command(BaseCommand):
    help = "Run the declared cleanup rules in order (delete, update or archive old data), recorded as a job."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what each rule would touch; write nothing.")
        parser.add_argument(
            "--rule", action="append", dest="rule_names", metavar="NAME", help="Run only this rule (repeatable)."
        )
        parser.add_argument("--list", action="store_true", help="List the declared rules and exit.")
        parser.add_argument(
            "--batch-size", type=positive_int, default=1000, help="Documents per write (default: %(default)s)."
        )

    def handle(self, *args: object, dry_run: bool, rule_names: list[str] | None, batch_size: int, **options) -> None:
        if options["list"]:
            self._list()
            return
        try:
            selected = rules.select(rule_names)
            job, result = cleanup_job(rules=selected, dry_run=dry_run, batch_size=batch_size)
        except (UnknownRule, LockHeld) as error:
            raise CommandError(str(error)) from error
        except BulkAdminError as error:
            raise CommandError(f"cleanup failed: {worded(error)}") from error
        self._report(result)
        self.stdout.write(f"Job #{job.pk}: {job.get_status_display().lower()}.")
        if not result.ok:
            raise CommandError(f"{len(result.failed_rules)} rule(s) failed: {', '.join(result.failed_rules)}.")

    def _list(self) -> None:
        for number, rule in enumerate(rules, start=1):
            self.stdout.write(f"{number}. {rule.name}: {rule.describe()}")
            if rule.description:
                self.stdout.write(f"   {rule.description}")

    def _report(self, result: CleanupResult) -> None:
        for item in result.rules:
            if not item.ok:
                self.stdout.write(self.style.ERROR(f"{item.rule}: FAILED after {item.seconds:.2f}s: {item.error}"))
            elif result.dry_run:
                self.stdout.write(f"{item.rule}: would {item.action} {item.matched} document(s) in {item.collection}")
            else:
                counts = f"deleted {item.deleted}, modified {item.modified}, archived {item.archived}"
                self.stdout.write(f"{item.rule}: {counts} in {item.seconds:.2f}s")
        totals = result.totals()
        if result.dry_run:
            self.stdout.write(f"Total: {totals['matched']} document(s) would be touched (dry run, nothing written).")
        else:
            counts = f"deleted {totals['deleted']}, modified {totals['modified']}, archived {totals['archived']}"
            self.stdout.write(f"Total: {counts} in {result.elapsed:.2f}s.")
