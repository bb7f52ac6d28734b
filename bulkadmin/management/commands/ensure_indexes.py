"""`manage.py ensure_indexes`: create every registered collection's declared indexes."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pymongo.errors import OperationFailure

from bulkadmin.core.exceptions import NotRegistered
from bulkadmin.core.mongo import get_db
from bulkadmin.core.registry import ensure_indexes, site


class Command(BaseCommand):
    help = "Create the unique key index and declared indexes of every registered collection (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("collections", nargs="*", help="Collection names (default: all registered).")

    def handle(self, *args: object, collections: list[str], **options: object) -> None:
        db = get_db()
        try:
            models = [site.get(name) for name in collections] if collections else list(site)
        except NotRegistered as error:
            raise CommandError(str(error)) from error
        for model in models:
            try:
                names = ensure_indexes(model, db)
            except OperationFailure as error:
                raise CommandError(f"{model.collection}: could not create indexes: {error}") from error
            self.stdout.write(f"{model.collection}: {', '.join(names) or 'no indexes declared'}")
