"""`manage.py sync_external` exits non-zero with a one-line reason when any record was rejected,
like `import_csv`: through `call_command` and as a real process."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bulkadmin.models import Job
from tests.feed_server import serve, users_source
from tests.processes import manage_environment

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def record(number: int, **fields) -> dict:
    return {"id": number, "name": f"Partner {number}", "email": f"p{number}@partner.example", **fields}


@pytest.fixture
def feed(settings, tmp_path):
    for server in serve():
        settings.BULKADMIN_SYNC_SOURCES = {"partners": users_source(f"{server.url}/users")}
        yield server


def test_rejected_records_raise_a_one_line_reason_after_the_report(db, feed):
    feed.pages("/users", [[record(1), record(2, email="broken")], [record(3, name="")]])
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("sync_external", "partners", stdout=out)
    job = Job.objects.get()
    reason = str(raised.value)
    assert reason.startswith(f"2 record(s) rejected (job #{job.pk}); first at record 1: id 2: email: ")
    assert "\n" not in reason
    assert "created 1, updated 0, unchanged 0, rejected 2" in out.getvalue()
    assert f"Job #{job.pk}: partially failed." in out.getvalue()
    assert db.users.count_documents({}) == 1


def test_a_dry_run_with_rejected_records_fails_too(db, feed):
    feed.pages("/users", [[record(1, email="broken")]])
    with pytest.raises(CommandError, match=r"^1 record\(s\) rejected \(job #\d+\); first at record 0: id 1: email: "):
        call_command("sync_external", "partners", "--dry-run", stdout=io.StringIO())
    assert db.users.count_documents({}) == 0


def test_a_clean_sync_exits_normally(db, feed):
    feed.pages("/users", [[record(1), record(2)]])
    out = io.StringIO()
    call_command("sync_external", "partners", stdout=out)
    assert "created 2, updated 0, unchanged 0, rejected 0" in out.getvalue()


@pytest.mark.subprocess
def test_a_real_process_exits_1_with_the_reason_on_stderr(db, mongo_uri, tmp_path):
    for server in serve():
        server.on("/users", {"data": [], "total_pages": 1})
        server.on("/users", {"data": [record(1), record(2, email="broken")], "total_pages": 1}, page="1")
        env = manage_environment(
            mongo_uri=mongo_uri,
            database=db.name,
            database_url=f"sqlite:///{tmp_path / 'django.sqlite3'}",
            jobs_dir=tmp_path / "jobs",
            DEMO_FEED_URL=f"{server.url}/users",
            LOG_LEVEL="WARNING",  # no job log lines: stderr is the reason alone
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
        done = subprocess.run(
            [sys.executable, "manage.py", "sync_external", "demo_users"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1, done.stderr
    assert "created 1, updated 0, unchanged 0, rejected 1" in done.stdout
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("CommandError: 1 record(s) rejected (job #1); first at record 1: id 2: email: ")
    assert db.users.count_documents({"external_id": 1}) == 1
