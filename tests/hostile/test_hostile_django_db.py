"""Django's database (the jobs' own) becomes unwritable in the middle of `manage.py import_csv`.

On SQLite another process holds an exclusive lock on the file (a backup, a stuck writer); on
PostgreSQL the database turns read-only and its sessions are ended (a fail-over to a standby).
The command ends with a message naming the cause, the job and how to resume, exit status 1 and no
traceback; once the database is writable again the job is not left `running` (the next command
on this machine sees its process is gone), and `--resume` imports exactly the rest."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.imports.conftest import user_rows, write_csv
from tests.processes import fetch_one

pytestmark = [pytest.mark.django_db, pytest.mark.subprocess]

ROOT = Path(__file__).resolve().parents[2]
ROWS = 30_000


@pytest.fixture
def env(db, mongo_uri, tmp_path, process_database_url) -> dict[str, str]:
    """A `manage.py` process's environment: this test's MongoDB database, a Django database of its own."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": db.name,
        "DATABASE_URL": process_database_url,
        "BULKADMIN_JOBS_DIR": str(tmp_path / "jobs"),
    }


def job_row(url: str, job_id: int | None = None) -> tuple | None:
    """(id, status, last committed row, message) of the job `job_id` (default: the first one)."""
    where = f" WHERE id = {int(job_id)}" if job_id is not None else ""
    return fetch_one(url, f"SELECT id, status, last_committed_row, message FROM bulkadmin_job{where} ORDER BY id")


def wait_for_checkpoint(url: str, process: subprocess.Popen) -> int:
    """The job's id once its first batch is checkpointed."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = job_row(url)
        if row and row[2]:
            return int(row[0])
        if process.poll() is not None:
            pytest.fail(f"the import ended before its database was made unwritable: {process.communicate()}")
        time.sleep(0.05)
    process.kill()
    pytest.fail("no checkpoint within 60 s")


@contextlib.contextmanager
def unwritable(url: str) -> Iterator[None]:
    """Django's database at `url` refuses every write for the body's duration."""
    if urlsplit(url).scheme == "sqlite":
        with _sqlite_locked(url.removeprefix("sqlite:///")):
            yield
        return
    with _postgres_read_only(url):
        yield


@contextlib.contextmanager
def _sqlite_locked(path: str) -> Iterator[None]:
    """Another connection holds an exclusive lock on the file: every other reader and writer waits
    out its timeout, then fails with "database is locked"."""
    locker = sqlite3.connect(path, timeout=30, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        locker.execute("ROLLBACK")
        locker.close()


@contextlib.contextmanager
def _postgres_read_only(url: str) -> Iterator[None]:
    """The database turns read-only and its open sessions are ended, as after a fail-over to a
    standby: reconnecting works, writing does not."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        try:
            yield
        finally:
            admin.execute("SET default_transaction_read_only = off")
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')


class Import:
    """`manage.py import_csv` of ROWS users as a real process, its standard error read as it comes."""

    def __init__(self, env: dict[str, str], source: Path) -> None:
        arguments = ["users", str(source), "--batch-size", "200"]
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "import_csv", *arguments],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for_line(self, text: str) -> None:
        deadline = time.monotonic() + 60
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"no line with {text!r} on standard error: {''.join(self.lines)}")
            time.sleep(0.05)

    def end(self) -> str:
        """Its standard error once it has ended."""
        self.process.wait(timeout=120)
        self.reader.join(timeout=10)
        return "".join(self.lines)


def manage(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "manage.py", "import_csv", *arguments]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def assert_resumes_exactly(db, env: dict[str, str], job_id: int) -> None:
    """`--resume` imports the rest: every row once, none twice."""
    resumed = manage(env, "--resume", str(job_id))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{ROWS:,} rows read: {ROWS:,} inserted" in resumed.stdout
    emails = sorted(doc["email"] for doc in db.users.find({}, {"email": 1}))
    assert emails == sorted(f"user{n}@example.com" for n in range(ROWS))
    assert job_row(env["DATABASE_URL"], job_id)[1] == "succeeded"


REFUSED = "Django's database, where jobs are recorded, could not be written ("


def test_an_import_whose_django_database_stays_unwritable_ends_cleanly_and_resumes_exactly(db, env, tmp_path):
    url = env["DATABASE_URL"]
    running = Import(env, write_csv(tmp_path / "big.csv", "name,email,age", user_rows(ROWS)))
    job_id = wait_for_checkpoint(url, running.process)
    with unwritable(url):
        stderr = running.end()
    assert running.process.returncode == 1
    assert "Traceback" not in stderr
    assert f"CommandError: Import interrupted (job {job_id}): {REFUSED}" in stderr
    assert (
        "The job shows running until a command or worker on this machine sees this process has ended; "
        f"once the database can be written, continue with --resume {job_id}." in stderr
    )
    assert job_row(url, job_id)[1] == "running"  # it could not say otherwise

    checked = manage(env, "users", str(write_csv(tmp_path / "one.csv", "name,email", ["A,a@example.com"])), "--dry-run")
    assert checked.returncode == 0, checked.stderr  # any import on this machine marks the job at once
    _, status, committed, message = job_row(url, job_id)
    assert status == "interrupted"
    assert message.startswith(f"Interrupted after {committed} rows: its process on host ")
    assert message.endswith(f"(pid {running.process.pid}) is no longer running.")
    assert_resumes_exactly(db, env, job_id)


def test_an_import_whose_django_database_refuses_for_a_moment_records_its_end(db, env, tmp_path):
    url = env["DATABASE_URL"]
    running = Import(env, write_csv(tmp_path / "big.csv", "name,email,age", user_rows(ROWS)))
    job_id = wait_for_checkpoint(url, running.process)
    with unwritable(url):
        running.wait_for_line(f"job {job_id}: recording its end (interrupted) failed; trying again for up to")
    stderr = running.end()
    assert running.process.returncode == 1
    assert "Traceback" not in stderr
    assert (
        f"CommandError: Import interrupted (job {job_id}): {REFUSED}" in stderr
        and f"The job is marked interrupted; continue with --resume {job_id}." in stderr
    )
    _, status, committed, message = job_row(url, job_id)
    assert status == "interrupted" and message.startswith("Interrupted: Django's database could not be written (")
    assert db.users.count_documents({}) == committed  # the job records what was written
    assert_resumes_exactly(db, env, job_id)
