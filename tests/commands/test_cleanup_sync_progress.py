"""`cleanup_old_data` and `sync_external` show progress while they run (the same line as
`import_csv`'s), and keep job log lines off a terminal."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from bulkadmin.bulk import bulk_insert
from project.collections import UserSession
from tests.factories import days_ago
from tests.feed_server import serve, users_source

pytestmark = pytest.mark.django_db

JOB_LINE = '{"event": "job_'


class Console:
    """Standard output and a terminal's standard error, written in one order."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str]] = []
        self.stdout, self.stderr = self._stream("out", tty=False), self._stream("err", tty=True)

    def _stream(self, name: str, *, tty: bool) -> io.StringIO:
        console = self

        class Stream(io.StringIO):
            def write(self, text: str) -> int:
                console.writes.append((name, text))
                return super().write(text)

            def isatty(self) -> bool:
                return tty

        return Stream()

    def drawn_before(self, summary: str) -> list[str]:
        """The progress lines drawn on standard error before `summary` was printed."""
        out_before = ""
        drawn = []
        for name, text in self.writes:
            if name == "out":
                out_before += text
                if summary in out_before:
                    return drawn
            elif text.startswith("\r"):
                drawn.append(text)
        raise AssertionError(f"{summary!r} was never printed: {self.writes}")


@pytest.fixture
def terminal_log() -> Iterator[io.StringIO]:
    class TTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = TTY()
    handler = logging.StreamHandler(stream)
    logging.getLogger("bulkadmin").addHandler(handler)
    yield stream
    logging.getLogger("bulkadmin").removeHandler(handler)


@pytest.fixture
def expired_sessions(db):
    bulk_insert(UserSession, [{"token": f"t{n}", "expires_at": days_ago(400)} for n in range(6)])
    return db


def test_cleanup_draws_its_progress_while_it_runs(expired_sessions, terminal_log):
    console = Console()
    call_command(
        "cleanup_old_data",
        "--rule",
        "expired_sessions",
        "--batch-size",
        "2",
        stdout=console.stdout,
        stderr=console.stderr,
    )
    drawn = console.drawn_before("expired_sessions: deleted 6")
    assert drawn and drawn[0].startswith("\r2 documents  ") and "documents/s" in drawn[0]
    assert console.stderr.getvalue().endswith("\n")
    assert "\x1b[" not in console.stderr.getvalue()
    assert expired_sessions.user_sessions.count_documents({}) == 0
    assert JOB_LINE not in terminal_log.getvalue()


def test_cleanup_draws_nothing_when_standard_error_is_not_a_terminal(expired_sessions):
    err = io.StringIO()
    call_command(
        "cleanup_old_data", "--rule", "expired_sessions", "--batch-size", "2", stdout=io.StringIO(), stderr=err
    )
    assert err.getvalue() == ""


@pytest.fixture
def feed(settings):
    for server in serve():
        settings.BULKADMIN_SYNC_SOURCES = {"partners": users_source(f"{server.url}/users")}
        pages = [[{"id": n, "name": f"P {n}", "email": f"p{n}@partner.example"}] for n in range(1, 4)]
        server.pages("/users", pages)
        yield server


def test_sync_draws_its_progress_while_it_runs(db, feed, terminal_log):
    console = Console()
    call_command("sync_external", "partners", stdout=console.stdout, stderr=console.stderr)
    drawn = console.drawn_before("partners (full): 3 record(s)")
    assert drawn and drawn[0].startswith("\r1 records  ") and "records/s" in drawn[0]
    assert console.stderr.getvalue().endswith("\n")
    assert db.users.count_documents({}) == 3
    assert JOB_LINE not in terminal_log.getvalue()


def test_sync_shows_job_lines_at_verbosity_two(db, feed, terminal_log):
    call_command("sync_external", "partners", stdout=io.StringIO(), stderr=io.StringIO(), verbosity=2)
    assert terminal_log.getvalue().count(JOB_LINE) == 2
