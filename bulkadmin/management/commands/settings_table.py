"""`manage.py settings_table [--readme README.md]`: bulkadmin's settings as the README's Markdown table."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin.core import conf
from bulkadmin.core.settings_table import replace_documented_table


class Command(BaseCommand):
    help = "Print bulkadmin's settings table (Markdown), or write it into a README between its markers."
    requires_system_checks: list[str] = []  # the table is wanted most when a setting is wrong

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--readme", type=Path, help="Replace the table in this file instead of printing it.")

    def handle(self, *args: object, readme: Path | None, **options: object) -> None:
        table = conf.SETTINGS.markdown()
        if readme is None:
            self.stdout.write(table, ending="")
            return
        try:
            text = readme.read_text(encoding="utf-8")
            readme.write_text(replace_documented_table(text, table), encoding="utf-8")
        except (OSError, ValueError) as error:
            raise CommandError(f"{readme}: {error}") from error
        self.stdout.write(f"{readme}: settings table written ({len(list(conf.SETTINGS))} settings).")
