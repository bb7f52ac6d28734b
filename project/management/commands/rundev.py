"""`manage.py rundev`: the whole product on one machine — embedded MongoDB, a task worker and
the web admin — with a staff login printed; Ctrl-C (or SIGTERM) stops them all."""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkadmin import devserver
from bulkadmin.core import conf
from bulkadmin.core.mongo import get_uri
from bulkadmin.management.arguments import positive_int

HOST = "127.0.0.1"
STOP_SECONDS = 10  # a child's grace after Ctrl-C before it is killed


class Command(BaseCommand):
    help = "Start the embedded MongoDB server, a task worker and the web admin together (development)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=port_number, default=8000, help="Web port (default: %(default)s).")
        parser.add_argument("--no-worker", action="store_true", help="Do not start a task worker.")

    def handle(self, *args: object, port: int, no_worker: bool, **options: object) -> None:
        _check_port(port)
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        call_command("migrate", interactive=False, verbosity=0)
        owns_mongo = not conf.mongodb_uri() and devserver.status(conf.embedded_dir()) is None
        self.stdout.write(f"MongoDB: {get_uri()}")
        call_command("ensure_indexes", verbosity=0, stdout=io.StringIO())
        for name in ("seed_demo",):
            if _has_command(name):
                call_command(name, "--if-empty")
        username, password = _staff_login()
        processes: dict[str, subprocess.Popen] = {}
        try:
            if not no_worker:
                processes["The task worker"] = _spawn("db_worker")
            processes["The web server"] = _spawn("runserver_nodelay", f"{HOST}:{port}", "--noreload")
            self.stdout.write(self.style.SUCCESS(f"\nbulkadmin is running at http://{HOST}:{port}/admin/"))
            self.stdout.write(f"Log in as {username} / {password}   (Ctrl-C stops everything)\n")
            ended = _wait(processes)
        finally:
            _stop(list(processes.values()))
            if owns_mongo:
                call_command("mongo_server", "stop")
        if ended is not None:
            status = processes[ended].returncode
            raise CommandError(f"{ended} stopped (exit status {status}), so rundev stopped everything.")


def port_number(value: str) -> int:
    """An argparse `type`: a TCP port, 1 to 65535."""
    number = positive_int(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1 to 65535)")
    return number


def _check_port(port: int) -> None:
    """Refuse a port the web server could not listen on, before anything is started or printed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server binds
        try:
            probe.bind((HOST, port))
        except OSError as error:
            reason = "is already in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror})"
            raise CommandError(
                f"Port {port} on {HOST} {reason}; choose another with --port, e.g. rundev --port {port + 1}"
                f" (make run PORT={port + 1})."
            ) from None


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
    """A `manage.py` child in a process group of its own, so that stopping it also stops the
    processes it starts (the worker's autoreloader runs the worker in a grandchild)."""
    return subprocess.Popen([sys.executable, "manage.py", *arguments], cwd=settings.BASE_DIR, process_group=0)


def _wait(processes: dict[str, subprocess.Popen]) -> str | None:
    """Until a child ends (its name is returned) or Ctrl-C / SIGTERM arrives (None)."""
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    return name
            time.sleep(0.5)
    except KeyboardInterrupt:
        return None


def _stop(processes: list[subprocess.Popen]) -> None:
    """Ctrl-C to every child's process group, then SIGKILL to the groups still running after
    `STOP_SECONDS`: no process rundev started (or they started) is left running."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for process in processes:
        _signal_group(process, signal.SIGINT)
    _wait_for_groups(processes, STOP_SECONDS)
    for process in processes:
        if _group_alive(process):
            _signal_group(process, signal.SIGKILL)
    _wait_for_groups(processes, STOP_SECONDS)


def _wait_for_groups(processes: list[subprocess.Popen], seconds: float) -> None:
    """Until no process of the children's groups is left, or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    for process in processes:
        while time.monotonic() < deadline:
            process.poll()  # reaps the child itself once it has exited
            if process.returncode is not None and not _group_alive(process):
                break
            time.sleep(0.05)


def _signal_group(process: subprocess.Popen, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, number)


def _group_alive(process: subprocess.Popen) -> bool:
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True
