"""`manage.py rundev`: the whole product on one machine — embedded MongoDB, a task worker and
the web admin — with a staff login printed; Ctrl-C stops them all."""

from __future__ import annotations

import io
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from bulkadmin import devserver
from bulkadmin.core import conf
from bulkadmin.core.mongo import get_uri


class Command(BaseCommand):
    help = "Start the embedded MongoDB server, a task worker and the web admin together (development)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web port (default: %(default)s).")
        parser.add_argument("--no-worker", action="store_true", help="Do not start a task worker.")

    def handle(self, *args: object, port: int, no_worker: bool, **options: object) -> None:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        call_command("migrate", interactive=False, verbosity=0)
        owns_mongo = not conf.mongodb_uri() and devserver.status(conf.embedded_dir()) is None
        self.stdout.write(f"MongoDB: {get_uri()}")
        call_command("ensure_indexes", verbosity=0, stdout=io.StringIO())
        for name in ("seed_demo",):
            if _has_command(name):
                call_command(name, "--if-empty")
        username, password = _staff_login()
        processes = [] if no_worker else [_spawn("db_worker")]
        processes.append(_spawn("runserver_nodelay", f"127.0.0.1:{port}", "--noreload"))
        self.stdout.write(self.style.SUCCESS(f"\nbulkadmin is running at http://127.0.0.1:{port}/admin/"))
        self.stdout.write(f"Log in as {username} / {password}   (Ctrl-C stops everything)\n")
        _wait(processes, stop_mongo=owns_mongo)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _staff_login() -> tuple[str, str]:
    """A superuser for development; its password is kept under var/ so it stays the same."""
    password_file = conf.var_dir() / "admin-password.txt"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(9))
    password = password_file.read_text().strip()
    user_model = get_user_model()
    user = user_model.objects.filter(username="admin").first() or user_model(username="admin")
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return "admin", password


def _has_command(name: str) -> bool:
    from django.core.management import get_commands

    return name in get_commands()


def _spawn(*arguments: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *arguments], cwd=settings.BASE_DIR)


def _wait(processes: list[subprocess.Popen], stop_mongo: bool) -> None:
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if stop_mongo:
            call_command("mongo_server", "stop")
