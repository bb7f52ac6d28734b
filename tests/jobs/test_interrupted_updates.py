"""A composed update stopped part way by killing a real process (the worker running it, or the
embedded MongoDB server under it): its job says exactly which documents it changed (its undo
records, reconciled with the documents), Undo restores every one of them, and Continue finishes
it over the others without applying a `$inc` twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pymongo import MongoClient

from bulkadmin import devserver
from tests.jobs.machines import (
    MANAGE,
    Machine,
    job,
    machine_timings,
    make_machines,
    wait_for,
)
from tests.processes import manage_environment

pytestmark = [pytest.mark.django_db, pytest.mark.subprocess]

TOTAL = 12_000
BATCH = 200

QUEUE_UPDATE = """
from bulkadmin.web.launch import launch
parameters = {"filter": {}, "update": {"$inc": {"age": 1}}, "batch_size": 200}
print(launch(kind="update", collection="users", parameters=parameters, user=None).pk)
"""

RUN_UPDATE = """
from bulkadmin.jobs.runs import update_job
from bulkadmin.models import Job
job = Job.objects.create(
    kind="update", collection="users", status="queued",
    parameters={"filter": {}, "update": {"$set": {"tier": "gold"}}, "batch_size": 200},
)
print(job.pk, flush=True)
update_job(job)
"""

SETTLE = """
import json, os
from bulkadmin.jobs import rules, runs
from bulkadmin.models import Job
job = Job.objects.get(pk=int(os.environ["JOB"]))
runs.settle_interrupted(job)
print(json.dumps({"counts": job.counts, "details": job.details, "undo": rules.undo_refused(job),
                  "rerun": rules.rerun_refused(job), "continue": rules.resume_refused(job)}))
"""

QUEUE = """
import os
from bulkadmin.jobs import rules, tasks
from bulkadmin.models import Job
from bulkadmin.web.launch import launch
job = Job.objects.get(pk=int(os.environ["JOB"]))
if os.environ["ACTION"] == "continue":
    assert rules.queue_resume(job)
    tasks.run_job.enqueue(job.pk)
else:
    print(launch(kind="undo", collection="users", parameters={"job": job.pk}, user=None).pk)
"""


def environment(mongo_uri: str, database: str, process_database_url: str, tmp_path: Path) -> dict[str, str]:
    return manage_environment(
        mongo_uri=mongo_uri,
        database=database,
        database_url=process_database_url,
        jobs_dir=tmp_path / "shared-storage",
        **machine_timings(),
        BULKADMIN_ALLOW_EMBEDDED="true",
    )


def add_users(collection, **fields) -> None:
    for start in range(0, TOTAL, 4000):
        collection.insert_many(
            [{"name": f"U{n}", "email": f"u{n}@example.com", **fields} for n in range(start, start + 4000)]
        )


def shell(machine: Machine, code: str, action: str = "", job_id: int = 0) -> str:
    done = machine.manage("shell", "-c", code, extra={"ACTION": action, "JOB": str(job_id)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def settle(machine: Machine, job_id: int) -> dict:
    """What the job page shows of an interrupted job: it is settled first."""
    return json.loads(shell(machine, SETTLE, job_id=job_id))


def undo_records(collection) -> int:
    return sum(record["count"] for record in collection.database.bulkadmin_undo.find({}, {"count": 1}))


@pytest.fixture
def machines(db, mongo_uri, tmp_path, process_database_url):
    found = make_machines(tmp_path, 2, environment(mongo_uri, db.name, process_database_url, tmp_path))
    migrated = found[0].manage("migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    yield found
    for machine in found:
        machine.stop()


def test_an_update_whose_worker_is_killed_is_settled_undone_and_continued_without_a_second_inc(db, machines):
    add_users(db.users, age=20)
    web, other = machines
    job_id = int(shell(web, QUEUE_UPDATE))
    url = web.env["DATABASE_URL"]
    doomed = web.start_worker()
    try:
        wait_for(lambda: (job(url, job_id)["rows_done"] or 0) >= 4 * BATCH, 120, "written batches")
    except AssertionError:
        raise AssertionError(f"{job(url, job_id)}\n{web.logs()}") from None
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    other.start_worker()  # its watch marks the dead worker's job interrupted
    wait_for(lambda: job(url, job_id)["status"] == "interrupted", 60, "the interruption")
    changed = {doc["_id"] for doc in db.users.find({"age": 21}, {"_id": 1})}
    assert 0 < len(changed) < TOTAL and db.users.count_documents({"age": 20}) == TOTAL - len(changed)

    shown = settle(web, job_id)
    assert (shown["counts"]["modified"], shown["counts"]["matched"]) == (len(changed), len(changed))
    assert (shown["details"]["undo_records"], shown["details"]["undo_available"]) == (len(changed), True)
    assert shown["undo"] == ""  # Undo is offered; Re-run ($inc twice) is not, Continue is
    assert "$inc would apply twice" in shown["rerun"] and shown["continue"] == ""
    assert undo_records(db.users) == len(changed)  # a batch saved but never written is dropped
    assert settle(web, job_id) == shown  # once

    shell(web, QUEUE, "continue", job_id)
    finished = wait_for(lambda: (row := job(url, job_id))["status"] == "succeeded" and row, 120, "the continued run")
    assert db.users.count_documents({"age": 21}) == TOTAL  # each document once: none 22, none 20
    assert (finished["counts"]["modified"], finished["counts"]["matched"], finished["rows_done"]) == (TOTAL,) * 3
    assert (finished["details"]["undo_records"], undo_records(db.users)) == (TOTAL, TOTAL)

    undo_id = int(shell(web, QUEUE, "undo", job_id))
    undone = wait_for(lambda: (row := job(url, undo_id))["status"] == "succeeded" and row, 120, "the undo")
    assert (undone["details"]["restored"], undone["details"]["conflicts"]) == (TOTAL, [])
    assert db.users.count_documents({"age": 20}) == TOTAL


@pytest.fixture
def private_server(tmp_path):
    """An embedded MongoDB server of this test's own, to kill."""
    folder = tmp_path / "embedded"
    folder.mkdir()
    yield folder
    devserver.stop(folder)


