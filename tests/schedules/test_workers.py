"""Schedules run by three real `db_worker` processes sharing one database: every due run of an
every-minute schedule happens exactly once (time passes 30 times faster for the schedules), a
paused schedule never runs, a run missed while no worker was up runs once on start-up, and a
worker killed while running a scheduled job lets another take it over after the lease, as the
same job, without a second run."""

from __future__ import annotations

import datetime as dt
import itertools
import signal
import time

import pytest

from bulkadmin.bulk import bulk_insert
from project.collections import UserSession
from tests.factories import days_ago
from tests.jobs.machines import (
    machine_timings,
    make_machines,
    wait_for,
)
from tests.processes import manage_environment
from tests.schedules import clock
from tests.schedules.workers import count, create_schedule, execute, runs

pytestmark = [pytest.mark.django_db, pytest.mark.subprocess]
SPEED = 30  # a minute of the schedules passes in 2 seconds
FINISHED = ("succeeded", "partial", "failed", "cancelled", "interrupted")
SESSIONS_CLEANUP = {"rules": ["expired_sessions"], "batch_size": 1000}


@pytest.fixture
def machines(db, mongo_uri, tmp_path, process_database_url):
    """Three machines sharing the database and MongoDB; their schedules' time runs `SPEED` times fast."""
    env = manage_environment(
        mongo_uri=mongo_uri,
        database=db.name,
        database_url=process_database_url,
        jobs_dir=tmp_path / "shared-storage",
        **machine_timings(),
        BULKADMIN_SCHEDULE_CHECK_SECONDS="0.1",
        LOG_LEVEL="INFO",
        **clock.environment(SPEED),
    )
    found = make_machines(tmp_path, 3, env)
    migrated = found[0].manage("migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    yield found
    for machine in found:
        machine.stop()


def test_every_due_run_of_an_every_minute_schedule_happens_exactly_once_on_three_workers(machines):
    url = machines[0].env["DATABASE_URL"]
    minute = create_schedule(
        machines[0], name="every minute", kind="cleanup", parameters=SESSIONS_CLEANUP, collection="user_sessions",
        cron="* * * * *",
    )  # fmt: skip
    paused = create_schedule(
        machines[0], name="paused", kind="cleanup", parameters=SESSIONS_CLEANUP, collection="user_sessions",
        cron="* * * * *", enabled=False, due_hours_ago=1,
    )  # fmt: skip
    pids = {machine.start_worker().pid for machine in machines}

    wait_for(lambda: len(runs(url, minute)) >= 5, 90, "five runs of the every-minute schedule")
    execute(url, f"UPDATE bulkadmin_schedule SET enabled = {pause_value(url)} WHERE id = {minute}")
    time.sleep(2 * 60 / SPEED)  # a run claimed just before the pause is queued by now
    claimed = [run["due_at"] for run in runs(url, minute)]
    time.sleep(3 * 60 / SPEED)  # three more minutes of the schedules: none runs
    assert [run["due_at"] for run in runs(url, minute)] == claimed
    done = wait_for(lambda: finished(runs(url, minute)), 60, "the jobs to finish")

    dues = [run["due_at"] for run in done]
    assert len(dues) >= 5
    assert [later - earlier for earlier, later in itertools.pairwise(dues)] == [dt.timedelta(minutes=1)] * (
        len(dues) - 1
    )
    assert [(run["outcome"], run["status"], run["origin"], run["attempts"]) for run in done] == [
        ("queued", "succeeded", "cron", 0)
    ] * len(dues)
    assert {run["pid"] for run in done} <= pids and {run["worker_pid"] for run in done} <= pids
    jobs = count(url, "SELECT COUNT(*) FROM bulkadmin_job")
    assert jobs == len({run["job"] for run in done}) == len(dues)  # one job per due time, no other
    logs = "".join(machine.logs() for machine in machines)
    for run in done:  # each job started once, on one worker
        assert logs.count(f'"event": "job_started", "job": {run["job"]}, "kind": "cleanup"') == 1
    assert runs(url, paused) == []


def finished(found: list[dict]) -> list[dict]:
    """`found` once every run's job has finished, else []."""
    return found if all(run["status"] in FINISHED for run in found) else []


def pause_value(url: str) -> str:
    return "0" if url.startswith("sqlite") else "false"


def test_a_worker_killed_while_running_a_scheduled_job_lets_another_take_it_over_without_a_second_run(db, machines):
    bulk_insert(UserSession, [{"token": f"t{n}", "expires_at": days_ago(400)} for n in range(20_000)])
    url = machines[0].env["DATABASE_URL"]
    yearly = create_schedule(
        machines[0], name="yearly", kind="cleanup", parameters={"rules": ["expired_sessions"], "batch_size": 5},
        collection="user_sessions", cron="0 0 1 1 *", due_hours_ago=2,
    )  # fmt: skip
    doomed = machines[0].start_worker()  # missed while no worker was up: it runs once, on start-up
    first = wait_for(
        lambda: (found := runs(url, yearly)) and found[0]["status"] == "running" and found[0]["worker_pid"] and found,
        60,
        "the scheduled job to start",
    )
    assert [(run["late"], run["pid"], run["worker_pid"]) for run in first] == [(True, doomed.pid, doomed.pid)]
    wait_for(lambda: db.user_sessions.count_documents({}) < 20_000, 60, "the first deleted batch")
    survivors = {machines[1].start_worker().pid, machines[2].start_worker().pid}
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert db.user_sessions.count_documents({}) > 0, "the job ended before its worker could be killed"

    done = wait_for(
        lambda: (found := runs(url, yearly)) and found[0]["status"] in FINISHED and found, 180, "the taken-over job"
    )
    time.sleep(2)  # nothing else runs
    assert runs(url, yearly) == done
    assert len(done) == 1
    run = done[0]
    assert (run["job"], run["status"], run["attempts"]) == (first[0]["job"], "succeeded", 1)
    assert run["worker_pid"] in survivors
    assert count(url, "SELECT COUNT(*) FROM bulkadmin_job") == 1
    assert db.user_sessions.count_documents({}) == 0
    logs = machines[1].logs() + machines[2].logs()
    assert f"job {run['job']}: a scheduled run queued again after its worker died" in logs
