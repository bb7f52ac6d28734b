"""`manage.py import_csv` with XLSX workbooks: through `call_command`, and as a real process
reading a file and standard input."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bulkadmin.models import Job
from tests.imports.conftest import write_xlsx
from tests.processes import manage_environment

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def people_xlsx(tmp_path: Path) -> Path:
    """Sheet `people`: 3 valid rows, a blank row, one row with a bad age on sheet row 6;
    sheet `staff`: 2 rows."""
    return write_xlsx(
        tmp_path / "people.xlsx",
        [
            ["name", "email", "age", "last_login"],
            ["Ann", "ann@example.com", 31, dt.datetime(2025, 1, 2, 3, 4, 5)],
            ["Bob", "bob@example.com", 40, None],
            [],
            ["Cid", "cid@example.com", 45, dt.datetime(2025, 2, 3)],
            ["Dee", "dee@example.com", "old", None],
        ],
        staff=[["name", "email"], ["Sam", "sam@example.com"], ["Tia", "tia@example.com"]],
    )


def call(*arguments: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_csv", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_csv_reads_the_first_sheet_of_a_workbook(db, tmp_path):
    with pytest.raises(CommandError, match=r"^1 row\(s\) rejected \(job \d+\); first at line 6: age: "):
        call("users", str(people_xlsx(tmp_path)))
    job = Job.objects.get()
    assert {k: job.counts[k] for k in ("rows", "inserted", "rejected", "failed")} == {
        "rows": 4,
        "inserted": 3,
        "rejected": 1,
        "failed": 0,
    }
    assert (job.details["format"], job.details["sheet"]) == ("xlsx", "people")
    assert db.users.count_documents({}) == 3
    ann = db.users.find_one({"email": "ann@example.com"})
    assert (ann["age"], ann["last_login"]) == (31, dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    assert db.users.find_one({"email": "bob@example.com"})["last_login"] is None


def test_import_csv_reads_the_sheet_named_by_sheet(db, tmp_path):
    out, _ = call("users", str(people_xlsx(tmp_path)), "--sheet", "staff")
    assert out.startswith("users: 2 rows read: 2 inserted, 0 updated, 0 unchanged, 0 deleted, 0 rejected, 0 failed")
    assert sorted(doc["name"] for doc in db.users.find()) == ["Sam", "Tia"]
    assert Job.objects.get().parameters["sheet"] == "staff"


def test_an_unknown_sheet_is_a_clear_command_error(db, tmp_path):
    with pytest.raises(CommandError, match=r"has no sheet 'Staff'; its sheets are 'people', 'staff' \(job \d+\)\.$"):
        call("users", str(people_xlsx(tmp_path)), "--sheet", "Staff")
    assert db.users.count_documents({}) == 0


def test_sheet_is_refused_with_resume(db, tmp_path):
    with pytest.raises(CommandError, match=r"--resume takes the job's own options; do not pass --sheet"):
        call("--resume", "1", "--sheet", "staff")


@pytest.mark.subprocess
def test_a_real_process_imports_a_workbook_from_a_file_and_from_stdin(db, mongo_uri, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'django.sqlite3'}"
    env = manage_environment(
        mongo_uri=mongo_uri, database=db.name, database_url=database_url, jobs_dir=tmp_path / "jobs"
    )
    path = people_xlsx(tmp_path)
    run = [sys.executable, "manage.py", "import_csv", "users"]
    done = subprocess.run([*run, str(path), "--sheet", "staff"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"2 rows read: 2 inserted" in done.stdout
    piped = subprocess.run(
        [*run, "-", "--stop-on-error"], cwd=ROOT, env=env, input=path.read_bytes(), capture_output=True, timeout=120
    )
    assert piped.returncode == 1
    assert b"CommandError: Stopped at the first bad row, line 6: age: " in piped.stderr
    assert db.users.count_documents({}) == 5
