"""Resume is exact for any file: a change anywhere in what was read is refused (hashed while it
was read the first time), and a file carrying its own `_id` resumes without false failures."""

from __future__ import annotations

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from bulkadmin.bulk import BulkWriter
from bulkadmin.jobs.imports import import_file, resume_import
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportFileError
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db


def stop_after(rows: int):
    def progress(state):
        if state.rows_this_run >= rows:
            raise KeyboardInterrupt

    return progress


def test_a_row_edited_far_past_the_first_256_kib_is_refused_on_resume(db, tmp_path):
    path = write_csv(tmp_path / "big.csv", "name,email,age", user_rows(12_000))
    with pytest.raises(KeyboardInterrupt) as raised:
        import_file(model=User, source=path, batch_size=1000, progress=stop_after(10_000))
    job = Job.objects.get()
    assert job.details["bytes_read"] > 300 * 1024 and job.last_committed_row >= 10_000
    text = path.read_text(encoding="utf-8")
    assert text.count("User 9500,") == 1
    path.write_text(text.replace("User 9500,", "Evil 9500,"), encoding="utf-8")  # same length
    with pytest.raises(ImportFileError, match=f"{path} has changed since job {raised.value.job_id}"):
        resume_import(job.pk)
    assert db.users.count_documents({"name": "Evil 9500"}) == 0


def test_an_unchanged_file_that_grew_nothing_resumes_to_exact_counts(db, tmp_path):
    path = write_csv(tmp_path / "big.csv", "name,email,age", user_rows(12_000))
    with pytest.raises(KeyboardInterrupt):
        import_file(model=User, source=path, batch_size=1000, progress=stop_after(10_000))
    result = resume_import(Job.objects.get().pk)
    assert (result.rows, result.counts.inserted, result.failed) == (12_000, 12_000, 0)
    assert db.users.count_documents({}) == 12_000


def test_a_file_with_its_own_id_column_resumes_without_false_duplicate_failures(db, tmp_path, monkeypatch):
    ids = [ObjectId() for _ in range(50)]
    rows = [f"{ids[n]},{row}" for n, row in enumerate(user_rows(50))]
    path = write_csv(tmp_path / "ids.csv", "_id,name,email,age", rows)
    real_write, calls = BulkWriter.write, []

    def flaky_write(session, docs):
        calls.append(len(docs))
        if len(calls) == 3:
            real_write(session, docs[:5])  # half of the third batch lands, then the server goes
            raise AutoReconnect("connection closed")
        return real_write(session, docs)

    monkeypatch.setattr(BulkWriter, "write", flaky_write)
    with pytest.raises(AutoReconnect):
        import_file(model=User, source=path, batch_size=10)
    job = Job.objects.get()
    assert (job.last_committed_row, db.users.count_documents({})) == (20, 25)

    result = resume_import(job.pk)
    assert (result.rows, result.counts.inserted, result.counts.rejected, result.failed) == (50, 50, 0, 0)
    assert sorted(doc["_id"] for doc in db.users.find()) == sorted(ids)
