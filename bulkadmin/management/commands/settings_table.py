"""`manage.py settings_table [--docs [FILE]]`: bulkadmin's settings as the Markdown table of docs/settings.md."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin.core import conf
from bulkadmin.core.settings_table import replace_documented_table

DOCS = Path("docs") / "settings.md"


class Command(BaseCommand):
    help = "Print bulkadmin's settings table (Markdown), or write it into a docs page between its markers."
    requires_system_checks: list[str] = []  # the table is wanted most when a setting is wrong

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--docs",
            type=Path,
            nargs="?",
            const=DOCS,
            help=f"Replace the table in this file (without a file: {DOCS}) instead of printing it.",
        )

    def handle(self, *args: object, docs: Path | None, **options: object) -> None:
        table = conf.SETTINGS.markdown()
        if docs is None:
            self.stdout.write(table, ending="")
            return
        try:
            text = docs.read_text(encoding="utf-8")
            docs.write_text(replace_documented_table(text, table), encoding="utf-8")
        except (OSError, ValueError) as error:
            raise CommandError(f"{docs}: {error}") from error
        self.stdout.write(f"{docs}: settings table written ({len(list(conf.SETTINGS))} settings).")
