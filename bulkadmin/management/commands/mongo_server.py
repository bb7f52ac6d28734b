"""`manage.py mongo_server start|stop|status`: manage the embedded development MongoDB server."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin import devserver
from bulkadmin.core import conf
from bulkadmin.core.exceptions import EmbeddedServerError


class Command(BaseCommand):
    help = "Start, stop or show the embedded development MongoDB server (used when MONGODB_URI is empty)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"], help="What to do.")

    def handle(self, *args: object, action: str, **options: object) -> None:
        var_dir = conf.embedded_dir()
        if conf.mongodb_uri() and action == "start":
            raise CommandError("MONGODB_URI is set, so the embedded server is not used.")
        if action == "start":
            try:
                state = devserver.ensure_running(var_dir)
            except EmbeddedServerError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"running: pid {state.pid}, {state.uri} (data in {state.data_dir})")
        elif action == "stop":
            stopped = devserver.stop(var_dir)
            self.stdout.write("stopped" if stopped else "not running")
        else:
            found = devserver.status(var_dir)
            self.stdout.write(f"running: pid {found.pid}, {found.uri}" if found else "not running")
