"""Claiming due runs in one process: one run (one job) per due time however often the workers
look, the latest tick only after a gap (run once, or skipped), nothing for a paused schedule,
and a dead worker's scheduled job taken over as the same job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import schedules, watch
from bulkadmin.jobs.runner import job_lease_name
from bulkadmin.jobs.runs import CLEANUP_LOCK
from bulkadmin.models import Job, Lease, Schedule, ScheduledRun
from project.collections import UserSession
from tests.factories import days_ago
from tests.schedules.conftest import MOMENT, make_schedule

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
DEAD_WORKER_STARTED = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return MOMENT + dt.timedelta(minutes=minutes)


def test_next_and_latest_times_follow_the_cron_expression_in_its_time_zone():
    paris = "Europe/Paris"
    assert schedules.next_after("30 2 * * *", paris, MOMENT) == dt.datetime(2026, 3, 3, 1, 30, tzinfo=dt.UTC)
    assert schedules.latest_at("30 2 * * *", paris, MOMENT) == dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    whole = dt.datetime(2026, 3, 2, 9, 5, tzinfo=dt.UTC)
    assert schedules.latest_at("*/5 * * * *", "UTC", whole) == whole  # a tick at the moment itself is due
    assert schedules.next_after("*/5 * * * *", "UTC", whole) == whole + 5 * MINUTE
    summer = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)  # Paris is UTC+2 in summer
    assert schedules.next_after("30 2 * * *", paris, summer) == dt.datetime(2026, 7, 1, 0, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("cron", "zone", "field"),
    [
        ("61 * * * *", "UTC", "cron"),
        ("* * * *", "UTC", "cron"),
        ("* * * * * *", "UTC", "cron"),
        ("0 * * * *", "Mars/Olympus", "timezone"),
    ],
)
def test_a_bad_cron_expression_or_time_zone_is_refused_naming_the_field(cron, zone, field):
    with pytest.raises(schedules.BadSchedule) as refused:
        schedules.check_cron(cron, zone)
    assert refused.value.field == field


def test_each_due_time_is_run_once_however_often_and_however_many_look(db):
    bulk_insert(UserSession, [{"token": f"t{n}", "expires_at": days_ago(2)} for n in range(3)])
    schedule = make_schedule()
    assert schedule.next_run_at == at(0.5)  # 09:01:00

    assert schedules.check_schedules(moment=at(0.4)) == []  # not yet due
    first = schedules.check_schedules(moment=at(0.6))
    again = schedules.check_schedules(moment=at(0.7))  # a second worker looking in the same minute
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=at(0.5))  # a worker that read it before the move
    raced = schedules.check_schedules(moment=at(0.8))
    later = schedules.check_schedules(moment=at(1.6))

    assert [due.run is not None for due in first + again + raced + later] == [True, False, True]
    assert [due.due_at for due in first + raced + later] == [at(0.5), at(0.5), at(1.5)]
    assert raced[0].run is None  # the unique (schedule, due time) row refused the second claim
    runs = list(ScheduledRun.objects.order_by("due_at"))
    assert [(run.due_at, run.outcome, run.late) for run in runs] == [
        (at(0.5), "queued", False),
        (at(1.5), "queued", False),
    ]
    jobs = Job.objects.order_by("pk")
    assert [(job.kind, job.origin, job.status, job.collection) for job in jobs] == [
        ("cleanup", "cron", "succeeded", "user_sessions")
    ] * 2
    assert [job.pk for job in jobs] == [run.job_id for run in runs]
    assert jobs[0].counts["deleted"] == 3 and jobs[1].counts["deleted"] == 0
    assert Schedule.objects.get().next_run_at == at(2.5)


def test_ticks_missed_while_no_worker_was_up_run_once_not_once_per_tick(db):
    schedule = make_schedule()
    found = schedules.check_schedules(moment=at(90))  # 90 ticks missed: only the last one runs
    assert [(due.due_at, due.late) for due in found] == [(at(89.5), False)]
    assert Job.objects.count() == 1
    schedule.refresh_from_db()
    assert schedule.next_run_at == at(90.5)

    Schedule.objects.filter(pk=schedule.pk).update(enabled=False)
    daily = make_schedule(name="daily", cron="0 3 * * *")  # next: 03:00 on 3 March
    three_days_later = dt.datetime(2026, 3, 5, 15, 0, tzinfo=dt.UTC)
    schedules.check_schedules(moment=three_days_later)
    runs = ScheduledRun.objects.filter(schedule=daily)
    assert [(run.due_at, run.outcome, run.late) for run in runs] == [
        (dt.datetime(2026, 3, 5, 3, 0, tzinfo=dt.UTC), "queued", True)
    ]
    assert Job.objects.count() == 2
    daily.refresh_from_db()
    assert daily.next_run_at == dt.datetime(2026, 3, 6, 3, 0, tzinfo=dt.UTC)


def test_ticks_missed_while_no_worker_was_up_are_skipped_when_the_schedule_says_so(db):
    make_schedule(cron="0 3 * * *", missed=Schedule.Missed.SKIP)
    schedules.check_schedules(moment=dt.datetime(2026, 3, 5, 15, 0, tzinfo=dt.UTC))
    skipped = dt.datetime(2026, 3, 5, 3, 0, tzinfo=dt.UTC)
    assert [(run.due_at, run.outcome, run.job) for run in ScheduledRun.objects.all()] == [(skipped, "skipped", None)]
    assert Job.objects.count() == 0
    schedules.check_schedules(moment=dt.datetime(2026, 3, 6, 3, 0, 5, tzinfo=dt.UTC))  # the next one, on time, runs
    assert [run.outcome for run in ScheduledRun.objects.order_by("due_at")] == ["skipped", "queued"]
    assert Job.objects.count() == 1


def test_a_run_found_late_but_within_the_late_limit_runs_even_when_missed_runs_are_skipped(db, settings):
    settings.BULKADMIN_SCHEDULE_LATE_SECONDS = 300
    make_schedule(cron="0 3 * * *", missed=Schedule.Missed.SKIP)
    schedules.check_schedules(moment=dt.datetime(2026, 3, 3, 3, 4, 59, tzinfo=dt.UTC))  # 299 s late
    assert [(run.outcome, run.late) for run in ScheduledRun.objects.all()] == [("queued", False)]
    assert Job.objects.count() == 1


def test_a_paused_schedule_never_runs(db):
    make_schedule(enabled=False)
    for minutes in (1, 2, 90):
        assert schedules.check_schedules(moment=at(minutes)) == []
    assert (ScheduledRun.objects.count(), Job.objects.count()) == (0, 0)


def dead_workers_job(*, attempts: int = 0) -> Job:
    """A scheduled cleanup job still `running` whose worker died (silent for 90 s), of 4 expired sessions."""
    bulk_insert(UserSession, [{"token": f"t{n}", "expires_at": days_ago(2)} for n in range(4)])
    make_schedule(enabled=False)
    run = ScheduledRun.objects.create(schedule=Schedule.objects.get(), due_at=at(0.5))
    run.job = Job.objects.create(
        kind="cleanup",
        collection="user_sessions",
        parameters={"rules": ["expired_sessions"], "batch_size": 1000},
        origin=Job.Origin.CRON,
        status=Job.Status.RUNNING,
        heartbeat_at=timezone.now() - dt.timedelta(seconds=90),
        resume_attempts=attempts,
        worker_pid=999_999,
    )
    run.save()
    return run.job


def hold(name: str, *, seconds: float) -> Lease:
    """The lease `name` as the dead worker left it, expiring `seconds` from now (past when negative)."""
    moment = timezone.now()
    return Lease.objects.create(
        name=name, host="gone", pid=999_999, process_started=DEAD_WORKER_STARTED, token="dead",
        acquired_at=moment, heartbeat_at=moment, expires_at=moment + dt.timedelta(seconds=seconds),
    )  # fmt: skip


def test_a_scheduled_job_whose_worker_died_is_taken_over_as_the_same_job_once_all_its_leases_expired(settings):
    settings.BULKADMIN_JOB_STALE_SECONDS, settings.BULKADMIN_AUTO_RESUME = 60, 2
    job = dead_workers_job()
    hold(job_lease_name(job.pk), seconds=-5)
    cleanup = hold(CLEANUP_LOCK, seconds=30)  # renewed by its own thread a moment later

    assert watch.mark_stale_jobs() == 0  # another worker could not take the cleanup lease yet
    assert Job.objects.get().status == Job.Status.RUNNING
    Lease.objects.filter(pk=cleanup.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert watch.mark_stale_jobs() == 1  # queued again at once; the tests' task backend runs it
    assert watch.mark_stale_jobs() == 0
    assert watch.requeue_interrupted_scheduled() == []

    job = Job.objects.get()
    assert (job.pk, job.status, job.resume_attempts, job.counts["deleted"]) == (job.pk, "succeeded", 1, 4)
    assert ScheduledRun.objects.count() == 1


def test_a_scheduled_job_is_queued_again_at_most_the_auto_resume_times(settings):
    settings.BULKADMIN_JOB_STALE_SECONDS, settings.BULKADMIN_AUTO_RESUME = 60, 2
    job = dead_workers_job(attempts=2)
    assert watch.mark_stale_jobs() == 1
    assert watch.requeue_interrupted_scheduled() == []
    job.refresh_from_db()
    assert (job.status, job.resume_attempts) == (Job.Status.INTERRUPTED, 2)
    assert job.message.startswith("Interrupted after 0 rows: its worker (pid 999999) stopped reporting")


def test_an_interrupted_scheduled_job_is_queued_again_but_an_interrupted_command_line_one_is_not(settings):
    settings.BULKADMIN_AUTO_RESUME = 1
    job = dead_workers_job()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.INTERRUPTED, finished_at=timezone.now())
    by_hand = Job.objects.create(kind="cleanup", collection="user_sessions", status=Job.Status.INTERRUPTED)
    assert watch.requeue_interrupted_scheduled() == [job.pk]
    assert watch.requeue_interrupted_scheduled() == []
    assert [(j.pk, j.status, j.resume_attempts) for j in Job.objects.order_by("pk")] == [
        (job.pk, Job.Status.SUCCEEDED, 1),
        (by_hand.pk, Job.Status.INTERRUPTED, 0),
    ]
