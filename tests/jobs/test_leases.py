"""Leases, the running job's heartbeat, the workers' watch (stale jobs, automatic resume) and the
job log lines, in one process against the real database and MongoDB."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import time

import pytest
from django.utils import timezone

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.jobs import leases, watch
from bulkadmin.jobs.imports import import_file, resume_import
from bulkadmin.jobs.runner import JobTaken, job_lease_name, track_job
from bulkadmin.models import Job, Lease
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db


def test_a_lease_is_held_once_and_the_refusal_names_its_holder():
    held = leases.acquire("cleanup", seconds=60)
    with pytest.raises(leases.LeaseHeld) as refused:
        leases.acquire("cleanup")
    message = str(refused.value)
    assert f"cleanup is already running on host {socket.gethostname()} (pid {os.getpid()}) since " in message
    assert "its lease expires at " in message
    held.release()
    leases.acquire("cleanup").release()
    assert not Lease.objects.exists()


def test_an_expired_lease_is_taken_over_and_its_old_holder_learns_it_lost_it():
    old = leases.acquire("sync-demo_users", seconds=60)
    Lease.objects.filter(name="sync-demo_users").update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert leases.holder_of("sync-demo_users") is None
    new = leases.acquire("sync-demo_users", seconds=60)
    assert (old.renew(), old.lost, new.renew(), new.lost) == (False, True, True, False)
    old.release()  # releases nothing of the new holder's
    assert Lease.objects.get().token == new.token


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_ticks_during_a_long_step_and_renews_the_jobs_lease(settings):
    settings.BULKADMIN_HEARTBEAT_SECONDS = 0.1
    with track_job(kind=Job.Kind.UPDATE, collection="users") as run:
        first = Job.objects.get(pk=run.job.pk).heartbeat_at
        lease_until = Lease.objects.get(name=job_lease_name(run.job.pk)).expires_at
        time.sleep(0.5)  # one long batch: no progress call
        assert Job.objects.get(pk=run.job.pk).heartbeat_at > first
        assert Lease.objects.get(name=job_lease_name(run.job.pk)).expires_at > lease_until
    assert not Lease.objects.exists()  # released when the run ended


def test_a_run_that_lost_its_jobs_lease_stops_without_writing():
    with pytest.raises(JobTaken), track_job(kind=Job.Kind.DELETE, collection="users") as run:
        Lease.objects.filter(name=job_lease_name(run.job.pk)).update(token="another worker's")
        run.lease.renew()
        run.progress(10)
    job = Job.objects.get()
    assert (job.status, job.rows_done) == (Job.Status.RUNNING, 0)  # the row is the new holder's


def test_stale_updates_are_marked_interrupted_with_how_far_they_got_and_not_resumed(settings):
    settings.BULKADMIN_JOB_STALE_SECONDS = 60
    silent = timezone.now() - dt.timedelta(seconds=90)
    update = Job.objects.create(kind="update", collection="users", status="running", rows_done=40, heartbeat_at=silent)
    alive = Job.objects.create(kind="delete", collection="users", status="running", heartbeat_at=timezone.now())
    assert watch.mark_stale_jobs() == 1
    update.refresh_from_db()
    assert update.status == "interrupted"
    assert update.message.startswith("Interrupted after 40 rows: its worker")
    assert "stopped reporting for more than 60 seconds" in update.message
    assert watch.resume_interrupted() == []
    assert Job.objects.get(pk=update.pk).status == "interrupted"
    assert Job.objects.get(pk=alive.pk).status == "running"


def test_a_silent_job_whose_lease_is_still_held_is_left_running(settings):
    settings.BULKADMIN_JOB_STALE_SECONDS = 60
    job = Job.objects.create(
        kind="import", collection="users", status="running", heartbeat_at=timezone.now() - dt.timedelta(seconds=90)
    )
    leases.acquire(job_lease_name(job.pk), seconds=60)
    assert watch.mark_stale_jobs() == 0


def test_an_interrupted_web_import_is_resumed_by_the_watch_exactly_as_resume_would(db, tmp_path, settings):
    settings.BULKADMIN_AUTO_RESUME = 2
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(50))

    def interrupt(state):
        if state.rows_this_run >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(model=User, source=path, batch_size=10, progress=interrupt, origin=Job.Origin.WEB)
    job = Job.objects.get()
    assert (job.status, job.last_committed_row) == (Job.Status.INTERRUPTED, 20)
    assert watch.resume_interrupted() == [job.pk]  # the tests' task backend runs it at once
    job.refresh_from_db()
    assert (job.status, job.resume_attempts, job.details["runs"]) == (Job.Status.SUCCEEDED, 1, 2)
    assert (job.counts["rows"], job.counts["inserted"]) == (50, 50)
    assert sorted(d["email"] for d in db.users.find()) == sorted(f"user{n}@example.com" for n in range(50))


def test_automatic_resumes_stop_after_the_limit_and_skip_command_line_imports(settings):
    settings.BULKADMIN_AUTO_RESUME = 2
    spent = Job.objects.create(kind="import", collection="users", status="interrupted", origin="web", resume_attempts=2)
    cli = Job.objects.create(kind="import", collection="users", status="interrupted", origin="cli")
    assert watch.resume_interrupted() == []
    assert {job.status for job in Job.objects.filter(pk__in=[spent.pk, cli.pk])} == {"interrupted"}


def test_every_job_start_and_finish_is_one_json_line(db, tmp_path, caplog, admin_user):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(3))
    with caplog.at_level(logging.INFO, logger="bulkadmin.jobs"):
        import_file(model=User, source=path, user=admin_user, origin=Job.Origin.WEB)
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "bulkadmin.jobs"]
    job = Job.objects.get()
    assert [line["event"] for line in lines] == ["job_started", "job_finished"]
    started, finished = lines
    common = {"job": job.pk, "kind": "import", "collection": "users", "user": "admin", "origin": "web"}
    assert {key: started[key] for key in common} == common == {key: finished[key] for key in common}
    assert (started["status"], finished["status"]) == ("running", "succeeded")
    assert finished["counts"]["inserted"] == 3 and finished["rows"] == 3 and finished["errors"] == 0
    assert finished["elapsed"] >= 0


def test_a_running_import_is_not_resumed_while_its_lease_is_held_and_is_after_it_expires(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", user_rows(30))
    job = Job.objects.create(
        kind="import", collection="users", status="running", parameters={"source": str(path), "batch_size": 10}
    )
    held = leases.acquire(job_lease_name(job.pk), seconds=60)  # as a worker elsewhere would
    Lease.objects.filter(pk=Lease.objects.get().pk).update(host="worker-7", pid=4242)
    with pytest.raises(InvalidSpec, match=rf"Job {job.pk} is still running on host worker-7 \(pid 4242\); if that"):
        resume_import(job.pk)
    Lease.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))  # it died: nobody renews
    result = resume_import(job.pk)
    assert (result.rows, result.counts.inserted, db.users.count_documents({})) == (30, 30, 30)
    assert held.renew() is False


def test_the_heartbeat_waits_while_the_starting_thread_is_in_a_transaction(settings):
    """Inside a transaction (here the test's) the rows the run wrote are invisible to the beat's
    connection: a beat would find no lease and wrongly stop the run."""
    settings.BULKADMIN_HEARTBEAT_SECONDS = 0.05
    with track_job(kind=Job.Kind.UPDATE, collection="users") as run:
        time.sleep(0.3)
        assert run.lease is not None and not run.lease.lost
        run.progress(5)
    assert Job.objects.get().status == Job.Status.SUCCEEDED
