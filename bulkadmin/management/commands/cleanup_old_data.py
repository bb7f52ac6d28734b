"""`manage.py cleanup_old_data`: run the declared cleanup rules (or preview them) as a job."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import joblog
from bulkadmin.jobs.leases import LeaseHeld
from bulkadmin.jobs.runs import cleanup_job
from bulkadmin.jobs.summaries import summary
from bulkadmin.management.arguments import positive_int, worded
from bulkadmin.management.progress import ProgressLine, showing_job_progress
from bulkadmin.management.results import not_confirmed
from bulkadmin.models import Job
from bulkadmin.operations.cleanup import UnknownRule, rules


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
        line = ProgressLine(self.stderr, verbosity=options["verbosity"], unit="documents")
        try:
            selected = rules.select(rule_names)
            with joblog.off_the_terminal(show=options["verbosity"] >= 2), showing_job_progress(line, Job.Kind.CLEANUP):
                result = cleanup_job(rules=selected, dry_run=dry_run, batch_size=batch_size)
        except (UnknownRule, LeaseHeld) as error:
            raise CommandError(str(error)) from error
        except BulkAdminError as error:
            raise CommandError(f"cleanup failed: {worded(error)}") from error
        self.stdout.write(summary(result))
        self.stdout.write(f"Job #{result.job_id}: {Job.Status(result.status).label.lower()}.")
        failed = result.details["failed_rules"]
        problems = [f"{len(failed)} rule(s) failed: {', '.join(failed)}."] if failed else []
        if result.write_concern_errors:
            problems.append(not_confirmed(result))
        if problems:
            raise CommandError(" ".join(problems))

    def _list(self) -> None:
        for number, rule in enumerate(rules, start=1):
            self.stdout.write(f"{number}. {rule.name}: {rule.describe()}")
            if rule.description:
                self.stdout.write(f"   {rule.description}")
