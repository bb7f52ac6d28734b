"""Leases on the database's clock, with real processes whose clocks differ by two minutes (one
runs 2 minutes slow, one 2 minutes fast: `skewed_clock/sitecustomize.py`): they never hold one
lease at once, and a cleanup that lost its lease (stopped longer than the lease, taken over by
another process) stops without writing more, and its job says what it wrote; so does a sync."""

from __future__ import annotations

import datetime as dt
import json
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import leases
from bulkadmin.jobs.runs import sync_job
from bulkadmin.models import Job, Lease
from project.collections import UserSession
from tests.factories import days_ago
from tests.feed_server import Reply, serve
from tests.jobs.machines import (
    MANAGE,
    Machine,
    job,
    lease,
    machine_timings,
    make_machines,
    wait_for,
)
from tests.operations.test_sync import record, source_for, stored
from tests.processes import fetch_one, manage_environment

pytestmark = pytest.mark.django_db

SKEWED = str(Path(__file__).parent / "skewed_clock")
SLOW, FAST = -120, 120
SESSIONS, BATCH = 20_000, 5

HOLD = """
import sys, time
from bulkadmin.jobs import leases
from bulkadmin.jobs.heartbeat import Heartbeat
while True:
    try:
        holder = leases.acquire("cleanup")
        break
    except leases.LeaseHeld:
        time.sleep(0.1)
print("held", flush=True)
with Heartbeat(holder.renew, interval=holder.seconds / 3):
    sys.stdin.readline()
holder.release()
"""

PROBE = """
import json, time
from bulkadmin.jobs import leases
taken = refused = 0
for _ in range(40):
    try:
        leases.acquire("cleanup").release()
        taken += 1
    except leases.LeaseHeld:
        refused += 1
    time.sleep(0.1)
print(json.dumps([taken, refused]))
"""


def start(machine: Machine, code: str, skew: int) -> subprocess.Popen:
    """`manage.py shell -c code` on `machine`, its clock `skew` seconds off."""
    env = {**machine.env, "PYTHONPATH": SKEWED, "TEST_CLOCK_SKEW_SECONDS": str(skew)}
    return subprocess.Popen(
        [sys.executable, MANAGE, "shell", "--no-imports", "-c", code],
        cwd=machine.folder,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(process: subprocess.Popen, timeout: float = 60) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"no answer within {timeout} s"
    return process.stdout.readline().strip()


def probe(machine: Machine, *skews: int) -> list[list[int]]:
    """[taken, refused] of 40 attempts over 4 s (longer than the lease) by a process per skew, at once."""
    probes = [start(machine, PROBE, skew) for skew in skews]
    return [json.loads(process.communicate(timeout=120)[0].strip().splitlines()[-1]) for process in probes]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)
    for stream in (process.stdin, process.stdout, process.stderr):
        stream.close()


