"""`manage.py cleanup_old_data`: list, dry run, a run recorded as a job, failures and the lock."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import leases
from bulkadmin.models import Job, Lease
from project.collections import ApplicationLog, User, UserSession
from tests.factories import days_ago, user

pytestmark = pytest.mark.django_db


def cleanup(*arguments: str) -> str:
    out = io.StringIO()
    call_command("cleanup_old_data", *arguments, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_data(db):
    bulk_insert(
        UserSession, [{"token": "old", "expires_at": days_ago(400)}, {"token": "new", "expires_at": days_ago(-400)}]
    )
    bulk_insert(ApplicationLog, [{"message": "old", "created_at": days_ago(400)}])
    bulk_insert(User, [user(1, is_verified=True, status="deleted"), user(2, is_verified=True)])
    return db


def test_list_shows_every_rule_in_order_with_its_filter():
    lines = cleanup("--list").splitlines()
    assert lines[0].startswith("1. expired_sessions: user_sessions where {expires_at: {$lt: now}} -> delete")
    assert any(
        line.startswith("2. archive_old_logs: ") and "archive into application_logs_archive" in line for line in lines
    )
    assert Job.objects.count() == 0


def test_dry_run_prints_what_each_rule_would_touch_and_writes_nothing(old_data):
    output = cleanup("--dry-run")
    assert "expired_sessions: would delete 1 document(s) in user_sessions" in output
    assert "archive_old_logs: would archive 1 document(s) in application_logs" in output
    assert "deleted_users: would delete 1 document(s) in users" in output
    assert "Total: 3 document(s) would be touched (dry run, nothing written)." in output
    assert old_data.user_sessions.count_documents({}) == 2
    assert old_data.users.count_documents({}) == 2
    job = Job.objects.get()
    assert (job.kind, job.dry_run, job.status) == (Job.Kind.CLEANUP, True, Job.Status.SUCCEEDED)


def test_a_run_prints_counts_per_rule_totals_and_the_job(old_data):
    output = cleanup()
    job = Job.objects.get()
    assert "expired_sessions: deleted 1, modified 0, archived 0 in " in output
    assert "archive_old_logs: deleted 0, modified 0, archived 1 in " in output
    assert "Total: deleted 2, modified 0, archived 1 in " in output
    assert f"Job #{job.pk}: succeeded." in output
    assert (job.kind, job.status, job.dry_run) == (Job.Kind.CLEANUP, Job.Status.SUCCEEDED, False)
    assert (job.counts["deleted"], job.counts["archived"]) == (3, 1)
    assert [rule["rule"] for rule in job.details["rules"]][:2] == ["expired_sessions", "archive_old_logs"]
    assert [doc["token"] for doc in old_data.user_sessions.find()] == ["new"]
    assert [doc["name"] for doc in old_data.users.find()] == ["User 2"]


def test_rule_option_runs_only_the_named_rules(old_data):
    output = cleanup("--rule", "deleted_users", "--rule", "expired_sessions")
    assert output.index("expired_sessions:") < output.index("deleted_users:")
    assert "archive_old_logs" not in output
    assert old_data.application_logs.count_documents({}) == 1
    assert Job.objects.get().parameters["rules"] == ["expired_sessions", "deleted_users"]


def test_an_unknown_rule_is_refused_with_the_declared_names(db):
    with pytest.raises(CommandError, match="Unknown cleanup rule 'nope'. Declared rules: expired_sessions, "):
        cleanup("--rule", "nope")


def test_batch_size_must_be_positive(db):
    with pytest.raises(CommandError, match="--batch-size: '0' must be at least 1"):
        cleanup("--batch-size", "0")


def test_a_failed_rule_exits_non_zero_after_running_the_others(old_data):
    old_data.application_logs.insert_one({"message": "legacy", "created_at": days_ago(300), "host": "a"})
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 rule\(s\) failed: archive_old_logs\."):
        call_command("cleanup_old_data", stdout=out)
    assert "archive_old_logs: FAILED after" in out.getvalue()
    assert "deleted_users: deleted 1" in out.getvalue()
    job = Job.objects.get()
    assert job.status == Job.Status.PARTIAL
    assert job.errors[0]["field"] == "archive_old_logs"


def test_a_second_run_while_one_holds_the_lock_refuses(old_data):
    with leases.exclusive("cleanup"), pytest.raises(CommandError, match="cleanup is already running on host"):
        cleanup()
    assert old_data.users.count_documents({}) == 2
    assert Job.objects.count() == 0
    cleanup()
    assert Job.objects.get().status == Job.Status.SUCCEEDED


def test_the_lease_frees_itself_when_its_holder_stops_renewing_it(old_data):
    """A holder on another machine that died: its lease expired, so the next run takes it over."""
    now = timezone.now()
    Lease.objects.create(
        name="cleanup",
        host="elsewhere",
        pid=4242,
        process_started=now,
        token="dead",
        acquired_at=now - dt.timedelta(minutes=5),
        heartbeat_at=now - dt.timedelta(minutes=2),
        expires_at=now + dt.timedelta(seconds=30),
    )
    with pytest.raises(
        CommandError, match=r"cleanup is already running on host elsewhere \(pid 4242\) since .*; its lease expires at"
    ):
        cleanup()
    Lease.objects.filter(name="cleanup").update(expires_at=now - dt.timedelta(seconds=1))
    cleanup()
    assert old_data.users.count_documents({}) == 1
    assert not Lease.objects.exists()  # released when the run ended
