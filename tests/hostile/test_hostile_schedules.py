"""Schedules in the Django admin, attacked by a staff user: cron expressions that never or
always fire, unknown zones, forged choices, webhooks to other schemes, email lists that are
too long or carry headers, export filters with operators outside the allow-list.

Webhooks: only http(s) is accepted. A webhook to this host (127.0.0.1, localhost) is accepted
on purpose: the receiver gets a JSON POST of the job's summary, which the user could read
anyway, and tests and single-host deployments post to a local receiver."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from bulkadmin.jobs import schedules
from bulkadmin.models import NoticePreference, Schedule, ScheduledRun
from tests.schedules.conftest import ADD, MOMENT, form_errors, logged_in, make_schedule, schedule_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client: Client) -> Client:
    return logged_in(client, superuser=True)


@pytest.mark.parametrize(
    "cron",
    [
        "* * * * * *",
        "@reboot",
        "@hourly",
        "0-1000 * * * *",
        "*/0 * * * *",
        "",
        "* * * *",
        "61 * * * *",
        "0 0 30 2 *",
        "0 0 31 4 *",
        "0 0 0 * *",
    ],
)
def test_a_cron_expression_that_is_not_five_usable_fields_is_refused(root, cron):
    response = root.post(ADD, schedule_form(cron=cron))
    assert response.status_code == 200, cron
    assert list(form_errors(response)) == ["cron"]
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "", "UTC\x00", "/etc/localtime", "Europe/"])
def test_an_unknown_time_zone_is_refused(root, zone):
    response = root.post(ADD, schedule_form(timezone=zone))
    assert response.status_code == 200
    assert "timezone" in form_errors(response)
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "javascript:alert(1)", "ftps://a.b/"]
)
def test_a_webhook_that_is_not_http_is_refused(root, url):
    response = root.post(ADD, schedule_form(notify_webhook=url))
    assert response.status_code == 200
    assert list(form_errors(response)) == ["notify_webhook"]
    assert Schedule.objects.count() == 0


def test_a_webhook_to_this_host_is_accepted_by_choice(root):
    assert root.post(ADD, schedule_form(notify_webhook="http://127.0.0.1:8000/hook")).status_code == 302
    assert Schedule.objects.get().notify_webhook == "http://127.0.0.1:8000/hook"


@pytest.mark.parametrize(
    "emails",
    [
        "ops@example.com\nBcc: victim@example.com",
        "ops@example.com\r\nSubject: hi",
        "not an address",
        ",".join(f"user{n}@example.com" for n in range(10_000)),
    ],
)
def test_a_bad_or_huge_email_list_is_refused(root, emails):
    response = root.post(ADD, schedule_form(notify_emails=emails))
    assert response.status_code == 200
    assert list(form_errors(response)) == ["notify_emails"]
    assert Schedule.objects.count() == 0


def test_a_list_of_addresses_one_a_line_or_comma_separated_is_kept(root):
    emails = "ops@example.com, dev@example.com\nboss@example.com"
    assert root.post(ADD, schedule_form(notify_emails=emails)).status_code == 302
    assert Schedule.objects.get().notify_emails == emails


@pytest.mark.parametrize(
    "chosen_filter",
    [
        '{"$where": "sleep(100)"}',
        '{"name": {"$function": {"body": "x"}}}',
        '{"$expr": {"$gt": ["$age", 1]}}',
        '{"age": {"$gt": 1, "$where": "x"}}',
        "[1]",
        '"x"',
        '{"a": ' * 500 + "1" + "}" * 500,
    ],
)
def test_an_export_filter_outside_the_allow_list_is_refused(client, chosen_filter):
    editor = logged_in(client, "view_users", "export_users")
    response = editor.post(
        ADD, schedule_form(kind="export", rules=[], export_collection="users", export_filter=chosen_filter)
    )
    assert response.status_code == 200
    assert list(form_errors(response)) == ["export_filter"]
    assert Schedule.objects.count() == 0


def test_a_forged_collection_outside_the_choices_is_refused(client):
    editor = logged_in(client, "view_user_sessions", "delete_user_sessions")
    export = editor.post(ADD, schedule_form(kind="export", rules=[], export_collection="users", cron="* * * * *"))
    cleanup = editor.post(ADD, schedule_form(name="logs", rules=["archive_old_logs"], cron="* * * * *"))
    sync = editor.post(ADD, schedule_form(name="s", kind="sync", rules=[], source="demo_users"))
    bogus_kind = editor.post(ADD, schedule_form(name="k", kind="update"))
    assert [r.status_code for r in (export, cleanup, sync, bogus_kind)] == [200, 200, 200, 200]
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd"])
def test_a_users_own_notice_webhook_must_be_http_too(client, url):
    editor = logged_in(client)
    response = editor.post("/admin/bulkadmin/noticepreference/add/", {"long_job_seconds": "60", "webhook": url})
    assert response.status_code == 200 and "webhook" in response.context["adminform"].form.errors
    assert not NoticePreference.objects.exists()


def test_a_schedule_the_user_may_not_edit_cannot_be_changed_by_a_forged_post(client):
    schedule = Schedule.objects.create(
        name="logs",
        kind="cleanup",
        parameters={"rules": ["archive_old_logs"], "batch_size": 1000},
        collection="application_logs",
        cron="0 3 * * *",
    )
    editor = logged_in(client, "view_user_sessions", "delete_user_sessions", "view_application_logs")
    response = editor.post(
        f"/admin/bulkadmin/schedule/{schedule.pk}/change/", schedule_form(name="logs", cron="* * * * *")
    )
    assert response.status_code == 403
    assert Schedule.objects.get().cron == "0 3 * * *"


@pytest.mark.parametrize("size", [str(10**30), "0", "-5", "100001"])
def test_a_cleanup_batch_size_outside_one_to_a_hundred_thousand_is_refused(root, size):
    response = root.post(ADD, schedule_form(batch_size=size))
    assert response.status_code == 200 and list(form_errors(response)) == ["batch_size"]
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize("fields", ["$where", "password", ",".join(f"f{n}" for n in range(5000))])
def test_export_fields_the_model_does_not_have_are_refused(client, fields):
    editor = logged_in(client, "view_users", "export_users")
    response = editor.post(ADD, schedule_form(kind="export", rules=[], export_collection="users", export_fields=fields))
    assert response.status_code == 200 and list(form_errors(response)) == ["export_fields"]
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize(("field", "value"), [("export_format", "xml"), ("mode", "drop_all"), ("missed", "always")])
def test_a_forged_format_mode_or_missed_choice_is_refused(client, field, value):
    editor = logged_in(client, "view_users", "export_users", "import_users")
    kind = "sync" if field == "mode" else "export"
    base = schedule_form(kind=kind, rules=[], export_collection="users", source="demo_users")
    response = editor.post(ADD, {**base, field: value})
    assert response.status_code == 200 and field in form_errors(response)
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize("action", ["pause", "resume", "delete_selected"])
def test_a_forged_list_action_on_a_schedule_the_user_may_not_edit_changes_nothing(client, action):
    schedule = Schedule.objects.create(
        name="logs",
        kind="cleanup",
        parameters={"rules": ["archive_old_logs"], "batch_size": 1000},
        collection="application_logs",
        cron="0 3 * * *",
        enabled=action != "resume",
    )
    editor = logged_in(client, "view_user_sessions", "delete_user_sessions", "view_application_logs")
    data = {"action": action, "_selected_action": [str(schedule.pk)], "post": "yes"}
    editor.post("/admin/bulkadmin/schedule/", data)
    stored = Schedule.objects.get()
    assert (stored.enabled, stored.cron) == (action != "resume", "0 3 * * *")


@pytest.mark.parametrize(("cron", "zone"), [("0 0 30 2 *", "UTC"), ("* * * * *", "Atlantis/Lost")])
def test_a_stored_schedule_that_cannot_be_planned_does_not_stop_the_others(cron, zone):
    """Stored outside the admin (a shell, a time zone gone from tzdata), it is skipped, logged."""
    broken = make_schedule(name="broken")
    Schedule.objects.filter(pk=broken.pk).update(cron=cron, timezone=zone)
    good = make_schedule(name="good")
    claimed = schedules.check_schedules(moment=MOMENT + dt.timedelta(minutes=1))
    assert [due.schedule.name for due in claimed] == ["good"] and claimed[0].run is not None
    assert ScheduledRun.objects.get().schedule == good
