"""`manage.py demo_feed`: serve the demo partner-users API on 127.0.0.1 for `sync_external demo_users`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from project.demo_feed import DEFAULT_PORT, demo_records, make_server


class Command(BaseCommand):
    help = "Serve a small paged JSON API of users on 127.0.0.1 (offline demo for sync_external demo_users)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="Port (default: %(default)s).")
        parser.add_argument("--records", type=int, default=120, help="Records served (default: %(default)s).")

    def handle(self, *args: object, port: int, records: int, **options: object) -> None:
        try:
            server = make_server(port, demo_records(records))
        except OSError as error:
            raise CommandError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from error
        url = f"http://127.0.0.1:{server.server_port}/users"
        self.stdout.write(f"Serving {records} demo users at {url} (Ctrl-C stops).")
        if server.server_port != DEFAULT_PORT:
            self.stdout.write(f"Sync with: DEMO_FEED_URL={url} python manage.py sync_external demo_users")
        else:
            self.stdout.write("Sync with: python manage.py sync_external demo_users")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
