"""Schedules: factories and a local HTTP server receiving webhooks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from bulkadmin.jobs import schedules
from bulkadmin.models import Job, Schedule
from tests.schedules.hook_server import HookServer

MOMENT = dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=dt.UTC)  # a Monday, 30 s after a whole minute
ADD = "/admin/bulkadmin/schedule/add/"


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


def logged_in(client: Client, *codenames: str, superuser: bool = False) -> Client:
    """`client` logged in as a staff user holding the named bulkadmin permissions."""
    user = User.objects.create_user("editor", password="pw", is_staff=True, is_superuser=superuser)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="bulkadmin"))
    client.force_login(user)
    return client


def schedule_form(**fields: Any) -> dict[str, Any]:
    """The add form of a nightly cleanup of the expired sessions (UTC), with `fields` changed."""
    return {
        "name": "nightly",
        "kind": "cleanup",
        "cron": "30 2 * * *",
        "timezone": "UTC",
        "enabled": "on",
        "missed": "run_once",
        "rules": ["expired_sessions"],
        "batch_size": "500",
        "mode": "incremental",
        "export_format": "csv",
        "export_filter": "{}",
        **fields,
    }


def form_errors(response: Any) -> dict[str, list[str]]:
    """The schedule admin form's errors, by field."""
    return {name: list(found) for name, found in response.context["adminform"].form.errors.items()}
