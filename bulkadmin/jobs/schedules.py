"""Schedules: cleanups, syncs and exports run on their own at the times of a cron expression, by
the workers, exactly once on any number of machines.

Every `manage.py db_worker` looks every `BULKADMIN_SCHEDULE_CHECK_SECONDS` (`check_schedules`).
A schedule is due when its `next_run_at` has passed; the run for its latest due time is claimed
by inserting the one row (schedule, due time) the database allows (`ScheduledRun`), together with
its queued job and task, in one transaction: a worker that loses the race gets `IntegrityError`
and leaves it. However many ticks were missed while no worker was up, only the latest one is
claimed: run once, or skipped when the schedule says so. A scheduled job whose worker died is
queued again for another worker by the workers' watch (`bulkadmin.jobs.watch`), as the same job.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from croniter import CroniterBadDateError, croniter
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from bulkadmin.core import conf
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import tasks
from bulkadmin.jobs.heartbeat import Heartbeat
from bulkadmin.models import Job, Schedule, ScheduledRun

logger = logging.getLogger("bulkadmin.jobs")
CRON_FIELDS = 5  # minute hour day-of-month month day-of-week


class BadSchedule(BulkAdminError):
    """A cron expression or time zone that cannot be used; `.field` names which."""

    def __init__(self, message: str, field: str) -> None:
        self.field = field
        super().__init__(message)


def now() -> dt.datetime:
    """The schedules' time: `BULKADMIN_SCHEDULE_CLOCK` (the real time unless tests change it)."""
    clock: Callable[[], dt.datetime] = import_string(conf.schedule_clock())
    return clock()


def check_cron(expression: str, zone: str) -> None:
    """Refuse (`BadSchedule`) an expression that is not five valid cron fields, names no time
    that exists (`0 0 30 2 *`), or an unknown zone."""
    if len(expression.split()) != CRON_FIELDS or not croniter.is_valid(expression):
        raise BadSchedule(
            f"{expression!r} is not a cron expression: five fields, minute hour day-of-month month day-of-week "
            "(e.g. 30 2 * * * for 02:30 every day).",
            field="cron",
        )
    try:
        croniter(expression, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).get_next(dt.datetime)
    except CroniterBadDateError:
        raise BadSchedule(f"{expression!r} names no date that exists (such as 30 February).", field="cron") from None
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BadSchedule(f"{zone!r} is not a time zone; use a name such as Europe/Paris or UTC.", "timezone") from None


def next_after(expression: str, zone: str, moment: dt.datetime) -> dt.datetime:
    """The first time strictly after `moment` that `expression` names in `zone` (in UTC)."""
    start = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return croniter(expression, start).get_next(dt.datetime).astimezone(dt.UTC)


def latest_at(expression: str, zone: str, moment: dt.datetime) -> dt.datetime:
    """The last time at or before `moment` that `expression` names in `zone` (in UTC)."""
    start = (moment + dt.timedelta(microseconds=1)).astimezone(zoneinfo.ZoneInfo(zone))
    return croniter(expression, start).get_prev(dt.datetime).astimezone(dt.UTC)


def plan(schedule: Schedule, *, moment: dt.datetime | None = None) -> None:
    """Set `schedule.next_run_at` from now (not saved): on creation, after its cron expression or
    time zone changed, and when it is resumed (a paused schedule does not catch up)."""
    check_cron(schedule.cron, schedule.timezone)
    schedule.next_run_at = next_after(schedule.cron, schedule.timezone, moment or now())


@dataclass(frozen=True)
class Due:
    """What one check decided for one schedule: the due time, whether it was missed, and the
    run this worker claimed (None: another worker had it)."""

    schedule: Schedule
    due_at: dt.datetime
    late: bool
    run: ScheduledRun | None


def check_schedules(*, moment: dt.datetime | None = None) -> list[Due]:
    """One look: claim the due run of every enabled schedule whose time has come. Safe on any
    number of workers at once."""
    moment = moment or now()
    claimed = []
    for schedule in Schedule.objects.filter(enabled=True, next_run_at__lte=moment):
        try:
            claimed.append(claim_due(schedule, moment))
        except (CroniterBadDateError, zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            # A stored expression or zone that no longer works (tzdata changed, a shell edit) skips
            # its schedule only; raised, it would stop the scheduler for every schedule.
            logger.error(
                "schedule %s cannot be planned (%s %s): %s", schedule.name, schedule.cron, schedule.timezone, error
            )
    return claimed


def claim_due(schedule: Schedule, moment: dt.datetime) -> Due:
    """Claim the latest due time of `schedule` at `moment` (one row per due time; the loser of a
    race gets None), then move its `next_run_at` past it."""
    planned = schedule.next_run_at or moment
    latest = max(latest_at(schedule.cron, schedule.timezone, moment), planned)
    late = (moment - latest).total_seconds() > conf.schedule_late_seconds()
    skipped = late and schedule.missed == Schedule.Missed.SKIP
    try:
        with transaction.atomic():
            run = _claim(schedule, latest, late=late, skipped=skipped)
    except IntegrityError:
        run = None
    following = next_after(schedule.cron, schedule.timezone, latest)
    Schedule.objects.filter(pk=schedule.pk, next_run_at=planned).update(next_run_at=following)
    if run is not None:
        logger.info("schedule %s: %s run due at %s", schedule.name, run.get_outcome_display().lower(), latest)
    return Due(schedule, latest, late, run)


def _claim(schedule: Schedule, due_at: dt.datetime, *, late: bool, skipped: bool) -> ScheduledRun:
    """The run row (unique per due time) and, unless skipped, its queued job and task."""
    outcome = ScheduledRun.Outcome.SKIPPED if skipped else ScheduledRun.Outcome.QUEUED
    run = ScheduledRun.objects.create(
        schedule=schedule, due_at=due_at, outcome=outcome, late=late, host=socket.gethostname()[:200], pid=os.getpid()
    )
    if skipped:
        return run
    run.job = Job.objects.create(
        kind=schedule.kind,
        collection=schedule.collection,
        parameters=schedule.parameters,
        origin=Job.Origin.CRON,
        message=f"Scheduled by {schedule.name} for {timezone.localtime(due_at):%Y-%m-%d %H:%M %Z}.",
    )
    run.save(update_fields=["job"])
    tasks.run_job.enqueue(run.job.pk)
    return run


def _check_round() -> None:
    close_old_connections()
    check_schedules()


def scheduler() -> Heartbeat:
    """The worker's scheduler: `check_schedules` every `BULKADMIN_SCHEDULE_CHECK_SECONDS` in a
    daemon thread, as a context manager (`manage.py db_worker` runs one)."""
    return Heartbeat(_check_round, interval=conf.schedule_check_seconds())
