"""Notices: a failing scheduled sync sends one email and one webhook POST (a real HTTP server on
127.0.0.1) with the job's link and its error; success is told only when asked; a user hears of
their long job's end; a webhook that does not answer or fails neither holds up nor fails any job."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth.models import User as DjangoUser

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import notices, schedules
from bulkadmin.jobs.parameters import SyncParameters
from bulkadmin.models import Job, NoticePreference
from bulkadmin.operations.cleanup import rules
from bulkadmin.web.launch import launch_cleanup
from project.collections import UserSession
from tests.factories import days_ago
from tests.feed_server import Reply, serve, users_source
from tests.schedules.conftest import MOMENT, make_schedule
from tests.schedules.hook_server import Answer

pytestmark = pytest.mark.django_db
SITE = "https://bulk.example.com"


def minute(number: int) -> dt.datetime:
    return MOMENT + dt.timedelta(minutes=number)


@pytest.fixture
def broken_feed(settings):
    """A settings sync source `feed` whose API answers 500 to everything."""
    for server in serve():
        server.on("/users", Reply({"error": "database on fire"}, status=500))
        settings.BULKADMIN_SYNC_SOURCES = {"feed": users_source(f"{server.url}/users")}
        yield server


def test_a_failing_scheduled_sync_sends_one_email_and_one_webhook_with_the_job_link_and_its_error(
    db, settings, broken_feed, hooks, mailoutbox
):
    settings.BULKADMIN_SITE_URL = SITE
    make_schedule(
        name="nightly feed",
        kind=Job.Kind.SYNC,
        parameters=SyncParameters("feed", "full").to_parameters(),
        collection="users",
        notify_emails="ops@example.com,\nlead@example.com",
        notify_webhook=hooks.url,
    )
    schedules.check_schedules(moment=minute(1))
    assert notices.wait_for_notices(10)

    job = Job.objects.get()
    assert (job.kind, job.origin, job.status) == ("sync", "cron", "failed")
    assert "500" in job.message
    link = f"{SITE}/admin/bulk/jobs/{job.pk}/"
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["ops@example.com", "lead@example.com"]
    assert email.subject == f"[bulkadmin] Scheduled sync 'nightly feed' failed: job #{job.pk}"
    assert f"Job: {link}\n" in email.body and f"Message: {job.message}\n" in email.body
    received = hooks.wait_for(1, 5)
    time.sleep(0.3)  # nothing more arrives
    assert len(hooks.received) == 1
    body = received[0]["json"]
    assert received[0]["headers"]["Content-Type"] == "application/json"
    assert body["event"] == "job_failed"
    assert body["job"]["id"] == job.pk and body["job"]["url"] == link and body["job"]["status"] == "failed"
    assert body["job"]["error"] == job.message
    assert body["schedule"]["name"] == "nightly feed"
    assert body["schedule"]["due_at"] == "2026-03-02T09:01:00+00:00"


def test_a_succeeding_scheduled_run_is_told_only_when_its_schedule_asks(db, hooks, mailoutbox):
    quiet = make_schedule(notify_emails="ops@example.com", notify_webhook=hooks.url)
    schedules.check_schedules(moment=minute(1))
    assert notices.wait_for_notices(10)
    assert Job.objects.get().status == "succeeded"
    assert (len(mailoutbox), len(hooks.received)) == (0, 0)

    quiet.notify_on_success = True
    quiet.save()
    schedules.check_schedules(moment=minute(2))
    assert notices.wait_for_notices(10)
    assert len(mailoutbox) == 1 and "succeeded" in mailoutbox[0].subject
    assert [hook["json"]["event"] for hook in hooks.wait_for(1, 5)] == ["job_succeeded"]


def test_a_webhook_that_does_not_answer_does_not_hold_up_the_next_job(db, settings, hooks):
    settings.BULKADMIN_WEBHOOK_TIMEOUT = 60
    settings.BULKADMIN_WEBHOOK_RETRIES = 0
    hooks.answer(Answer(204, held=True))  # no answer until released
    make_schedule(notify_webhook=hooks.url, notify_on_success=True)
    schedules.check_schedules(moment=minute(1))
    schedules.check_schedules(moment=minute(2))  # the first job's notice is still waiting for its answer

    assert [job.status for job in Job.objects.order_by("pk")] == ["succeeded", "succeeded"]
    assert notices.wait_for_notices(0) is False  # both notices still being sent, in the background
    hooks.release()
    assert notices.wait_for_notices(20)
    jobs = list(Job.objects.order_by("pk").values_list("pk", flat=True))
    assert sorted(hook["json"]["job"]["id"] for hook in hooks.received) == jobs  # each notice went, once


def test_a_failing_webhook_is_tried_again_and_fails_no_job(db, settings, hooks):
    settings.BULKADMIN_WEBHOOK_TIMEOUT = 1
    settings.BULKADMIN_WEBHOOK_RETRIES = 1
    hooks.answer(Answer(500))
    make_schedule(notify_webhook=hooks.url, notify_on_success=True)
    schedules.check_schedules(moment=minute(1))
    schedules.check_schedules(moment=minute(2))
    assert [job.status for job in Job.objects.order_by("pk")] == ["succeeded", "succeeded"]

    assert notices.wait_for_notices(20)
    assert len(hooks.received) == 4  # each notice: one attempt and one retry
    assert [job.status for job in Job.objects.order_by("pk")] == ["succeeded", "succeeded"]


def test_a_refused_webhook_is_not_tried_again_and_a_server_error_is(hooks):
    hooks.answer(Answer(404))
    assert notices.post_webhook(hooks.url, {"n": 1}, timeout=2, retries=3) is False
    assert len(hooks.received) == 1
    hooks.answer(Answer(503), Answer(204))
    assert notices.post_webhook(hooks.url, {"n": 2}, timeout=2, retries=3) is True
    assert [hook["json"] for hook in hooks.received] == [{"n": 1}, {"n": 2}, {"n": 2}]


def test_a_user_hears_when_a_long_job_they_started_ends(db, hooks, mailoutbox):
    bulk_insert(UserSession, [{"token": f"t{n}", "expires_at": days_ago(2)} for n in range(3)])
    alice = DjangoUser.objects.create_superuser("alice", "alice@example.com", "pw")
    bob = DjangoUser.objects.create_superuser("bob", "bob@example.com", "pw")
    carol = DjangoUser.objects.create_superuser("carol", "carol@example.com", "pw")
    NoticePreference.objects.create(user=alice, long_job_seconds=0, webhook=hooks.url)
    NoticePreference.objects.create(user=carol, long_job_seconds=3600)  # her jobs are not long
    selected = rules.select(["expired_sessions"])
    for user in (alice, bob, carol):  # bob set no preference
        launch_cleanup(rules=selected, dry_run=False, user=user)
    assert notices.wait_for_notices(10)

    job = Job.objects.get(user=alice)
    assert [(email.to, email.subject) for email in mailoutbox] == [
        (["alice@example.com"], f"[bulkadmin] Your cleanup of user_sessions succeeded: job #{job.pk}")
    ]
    assert [(hook["json"]["job"]["id"], hook["json"]["job"]["user"]) for hook in hooks.wait_for(1, 5)] == [
        (job.pk, "alice")
    ]
    assert Job.objects.filter(status="succeeded").count() == 3