@pytest.fixture
def machine(db, mongo_uri, tmp_path, process_database_url):
    env = manage_environment(
        mongo_uri=mongo_uri,
        database=db.name,
        database_url=process_database_url,
        jobs_dir=tmp_path / "jobs",
        **machine_timings(),
    )
    (found,) = make_machines(tmp_path, 1, env)
    migrated = found.manage("migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    yield found
    found.stop()


@pytest.mark.subprocess
def test_processes_whose_clocks_differ_by_two_minutes_never_hold_one_lease_at_once(machine):
    url = machine.env["DATABASE_URL"]
    started: list[subprocess.Popen] = []
    try:
        slow = start(machine, HOLD, SLOW)
        started.append(slow)
        assert first_line(slow) == "held"
        assert probe(machine, FAST, 0) == [[0, 40], [0, 40]]  # the slow clock's lease is not "long expired"
        assert slow.poll() is None and lease(url, "cleanup")[1] == slow.pid

        slow.send_signal(signal.SIGKILL)
        slow.wait(timeout=10)
        fast = start(machine, HOLD, FAST)  # takes it once it expired on the database's clock
        started.append(fast)
        assert first_line(fast) == "held"
        assert probe(machine, SLOW) == [[0, 40]]  # nor is the fast clock's lease taken while renewed
        assert lease(url, "cleanup")[1] == fast.pid
        fast.stdin.close()
        assert fast.wait(timeout=30) == 0
        assert lease(url, "cleanup") is None
    finally:
        for process in started:
            stop(process)


def cleanup_job_id(url: str) -> int | None:
    row = fetch_one(url, "SELECT id FROM bulkadmin_job WHERE kind = 'cleanup'")
    return int(row[0]) if row else None


@pytest.mark.subprocess
def test_a_cleanup_that_lost_its_lease_stops_without_writing_more_and_says_what_it_wrote(db, machine):
    bulk_insert(UserSession, [{"token": f"t{n}", "expires_at": days_ago(400)} for n in range(SESSIONS)])
    url = machine.env["DATABASE_URL"]
    cleanup = machine.start("cleanup_old_data", "--rule", "expired_sessions", "--batch-size", str(BATCH))
    job_id = wait_for(lambda: cleanup_job_id(url), 60, "the cleanup's job")
    wait_for(lambda: (job(url, job_id)["rows_done"] or 0) >= 100 * BATCH, 60, "deleted batches")
    cleanup.send_signal(signal.SIGSTOP)  # paused longer than its lease, as by a stalled machine
    taker = start(machine, HOLD, FAST)
    try:
        assert first_line(taker) == "held"  # the lease expired on the database's clock and was taken over
        left_at_takeover = db.user_sessions.count_documents({})
        cleanup.send_signal(signal.SIGCONT)
        assert cleanup.wait(timeout=60) == 1
        left = db.user_sessions.count_documents({})
        assert left_at_takeover - BATCH <= left <= left_at_takeover  # at most the batch it was writing
        assert left > 0
        stopped = job(url, job_id)
        assert stopped["status"] == "interrupted"
        assert stopped["rows_done"] == SESSIONS - left  # exactly what it deleted
        assert "lost the lease cleanup" in stopped["message"]
        log = machine.logs()
        assert "lost the lease cleanup" in log and "Traceback" not in log
        assert lease(url, "cleanup")[1] == taker.pid  # its lease was not released by the loser
    finally:
        if cleanup.poll() is None:
            cleanup.send_signal(signal.SIGCONT)
        stop(taker)


@pytest.fixture
def feed():
    yield from serve()


def take_over_during_page_2(feed, taken: list[leases.Holder]) -> threading.Thread:
    """Another holder takes the sync's lease over (as after it expired) while page 2 is fetched."""

    def take_over() -> None:
        wait_for(lambda: any(request.query.get("page") == "2" for request in feed.requests), 30, "page 2")
        Lease.objects.filter(name="sync-partners").update(expires_at=timezone.now() - dt.timedelta(seconds=1))
        taken.append(leases.acquire("sync-partners", seconds=60))
        connection.close()

    thread = threading.Thread(target=take_over)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_sync_that_lost_its_lease_stops_after_the_page_in_flight(db, feed, settings):
    settings.BULKADMIN_LEASE_SECONDS = 3  # renewed each second; page 2 takes longer than that
    feed.pages("/users", [[record(1), record(2)], [record(3), record(4)], [record(5), record(6)]])
    feed.on("/users", Reply({"data": [record(3), record(4)]}, delay=1.5), page="2")
    taken: list[leases.Holder] = []
    thread = take_over_during_page_2(feed, taken)
    with pytest.raises(leases.LeaseLost):
        sync_job(source=source_for(feed), mode="full")
    thread.join(timeout=30)
    assert sorted(stored(db)) == [1, 2, 3, 4]  # page 3 was neither fetched nor written
    assert [request.query.get("page") for request in feed.requests] == ["1", "2"]
    job = Job.objects.get()
    assert (job.status, job.counts["records"], job.counts["created"]) == (Job.Status.INTERRUPTED, 4, 4)
    assert "lost the lease sync-partners" in job.message
    assert Lease.objects.get(name="sync-partners").token == taken[0].token  # the new holder's, kept
