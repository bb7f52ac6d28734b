"""What `import_csv` shows a person at a terminal: a plain progress bar (coloured only for rejected
or failed rows), no job log lines (they are for the log), an error file path that opens, and a
mistyped file name refused before any job is recorded."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bulkadmin.models import Job
from bulkadmin.operations.imports import MODES
from tests.commands.terminal import on_terminal, piped
from tests.imports.conftest import CORPUS, user_rows, write_csv

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
JOB_LINE = '{"event": "job_'


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


@pytest.fixture
def terminal_log() -> Iterator[TTY]:
    """A log handler writing to a terminal, as the project's console handler does when a person
    runs a command."""
    stream = TTY()
    handler = logging.StreamHandler(stream)
    target = logging.getLogger("bulkadmin")
    target.addHandler(handler)
    yield stream
    target.removeHandler(handler)


# The progress bar ----------------------------------------------------------------------------


def bar_of(stderr: str) -> str:
    return "".join(part for part in stderr.split("\r") if "rows/s" in part)


@pytest.mark.subprocess
def test_the_progress_bar_of_a_healthy_import_is_plain_on_a_terminal(db, manage_env, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(30))
    ran = on_terminal(manage_env, "import_csv", "users", str(path), "--batch-size", "10")
    assert ran.returncode == 0, ran.stderr
    assert "rows/s" in ran.stderr and "ETA" in ran.stderr
    assert not COLOUR.search(ran.stderr), repr(ran.stderr)
    assert db.users.count_documents({}) == 30


@pytest.mark.subprocess
def test_the_progress_bar_is_coloured_and_says_so_once_rows_are_rejected(db, manage_env, tmp_path):
    rows = [*user_rows(10), "Bad,not-an-email,20", *user_rows(10, start=10)]
    path = write_csv(tmp_path / "p.csv", "name,email,age", rows)
    ran = on_terminal(manage_env, "import_csv", "users", str(path), "--batch-size", "5")
    assert ran.returncode == 1
    bar = bar_of(ran.stderr)
    assert "1 rejected" in bar and COLOUR.search(bar), repr(ran.stderr)
    first = bar.split("rows/s")[0]  # the first batches were clean: their bar is plain
    assert not COLOUR.search(first), repr(ran.stderr)


def test_the_bar_is_drawn_only_on_a_terminal_and_at_verbosity_one_or_more(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(30))
    for stream, verbosity, drawn in ((io.StringIO(), 1, False), (TTY(), 0, False), (TTY(), 1, True)):
        call_command("import_csv", "users", str(path), stdout=io.StringIO(), stderr=stream, verbosity=verbosity)
        assert ("rows/s" in stream.getvalue()) is drawn
        db.users.delete_many({})


# Job log lines ---------------------------------------------------------------------------------


@pytest.mark.subprocess
def test_job_log_lines_stay_off_the_terminal_unless_verbosity_two(db, manage_env):
    quiet = on_terminal(manage_env, "import_csv", "users", str(CORPUS / "bom.csv"))
    assert quiet.returncode == 0, quiet.stderr
    assert JOB_LINE not in quiet.stderr + quiet.stdout
    assert "2 rows read: 2 inserted" in quiet.stdout
    db.users.delete_many({})
    verbose = on_terminal(manage_env, "import_csv", "users", str(CORPUS / "bom.csv"), "-v", "2")
    assert verbose.returncode == 0, verbose.stderr
    assert '{"event": "job_started"' in verbose.stderr and '{"event": "job_finished"' in verbose.stderr


@pytest.mark.subprocess
def test_job_log_lines_still_reach_a_log_that_is_not_a_terminal(db, manage_env):
    ran = piped(manage_env, "import_csv", "users", str(CORPUS / "bom.csv"))
    assert ran.returncode == 0, ran.stderr
    assert '{"event": "job_started"' in ran.stderr and '{"event": "job_finished"' in ran.stderr


def test_a_terminal_log_handler_gets_job_lines_only_at_verbosity_two(db, terminal_log):
    call_command("import_csv", "users", str(CORPUS / "bom.csv"), stdout=io.StringIO(), stderr=io.StringIO())
    assert JOB_LINE not in terminal_log.getvalue()
    db.users.delete_many({})
    call_command(
        "import_csv", "users", str(CORPUS / "bom.csv"), stdout=io.StringIO(), stderr=io.StringIO(), verbosity=2
    )
    assert terminal_log.getvalue().count(JOB_LINE) == 2


def test_a_terminal_log_handler_still_gets_other_warnings_during_a_command(db, terminal_log):
    def warn(state: object) -> None:
        logging.getLogger("bulkadmin.operations").warning("something to see")

    from bulkadmin.jobs import joblog

    with joblog.off_the_terminal():
        logging.getLogger("bulkadmin.jobs").info('{"event": "job_started"}')
        warn(None)
    assert terminal_log.getvalue() == "something to see\n"


# The error file ----------------------------------------------------------------------------------


def test_the_error_file_is_printed_as_a_path_that_opens(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the jobs folder: a storage name would not open from here
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_csv", "users", str(CORPUS / "ragged.csv"), stdout=out, stderr=err)
    job = Job.objects.get()
    shown = re.search(r"^errors: (.+)$", out.getvalue(), re.MULTILINE)
    assert shown is not None, out.getvalue()
    path = Path(shown.group(1))
    assert path.is_absolute() and path.is_file()
    assert path == (tmp_path / "jobs" / str(job.pk) / "errors.csv").resolve()
    assert path.read_text().startswith("error,")
    assert f"; all in {path}" in str(raised.value)


def test_an_errors_file_given_is_printed_as_its_full_path(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_csv", "users", str(CORPUS / "ragged.csv"), "--errors", "bad.csv", stdout=out, stderr=io.StringIO()
        )
    assert f"errors: {tmp_path / 'bad.csv'}\n" in out.getvalue()


# A file that cannot be read --------------------------------------------------------------------


def test_a_mistyped_file_name_is_refused_naming_it_and_records_no_job(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=r"^Cannot read 'nosuchfile\.csv': No such file or directory\.$"):
        call_command("import_csv", "users", "nosuchfile.csv", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match=r"^Cannot read '.+': Is a directory\.$"):
        call_command("import_csv", "users", str(tmp_path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Job.objects.count() == 0


def test_a_missing_file_named_for_a_resume_records_nothing_new(db, tmp_path):
    job = Job.objects.create(kind=Job.Kind.IMPORT, collection="users", status=Job.Status.INTERRUPTED)
    with pytest.raises(CommandError, match=r"^Cannot read '.*gone\.csv': No such file or directory\.$"):
        call_command(
            "import_csv",
            "users",
            str(tmp_path / "gone.csv"),
            "--resume",
            str(job.pk),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    job.refresh_from_db()
    assert (Job.objects.count(), job.status) == (1, Job.Status.INTERRUPTED)


# Modes -----------------------------------------------------------------------------------------


def test_the_documented_mode_table_lists_every_mode_the_command_takes():
    page = (ROOT / "docs" / "commands.md").read_text()
    listed = set(re.findall(r"^\| `--mode (\w+)` \|", page, re.MULTILINE))
    assert listed == set(MODES)


def test_mode_replace_is_upsert_by_another_name(db, tmp_path):
    db.users.insert_one({"name": "Old", "email": "ada@example.com", "age": 30, "tags": ["kept?"]})
    path = write_csv(tmp_path / "p.csv", "name,email", ["Ada,ada@example.com", "New,new@example.com"])
    out = io.StringIO()
    call_command("import_csv", "users", str(path), "--mode", "replace", stdout=out, stderr=io.StringIO())
    assert "2 rows read: 1 inserted, 1 updated" in out.getvalue()
    ada = db.users.find_one({"email": "ada@example.com"}, {"_id": 0})
    assert ada["name"] == "Ada" and ada["age"] is None and ada.get("tags") != ["kept?"]
    assert Job.objects.get().parameters["mode"] == "upsert"
