"""Interrupting an import part-way and resuming it: no duplicates, no gaps, exact counts."""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect

from bulkadmin.bulk import BulkWriter
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.jobs import files, imports
from bulkadmin.jobs.imports import import_file, resume_import
from bulkadmin.jobs.summaries import summary
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportFileError
from bulkadmin.operations.progress import Cancelled
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db

ROWS = 50


def interrupt_after(batches: int):
    def progress(state):
        if state.rows_this_run >= batches * 10:
            raise KeyboardInterrupt

    return progress


def emails(db) -> list[str]:
    return sorted(doc["email"] for doc in db.users.find())


def expected() -> list[str]:
    return sorted(f"user{n}@example.com" for n in range(ROWS))


def test_ctrl_c_leaves_the_job_interrupted_and_resume_finishes_it(db, tmp_path):
    rows = user_rows(ROWS)
    rows[3] = "Bad,bad@example.com,x"  # rejected before the interruption, counted once
    path = write_csv(tmp_path / "p.csv", "name,email,age", rows)
    with pytest.raises(KeyboardInterrupt) as raised:
        import_file(model=User, source=path, batch_size=10, progress=interrupt_after(2))
    job = Job.objects.get()
    assert raised.value.job_id == job.pk
    assert (job.status, job.last_committed_row, job.rows_done) == (Job.Status.INTERRUPTED, 20, 20)
    assert (job.counts["inserted"], job.counts["rejected"]) == (19, 1)
    assert db.users.count_documents({}) == 19

    result = resume_import(job.pk)
    assert (result.rows, result.counts.inserted, result.counts.rejected, result.failed) == (ROWS, ROWS - 1, 1, 0)
    assert (result.rows_this_run, result.details["resumed_after"]) == (ROWS - 20, 20)
    assert "resumed after row 20" in summary(result)
    assert emails(db) == sorted(e for e in expected() if e != "user3@example.com")
    job.refresh_from_db()
    assert (job.status, job.error_count, job.details["runs"]) == (Job.Status.PARTIAL, 1, 2)
    with files.storage().open(job.error_file, "rb") as file:  # the error file by its storage name
        assert len(file.readlines()) == 2  # the header and the one bad row, not written twice


def test_a_crash_in_the_middle_of_a_batch_is_resumed_without_duplicates(db, tmp_path, monkeypatch):
    """The server goes away after half of the third batch was written: the resumed run finds
    those rows by their job-derived ids and counts them instead of failing on them."""
    real_write, calls = BulkWriter.write, []

    def flaky_write(session, docs):
        calls.append(len(docs))
        if len(calls) == 3:
            real_write(session, docs[:5])
            raise AutoReconnect("connection closed")
        return real_write(session, docs)

    monkeypatch.setattr(BulkWriter, "write", flaky_write)
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(ROWS))
    with pytest.raises(AutoReconnect):
        import_file(model=User, source=path, batch_size=10)
    job = Job.objects.get()
    assert (job.status, job.last_committed_row) == (Job.Status.INTERRUPTED, 20)
    assert db.users.count_documents({}) == 25

    result = resume_import(job.pk)
    assert (result.rows, result.counts.inserted, result.failed, result.counts.rejected) == (ROWS, ROWS, 0, 0)
    assert emails(db) == expected()
    assert Job.objects.get().status == Job.Status.SUCCEEDED


def test_resume_of_a_merge_is_idempotent(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(ROWS))
    with pytest.raises(KeyboardInterrupt):
        import_file(model=User, source=path, mode="merge", batch_size=10, progress=interrupt_after(3))
    result = resume_import(Job.objects.get().pk)
    assert (result.rows, result.counts.inserted, result.counts.updated, result.counts.unchanged) == (ROWS, ROWS, 0, 0)
    assert emails(db) == expected()


def test_only_unfinished_import_jobs_of_an_unchanged_file_resume(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(ROWS))
    finished = import_file(model=User, source=path, limit=5)
    with pytest.raises(InvalidSpec, match="has finished"):
        resume_import(finished.job_id)
    with pytest.raises(InvalidSpec, match="There is no job 999"):
        resume_import(999)
    with pytest.raises(KeyboardInterrupt) as raised:
        import_file(model=User, source=path, mode="merge", batch_size=10, progress=interrupt_after(1))
    path.write_text(path.read_text() + "Extra,extra@example.com,1\n")
    with pytest.raises(ImportFileError, match="has changed since job"):
        resume_import(raised.value.job_id)


def test_a_cancelled_job_stops_at_the_next_checkpoint(db, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "CHECKPOINT_SECONDS", 0)
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(ROWS))

    def cancel(state):
        Job.objects.filter(pk=state.run_id).update(cancel_requested=True)

    with pytest.raises(Cancelled):
        import_file(model=User, source=path, batch_size=10, progress=cancel)
    job = Job.objects.get()
    assert job.status == Job.Status.CANCELLED
    assert job.last_committed_row == 20  # cancelled at the checkpoint after the second batch
    assert db.users.count_documents({}) == 20
