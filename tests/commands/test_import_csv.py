"""`manage.py import_csv`: through `call_command`, and as a real process (stdin, exit status,
SIGTERM and kill -9 followed by --resume)."""

from __future__ import annotations

import datetime as dt
import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bulkadmin.models import Job
from tests.imports.conftest import CORPUS, user_rows, write_csv
from tests.jobs.machines import lease, lease_expiry
from tests.processes import fetch_one, manage_environment

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def call(*arguments: str, stderr: io.StringIO | None = None, **options) -> tuple[str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    call_command("import_csv", *arguments, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_a_clean_import_prints_one_summary_line(db):
    out, err = call("users", str(CORPUS / "bom.csv"))
    job = Job.objects.get()
    assert out.strip() == out.strip().splitlines()[0]
    assert out.startswith("users: 2 rows read: 2 inserted, 0 updated, 0 unchanged, 0 deleted, 0 rejected, 0 failed in ")
    assert out.strip().endswith(f"rows/s), job {job.pk}")
    assert err == ""
    assert db.users.count_documents({}) == 2


def test_rejected_rows_exit_non_zero_after_the_summary_and_the_errors(db):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"^2 row\(s\) rejected \(job \d+\); first at line 3: "):
        call_command("import_csv", "users", str(CORPUS / "ragged.csv"), stdout=out, stderr=err)
    assert "2 rows inserted" not in out.getvalue()
    assert "4 rows read: 2 inserted" in out.getvalue()
    assert "errors: " in out.getvalue()
    assert err.getvalue().splitlines()[:2] == [
        "rejected: line 3: 2 cells, but the header has 3",
        "rejected: line 4: 4 cells, but the header has 3",
    ]


def test_verbosity_zero_prints_only_the_summary(db):
    out, err = io.StringIO(), TTY()
    with pytest.raises(CommandError):
        call_command("import_csv", "users", str(CORPUS / "ragged.csv"), stdout=out, stderr=err, verbosity=0)
    assert len(out.getvalue().splitlines()) == 1
    assert err.getvalue() == ""


def test_a_progress_bar_is_drawn_on_a_terminal(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(30))
    _, err = call("users", str(path), "--batch-size", "10", stderr=TTY())
    assert "\r[" in err and "rows/s" in err and "ETA" in err
    assert err.endswith("\n")


def test_usage_errors(db):
    with pytest.raises(CommandError, match="Unknown collection 'usrs'. Registered collections: .*users"):
        call("usrs", str(CORPUS / "bom.csv"))
    with pytest.raises(CommandError, match="Name a collection and a file"):
        call("users")
    with pytest.raises(CommandError, match="--resume takes the job's own options; do not pass --mode"):
        call("--resume", "1", "--mode", "merge")
    with pytest.raises(CommandError, match="There is no job 42"):
        call("--resume", "42")
    finished = Job.objects.create(kind=Job.Kind.IMPORT, collection="users", status=Job.Status.SUCCEEDED)
    with pytest.raises(CommandError, match=f"Job {finished.pk} imported into 'users', not 'file_records'"):
        call("file_records", "x.csv", "--resume", str(finished.pk))
    with pytest.raises(CommandError, match=f"Job {finished.pk} has finished \\(succeeded\\)"):
        call("--resume", str(finished.pk))
    with pytest.raises(
        CommandError, match=r"line 1: bad header: columns 2 and 4 are both named 'email' \(job \d+\)\.$"
    ):
        call("users", str(CORPUS / "duplicate_headers.csv"))
    with pytest.raises(CommandError, match="Unknown encoding 'klingon'"):
        call("users", str(CORPUS / "bom.csv"), "--encoding", "klingon")


def test_an_option_error_is_worded_with_its_flag(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(2))
    with pytest.raises(
        CommandError, match=r"^--key: Only the upsert, merge and delete modes take key fields, not insert\.$"
    ):
        call("users", str(path), "--key", "email")
    with pytest.raises(
        CommandError, match=r"^--map: The mapping names no column: 'Nope' \(columns: name, email, age\)"
    ):
        call("users", str(path), "--map", "Nope=name")
    assert db.users.count_documents({}) == 0


def test_options_reach_the_import(db, tmp_path):
    path = write_csv(tmp_path / "p.txt", "Who;Mail;Since", ["Ada;ada@example.com;31/12/2025", "Bob;bob@example.com;"])
    errors = tmp_path / "errors.csv"
    out, _ = call(
        "users",
        str(path),
        "--format",
        "csv",
        "--delimiter",
        ";",
        "--map",
        "Who=name",
        "--map",
        "Mail=email",
        "--map",
        "Since=last_login",
        "--date-format",
        "%d/%m/%Y",
        "--mode",
        "merge",
        "--key",
        "email",
        "--ignore-blanks",
        "--errors",
        str(errors),
        "--batch-size",
        "1",
        "--limit",
        "2",
    )
    assert "2 rows read: 2 inserted" in out
    assert db.users.find_one({"email": "ada@example.com"})["last_login"].year == 2025
    assert db.users.find_one({"email": "bob@example.com"})["last_login"] is None
    job = Job.objects.get()
    assert job.parameters["mapping"] == {"Who": "name", "Mail": "email", "Since": "last_login"}
    assert (job.parameters["mode"], job.parameters["key_fields"], job.details["delimiter"]) == ("merge", ["email"], ";")
    assert errors.read_text() == "error,Who,Mail,Since\n"


# Real processes --------------------------------------------------------------------------------

LEASE_SECONDS = 3


@pytest.fixture
def env(db, mongo_uri, tmp_path, process_database_url):
    """The environment of a `manage.py` process using this test's MongoDB database."""
    return manage_environment(
        mongo_uri=mongo_uri,
        database=db.name,
        database_url=process_database_url,
        jobs_dir=tmp_path / "jobs",
        BULKADMIN_LEASE_SECONDS=str(LEASE_SECONDS),  # a killed process's job is free this soon
    )


def manage(env, *arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "import_csv", *arguments],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def job_row(env) -> tuple | None:
    """(id, status, last_committed_row) of the process's job, read from its database."""
    return fetch_one(env["DATABASE_URL"], "SELECT id, status, last_committed_row FROM bulkadmin_job")


@pytest.mark.subprocess
def test_a_real_process_imports_a_file_and_stdin(db, env):
    done = manage(env, "users", str(CORPUS / "bom.csv"))
    assert done.returncode == 0, done.stderr
    assert "2 rows read: 2 inserted" in done.stdout
    piped = manage(env, "users", "-", stdin="name,email\nPiped,piped@example.com\n")
    assert piped.returncode == 0, piped.stderr
    assert db.users.count_documents({}) == 3
    failed = manage(env, "users", str(CORPUS / "ragged.csv"))
    assert failed.returncode == 1
    assert "CommandError: 2 row(s) rejected and 1 row(s) failed (job" in failed.stderr  # ada@ came with bom.csv


def start_big_import(env, tmp_path, rows: int, batch_size: int = 100) -> tuple[subprocess.Popen, Path]:
    path = write_csv(tmp_path / "big.csv", "name,email,age", user_rows(rows))
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_csv", "users", str(path), "--batch-size", str(batch_size)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for the first checkpoint
        row = job_row(env)
        if row and row[2]:
            return process, path
        if process.poll() is not None:
            pytest.fail(f"the import ended before it could be interrupted: {process.communicate()}")
        time.sleep(0.05)
    process.kill()
    pytest.fail("no checkpoint within 60 s")


def resume_when_free(env, job_id: int) -> subprocess.CompletedProcess:
    """`--resume`, refused (naming the holder) while the killed process's lease has not expired."""
    name = f"job-{job_id}"
    expires = lease_expiry(env["DATABASE_URL"], name) if lease(env["DATABASE_URL"], name) else None
    deadline = time.monotonic() + LEASE_SECONDS + 120
    while time.monotonic() < deadline:
        began = dt.datetime.now(dt.UTC)
        done = manage(env, "--resume", str(job_id))
        if f"Job {job_id} is still running on host " not in done.stderr:
            return done
        assert done.returncode == 1 and expires is not None and began < expires, done.stderr
        time.sleep(0.2)
    pytest.fail(f"job {job_id} could not be resumed after its lease expired")


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGKILL])
@pytest.mark.subprocess
def test_an_import_killed_part_way_resumes_with_no_duplicates_and_no_gaps(db, env, tmp_path, sent):
    # The first batch is checkpointed at once; the signal follows within a poll, long before the
    # last of 60 batches of 500 rows.
    rows = 30_000
    process, _ = start_big_import(env, tmp_path, rows, batch_size=500)
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=60)
    job_id, status, committed = job_row(env)
    stored = db.users.count_documents({})
    assert 0 < committed < rows
    if sent == signal.SIGTERM:  # stopped cleanly after the batch being written
        assert process.returncode == 1
        assert f"Import interrupted (job {job_id}); continue with --resume {job_id}." in stderr
        assert (status, stored) == ("interrupted", committed)
    else:  # no chance to record anything: the job still says running, rows past the checkpoint exist
        assert (status, stored >= committed) == ("running", True)

    resumed = resume_when_free(env, job_id)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{rows:,} rows read: {rows:,} inserted" in resumed.stdout
    assert f"resumed after row {committed:,}" in resumed.stdout
    emails = sorted(doc["email"] for doc in db.users.find({}, {"email": 1}))
    assert emails == sorted(f"user{n}@example.com" for n in range(rows))
    assert job_row(env)[1] == "succeeded"
