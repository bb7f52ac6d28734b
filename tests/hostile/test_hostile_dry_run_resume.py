"""An insert-mode dry run interrupted, then resumed: rows after the resume point repeating a key of
a row before it are refused as in the real run (and as in a dry run never interrupted), while the
key of a row refused before it as invalid stays free for a later row."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs.imports import import_file, resume_import
from bulkadmin.models import Job
from project.collections import User
from tests.factories import users
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "rejected", "failed")


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


def resume_file(tmp_path):
    """100 rows: row 3 is invalid and row 8 repeats row 2 (both before the resume point); rows 61,
    75, 81 and 90 repeat rows 6, 2, 2 and 61, row 70 takes row 3's key, row 95's is stored."""
    rows = user_rows(100)
    rows[2] = "Bad,bad@example.com,x"
    rows[7] = "Again,user1@example.com,8"
    rows[60] = "Again,user5@example.com,61"
    rows[80] = "Again,user1@example.com,81"
    rows[89] = "Again,user5@example.com,90"
    rows[69] = "Good,bad@example.com,70"
    rows[74] = "Other,user1@example.com,75"
    rows[94] = "Stored,stored@example.com,95"
    return write_csv(tmp_path / "resume.csv", "name,email,age", rows)


def interrupt_after(calls: int):
    seen: list[int] = []

    def progress(done) -> None:
        seen.append(done.rows)
        if len(seen) == calls:
            raise KeyboardInterrupt

    return progress


def outcome(result) -> tuple[dict[str, int], list[int]]:
    return {name: result.counts[name] for name in COUNTED}, [error.row for error in result.errors]


@pytest.mark.parametrize("batch_size", [1, 7, 10])
def test_a_resumed_dry_run_refuses_keys_taken_before_its_resume_point(db, tmp_path, batch_size):
    bulk_insert(User, [*users(1, start=900), {"name": "S", "email": "stored@example.com"}], db=db)
    path = resume_file(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        import_file(model=User, source=path, dry_run=True, batch_size=batch_size, progress=interrupt_after(5))
    job = Job.objects.latest("pk")
    assert job.status == Job.Status.INTERRUPTED and job.last_committed_row == 5 * batch_size
    resumed = resume_import(job.pk)
    assert resumed.details["resumed_after"] == 5 * batch_size
    whole = import_file(model=User, source=path, dry_run=True, batch_size=batch_size)
    assert db.users.count_documents({}) == 2
    real = import_file(model=User, source=path, batch_size=batch_size)

    expected = {"rows": 100, "inserted": 93, "rejected": 1, "failed": 6}
    assert outcome(resumed) == outcome(whole) == outcome(real) == (expected, [3, 8, 61, 75, 81, 90, 95])
    messages = [error.message for error in resumed.errors if error.row > 50]
    earlier, stored = "duplicate key (email): earlier in the file", "duplicate key (email): already in the collection"
    assert messages == [earlier] * 4 + [stored]
