"""Schedules in the Django admin, in a real browser: the list and the change page show each
schedule's next run (in its time zone) and last runs, each linking its job; pausing and resuming
from the list."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from bulkadmin.models import Job, Schedule, ScheduledRun
from tests.schedules.conftest import make_schedule

pytestmark = pytest.mark.django_db(transaction=True)
NIGHT = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 02:30 in Paris


@pytest.fixture
def nightly() -> tuple[Schedule, Job]:
    """A nightly cleanup at 02:30 Paris time that ran last night and skipped the night before."""
    schedule = make_schedule(name="nightly sessions", cron="30 2 * * *", timezone="Europe/Paris")
    job = Job.objects.create(
        kind="cleanup", collection="user_sessions", origin=Job.Origin.CRON, status=Job.Status.SUCCEEDED
    )
    ScheduledRun.objects.create(schedule=schedule, due_at=NIGHT, job=job)
    ScheduledRun.objects.create(
        schedule=schedule, due_at=NIGHT - dt.timedelta(days=1), outcome=ScheduledRun.Outcome.SKIPPED, late=True
    )
    return schedule, job


def test_the_schedule_list_and_page_show_next_and_last_runs_linking_their_jobs(page, nightly):
    schedule, job = nightly
    page.goto("/admin/bulkadmin/schedule/")
    row = page.locator("#result_list tbody tr", has_text="nightly sessions")
    expect(row.locator("td.field-when")).to_have_text("30 2 * * * (Europe/Paris)")
    expect(row.locator("td.field-next_run")).to_have_text("2026-03-03 02:30 CET")
    last_runs = row.locator("td.field-last_runs")
    expect(last_runs).to_contain_text(f"2026-03-02 02:30: job #{job.pk} Succeeded")
    expect(last_runs).to_contain_text("2026-03-01 02:30 (late): Skipped (missed while no worker was up)")

    row.locator("th.field-name a").click()
    page.wait_for_url(f"**/admin/bulkadmin/schedule/{schedule.pk}/change/")
    expect(page.locator(".field-next_run .readonly")).to_have_text("2026-03-03 02:30 CET")
    page.locator(".field-last_runs .readonly").get_by_role("link", name=f"job #{job.pk}").click()
    page.wait_for_url(f"**/admin/bulk/jobs/{job.pk}/")


def test_pausing_and_resuming_from_the_schedule_list(page, nightly):
    page.goto("/admin/bulkadmin/schedule/")
    row = page.locator("#result_list tbody tr", has_text="nightly sessions")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "pause")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_have_text("1 schedule(s) paused.")
    expect(row.locator("td.field-next_run")).to_have_text("paused")
    assert Schedule.objects.get().enabled is False

    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "resume")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_have_text("1 schedule(s) resumed.")
    expect(row.locator("td.field-next_run")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d 02:30 CES?T$"))
    resumed = Schedule.objects.get()
    assert resumed.enabled is True and resumed.next_run_at is not None
    assert resumed.next_run_at > resumed.updated_at  # planned from now: a paused schedule does not catch up
