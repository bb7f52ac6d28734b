"""The seam between operations and jobs: operations run without a job, the runner takes a job
over once, cancel requests and parameters follow one set of rules."""

from __future__ import annotations

import datetime as dt

import pytest

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.jobs import rules as job_rules
from bulkadmin.jobs.parameters import SyncParameters
from bulkadmin.jobs.runner import JobTaken, start_job, take_queued
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportState, RunIdentity, check_import_options, run_import
from bulkadmin.operations.progress import Cancelled
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db

ROWS = 50


def test_an_import_runs_as_a_plain_function_and_records_no_job(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(ROWS))
    result = run_import(model=User, options=check_import_options(User, source=path, batch_size=10), db=db)
    assert (result.operation, result.status, result.rows, result.counts.inserted, result.job_id) == (
        "import",
        "succeeded",
        ROWS,
        ROWS,
        None,
    )
    assert [batch.rows for batch in result.batches] == [10] * 5
    assert db.users.count_documents({}) == ROWS
    assert Job.objects.count() == 0


def test_a_plain_import_carries_on_from_its_own_state_without_duplicates(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(ROWS))
    options = check_import_options(User, source=path, batch_size=10)
    identity, state = RunIdentity.new(7), ImportState()

    def stop_after_two_batches(progress):
        if progress.rows_this_run >= 20:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        run_import(model=User, options=options, identity=identity, state=state, progress=stop_after_two_batches)
    assert (state.last_row, state.counts["inserted"], db.users.count_documents({})) == (20, 20, 20)
    result = run_import(model=User, options=options, identity=identity, state=state)
    assert (result.rows, result.counts.inserted, result.rows_this_run, result.details["resumed_after"]) == (
        ROWS,
        ROWS,
        30,
        20,
    )
    assert len(db.users.distinct("email")) == db.users.count_documents({}) == ROWS


def test_a_job_is_taken_over_once(db):
    queued = Job.objects.create(kind=Job.Kind.UPDATE, collection="users")
    stale_copy = Job.objects.get(pk=queued.pk)
    start_job(kind=Job.Kind.UPDATE, job=take_queued(queued.pk))
    with pytest.raises(JobTaken, match=f"Job {queued.pk} is no longer queued"):
        start_job(kind=Job.Kind.UPDATE, job=stale_copy)
    assert Job.objects.get(pk=queued.pk).status == Job.Status.RUNNING


def test_a_cancel_request_cancels_a_queued_job_and_asks_a_running_one_to_stop(db):
    queued = Job.objects.create(kind=Job.Kind.SYNC)
    running = Job.objects.create(kind=Job.Kind.SYNC, status=Job.Status.RUNNING)
    finished = Job.objects.create(kind=Job.Kind.SYNC, status=Job.Status.SUCCEEDED)
    assert [job_rules.request_cancel(job) for job in (queued, running, finished)] == [
        "cancelled",
        "requested",
        "finished",
    ]
    statuses = {job.pk: (job.status, job.cancel_requested) for job in Job.objects.all()}
    assert statuses == {
        queued.pk: (Job.Status.CANCELLED, True),
        running.pk: (Job.Status.RUNNING, True),
        finished.pk: (Job.Status.SUCCEEDED, False),
    }
    assert take_queued(queued.pk) is None


def test_sync_parameters_are_one_schema_whoever_stored_them():
    since = dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC)
    stored = SyncParameters("partners", "incremental", since).to_parameters()
    assert stored == {
        "source": "partners",
        "mode": "incremental",
        "full": False,
        "since": since.isoformat(),
        "mark_missing": False,
    }
    assert SyncParameters.from_parameters(stored) == SyncParameters("partners", "incremental", since)
    with pytest.raises(InvalidSpec, match="mark_missing needs a full sync"):
        SyncParameters("partners", "mark_missing", since)
