"""Schedules: factories and a local HTTP server receiving webhooks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from bulkadmin.jobs import schedules
from bulkadmin.models import Job, Schedule
from tests.schedules.hook_server import HookServer

MOMENT = dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=dt.UTC)  # a Monday, 30 s after a whole minute


def make_schedule(*, moment: dt.datetime = MOMENT, **fields: Any) -> Schedule:
    """A saved schedule (default: the expired sessions' cleanup every minute), planned from `moment`."""
    values: dict[str, Any] = {
        "name": "sessions",
        "kind": Job.Kind.CLEANUP,
        "parameters": {"rules": ["expired_sessions"], "batch_size": 1000},
        "collection": "user_sessions",
        "cron": "* * * * *",
        **fields,
    }
    schedule = Schedule(**values)
    schedules.plan(schedule, moment=moment)
    schedule.save()
    return schedule


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    server = HookServer()
    server.start()
    yield server
    server.stop()
