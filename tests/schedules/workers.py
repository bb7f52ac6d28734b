"""Helpers of the schedule tests that start `db_worker` processes: create a schedule in their
database (through `manage.py shell`), and read or change rows there with SQL."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from tests.jobs.machines import Machine

CREATE = """
import json, os, datetime as dt
from bulkadmin.jobs import schedules
from bulkadmin.models import Schedule
fields = json.loads(os.environ["SCHEDULE"])
past = fields.pop("due_hours_ago", None)
schedule = Schedule(**fields)
schedules.plan(schedule)
if past is not None:
    schedule.next_run_at = schedules.now() - dt.timedelta(hours=past)
schedule.save()
print(schedule.pk)
"""


def create_schedule(machine: Machine, **fields: Any) -> int:
    """A schedule saved in the processes' database (`due_hours_ago`: its next run is that long past)."""
    done = machine.manage("shell", "-c", CREATE, extra={"SCHEDULE": json.dumps(fields)})
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Every row of `sql` in the database at `url`."""
    if urlsplit(url).scheme == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as connection:
            return connection.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(sql).fetchall()


def execute(url: str, sql: str) -> None:
    if urlsplit(url).scheme == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as connection:
            connection.execute(sql)
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


def moment(value: Any) -> dt.datetime:
    """A datetime column's value as an aware datetime (SQLite gives text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def runs(url: str, schedule: int) -> list[dict[str, Any]]:
    """The schedule's runs, by due time, each with its job's status, worker and attempts."""
    found = rows(
        url,
        "SELECT r.due_at, r.outcome, r.late, r.pid, r.job_id, j.status, j.worker_pid, j.resume_attempts, j.origin"
        " FROM bulkadmin_scheduledrun r LEFT JOIN bulkadmin_job j ON j.id = r.job_id"
        f" WHERE r.schedule_id = {int(schedule)} ORDER BY r.due_at",
    )
    names = ("due_at", "outcome", "late", "pid", "job", "status", "worker_pid", "attempts", "origin")
    return [{**dict(zip(names, row, strict=True)), "due_at": moment(row[0]), "late": bool(row[2])} for row in found]


def count(url: str, sql: str) -> int:
    return int(rows(url, sql)[0][0])