def test_an_update_whose_mongodb_is_killed_is_settled_and_its_undo_restores_every_changed_document(
    private_server, tmp_path, process_database_url
):
    client = MongoClient(devserver.ensure_running(private_server).uri, tz_aware=True)
    add_users(client.killed.users, age=30)
    env = {**environment("", "killed", process_database_url, tmp_path), "BULKADMIN_EMBEDDED_DIR": str(private_server)}
    (machine,) = make_machines(tmp_path, 1, env)
    assert machine.manage("migrate", "-v0").returncode == 0
    runner = subprocess.Popen(
        [sys.executable, MANAGE, "shell", "--no-imports", "-c", RUN_UPDATE],
        cwd=machine.folder,
        env=machine.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    job_id = int(runner.stdout.readline())
    url = env["DATABASE_URL"]
    wait_for(lambda: (job(url, job_id)["rows_done"] or 0) >= 4 * BATCH, 120, "written batches")
    server = devserver.status(private_server)
    os.kill(server.pid, signal.SIGKILL)
    runner.wait(timeout=60)
    stopped = job(url, job_id)
    assert stopped["status"] == "interrupted", stopped

    client = MongoClient(devserver.ensure_running(private_server).uri, tz_aware=True)
    users = client.killed.users
    changed = users.count_documents({"tier": "gold"})
    assert 0 < changed < TOTAL and users.count_documents({"tier": {"$exists": False}}) == TOTAL - changed
    shown = settle(machine, job_id)
    assert (shown["counts"]["modified"], shown["details"]["undo_records"], shown["undo"]) == (changed, changed, "")
    assert shown["rerun"] == ""  # $set twice leaves what once does
    assert undo_records(users) == changed

    restored = json.loads(shell(machine, UNDO_NOW, job_id=job_id))
    assert restored == {"restored": changed, "conflicts": []}
    assert users.count_documents({"tier": {"$exists": True}}) == 0
    assert users.count_documents({"age": 30}) == TOTAL


UNDO_NOW = """
import json, os
from bulkadmin.jobs.runs import undo_job
from bulkadmin.models import Job
undo = Job.objects.create(kind="undo", collection="users", status="queued", parameters={"job": int(os.environ["JOB"])})
result = undo_job(undo)
print(json.dumps({"restored": result.details["restored"], "conflicts": list(result.details["conflicts"])}))
"""
