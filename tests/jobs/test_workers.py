"""Several workers on several "machines" (real `manage.py` processes, each in its own working
directory, sharing only the database, MongoDB and the job files' storage): jobs queued on one
machine are run once on another; a worker killed with SIGKILL mid-import is noticed and its
import finished by another worker; one killed mid-update leaves whole batches, each undoable;
cleanup's lease holds across machines and frees itself."""

from __future__ import annotations

import datetime as dt
import signal
import socket
import time

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.operations import undo
from project.collections import User, UserSession
from tests.factories import days_ago
from tests.imports.conftest import user_rows, write_csv
from tests.jobs.machines import (
    LEASE_SECONDS,
    job,
    lease,
    lease_expiry,
    machine_timings,
    make_machines,
    wait_for,
)
from tests.processes import manage_environment

pytestmark = [pytest.mark.django_db, pytest.mark.subprocess]


@pytest.fixture
def machines(db, mongo_uri, tmp_path, process_database_url):
    """Three machines; their job files' storage is one shared folder (as a network share or S3 would be)."""
    env = manage_environment(
        mongo_uri=mongo_uri,
        database=db.name,
        database_url=process_database_url,
        jobs_dir=tmp_path / "shared-storage",
        **machine_timings(),
        LOG_LEVEL="INFO",
    )
    found = make_machines(tmp_path, 3, env)
    migrated = found[0].manage("migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    yield found
    for machine in found:
        machine.stop()


def emails(db) -> list[str]:
    return sorted(doc["email"] for doc in db.users.find({}, {"email": 1}))


def test_imports_queued_on_one_machine_are_run_once_by_the_workers_of_others(db, machines, tmp_path):
    web, first, second = machines
    pids = {first.start_worker().pid, second.start_worker().pid}
    jobs = [
        web.queue_import(write_csv(web.folder / f"part{n}.csv", "name,email,age", user_rows(500, start=n * 500)), 100)
        for n in range(4)
    ]
    url = web.env["DATABASE_URL"]
    for job_id in jobs:
        wait_for(lambda job_id=job_id: job(url, job_id)["status"] == "succeeded", 120, f"job {job_id} to succeed")
    rows = [job(url, job_id) for job_id in jobs]
    assert {row["worker_pid"] for row in rows} <= pids
    assert [(row["counts"]["rows"], row["counts"]["inserted"]) for row in rows] == [(500, 500)] * 4
    assert emails(db) == sorted(f"user{n}@example.com" for n in range(2000))
    logs = first.logs() + second.logs()
    for job_id in jobs:  # one start line and one finish line per job, on the machine that ran it
        assert logs.count(f'"event": "job_started", "job": {job_id}, "kind": "import"') == 1
        assert logs.count(f'"event": "job_finished", "job": {job_id}, "kind": "import"') == 1


def test_a_worker_killed_mid_import_is_noticed_and_another_worker_finishes_the_import(db, machines):
    web, first, second = machines
    rows = 30_000
    job_id = web.queue_import(write_csv(web.folder / "big.csv", "name,email,age", user_rows(rows)), 200)
    url = web.env["DATABASE_URL"]
    doomed = first.start_worker()
    started = wait_for(lambda: (row := job(url, job_id))["last_committed_row"] and row, 60, "the first checkpoint")
    assert (started["status"], started["worker_pid"]) == ("running", doomed.pid)
    survivor = second.start_worker()
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert 0 < started["last_committed_row"] < rows

    finished = wait_for(
        lambda: (row := job(url, job_id))["status"] in ("succeeded", "partial", "failed") and row,
        180,
        "the resumed import",
    )
    assert (finished["status"], finished["worker_pid"], finished["resume_attempts"]) == ("succeeded", survivor.pid, 1)
    assert finished["details"]["runs"] == 2
    counts = finished["counts"]
    assert (counts["rows"], counts["inserted"], counts["rejected"], counts["failed"]) == (rows, rows, 0, 0)
    assert finished["last_committed_row"] == finished["rows_done"] == rows
    assert db.users.count_documents({}) == rows  # each row exactly once: no duplicates, no gaps
    assert emails(db) == sorted(f"user{n}@example.com" for n in range(rows))
    logs = second.logs()
    assert f'"event": "job_finished", "job": {job_id}, "kind": "import"' in logs
    assert '"status": "interrupted"' in logs  # the watcher's line for the dead worker's run
    # The "machines" share this host, so the watch sees at once that the worker's process is gone
    # (on another machine: once it stopped reporting for more than STALE_SECONDS).
    assert f"its process on host {socket.gethostname()} (pid {doomed.pid}) is no longer running" in logs


QUEUE_UPDATE = """
from bulkadmin.web.launch import launch
parameters = {"filter": {}, "update": {"$inc": {"age": 1}}, "batch_size": 200}
print(launch(kind="update", collection="users", parameters=parameters, user=None).pk)
"""


def test_a_worker_killed_mid_update_leaves_whole_batches_each_with_its_undo_data(db, machines):
    web, first, second = machines
    total = 30_000
    for start in range(0, total, 5000):
        db.users.insert_many(
            [{"name": f"U{n}", "email": f"u{n}@example.com", "age": 20} for n in range(start, start + 5000)]
        )
    queued = web.manage("shell", "-c", QUEUE_UPDATE)
    assert queued.returncode == 0, queued.stderr
    job_id = int(queued.stdout.strip().splitlines()[-1])
    url = web.env["DATABASE_URL"]
    doomed = first.start_worker()
    wait_for(lambda: (row := job(url, job_id))["rows_done"] and row, 120, "the first written batch")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    second.start_worker()  # its watch marks the dead worker's job interrupted
    stopped = wait_for(lambda: (row := job(url, job_id))["status"] == "interrupted" and row, 60, "the interruption")
    written = db.users.count_documents({"age": 21})
    assert db.users.count_documents({"age": 20}) == total - written
    assert 0 < written < total and written % 200 == 0  # whole batches, none twice (22 is nowhere)
    assert stopped["rows_done"] <= written
    kept = undo.undo_record_count(job_id, db=db)
    assert written <= kept <= written + 200  # every written batch, and at most one saved but not written
    restored = undo.undo_job_writes(model=User, job=job_id, db=db)
    assert (restored.details["restored"], restored.counts.unchanged, restored.details["conflicts"]) == (
        written,
        kept - written,
        (),
    )
    assert db.users.count_documents({"age": 20}) == total


def test_two_cleanups_at_once_on_two_machines_one_runs_the_other_is_refused_naming_the_holder(db, machines):
    bulk_insert(UserSession, [{"token": f"t{n}", "expires_at": days_ago(400)} for n in range(20_000)])
    first, second, third = machines
    slow = ("cleanup_old_data", "--rule", "expired_sessions", "--batch-size", "5")
    url = first.env["DATABASE_URL"]
    holder = first.start(*slow)
    host, pid = wait_for(lambda: lease(url, "cleanup"), 60, "the first cleanup's lease")
    assert (host, pid) == (socket.gethostname(), holder.pid)
    refused = second.manage(*slow)
    assert refused.returncode == 1
    assert f"cleanup is already running on host {host} (pid {pid}) since " in refused.stderr
    assert "its lease expires at" in refused.stderr
    assert holder.poll() is None, "the first cleanup ended before it could be killed"

    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    expires = lease_expiry(url, "cleanup")  # nobody renews it any more
    assert db.user_sessions.count_documents({}) > 0
    deadline = time.monotonic() + LEASE_SECONDS + 120
    while time.monotonic() < deadline:  # each attempt is refused until the lease expires, then one runs
        began = dt.datetime.now(dt.UTC)
        done = third.manage(*slow[:3])
        if "is already running on host" not in done.stderr:
            assert done.returncode == 0, done.stderr
            break
        assert began < expires, "refused although the dead holder's lease had expired"
        time.sleep(0.2)
    else:
        pytest.fail("no cleanup could run after the holder's lease expired")
    assert db.user_sessions.count_documents({}) == 0
    assert lease(url, "cleanup") is None  # released when the run ended
