"""Job recording: every run ends in a final status with its counts."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs.runner import track_job
from bulkadmin.models import Job
from bulkadmin.operations.progress import Cancelled
from bulkadmin.operations.results import from_bulk
from project.collections import User
from tests.factories import users

pytestmark = pytest.mark.django_db


def test_a_finished_run_records_counts_batches_and_errors(db):
    data = users(5)
    data[2]["age"] = "x"
    with track_job(kind=Job.Kind.IMPORT, collection="users", parameters={"mode": "insert"}) as run:
        result = bulk_insert(User, data, batch_size=2, ordered=False, raise_on_error=False, progress=run.progress)
        run.finish(from_bulk(result))
    job = Job.objects.get()
    assert job.status == Job.Status.PARTIAL
    assert (job.counts["rows"], job.counts["inserted"], job.counts["failed"]) == (5, 4, 1)
    assert [rows for rows, _ in job.batches] == [2, 2, 1]
    assert job.errors[0]["index"] == 2
    assert job.errors[0]["field"] == "age"
    assert job.rows_done == 5
    assert job.finished_at >= job.started_at


@pytest.mark.parametrize(
    ("raised", "status"),
    [(KeyboardInterrupt(), Job.Status.INTERRUPTED), (ValueError("boom"), Job.Status.FAILED)],
)
def test_an_exception_leaves_a_final_status(raised, status):
    with pytest.raises(type(raised)), track_job(kind=Job.Kind.SYNC, collection="users"):
        raise raised
    job = Job.objects.get()
    assert job.status == status
    assert job.finished_at is not None


def test_a_cancel_request_stops_at_the_next_progress_call():
    with pytest.raises(Cancelled), track_job(kind=Job.Kind.UPDATE) as run:
        run.progress(10, 100)
        Job.objects.filter(pk=run.job.pk).update(cancel_requested=True)
        run.progress(20, 100)
    job = Job.objects.get()
    assert (job.status, job.rows_done) == (Job.Status.CANCELLED, 20)
    assert "after 20 rows" in job.message
