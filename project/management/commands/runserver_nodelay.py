"""`manage.py runserver_nodelay`: Django's `runserver` (with static files) that answers without
waiting. `runserver` writes a response in several small packets with Nagle's algorithm on, so on
a kept-alive connection each response waited about 40 ms for the browser's delayed ACK; here each
connection sets TCP_NODELAY, as gunicorn does. `rundev` serves the web admin with it."""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.core.servers.basehttp import WSGIRequestHandler


class Command(RunserverCommand):
    help = "Django's runserver with TCP_NODELAY on each connection (no 40 ms wait per response)."

    def handle(self, *args: Any, **options: Any) -> None:
        WSGIRequestHandler.disable_nagle_algorithm = True
        super().handle(*args, **options)
