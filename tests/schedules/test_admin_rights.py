"""Schedules in the Django admin, through its real views: a user edits a schedule only with the
right its operation needs on every collection it touches (cleanup: `delete_`, sync: `import_`,
export: `export_`, and `view_`), sees only those it may view, and pauses or resumes only those
it may edit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from bulkadmin.models import Job, Schedule
from tests.schedules.conftest import ADD, form_errors, logged_in, make_schedule, schedule_form

pytestmark = pytest.mark.django_db
LIST = "/admin/bulkadmin/schedule/"


def test_a_cleanup_schedule_needs_the_delete_right_on_each_rules_collection(client):
    editor = logged_in(client, "view_user_sessions", "delete_user_sessions")
    refused = editor.post(ADD, schedule_form(name="logs", rules=["archive_old_logs"]))
    assert form_errors(refused) == {
        "rules": ["Select a valid choice. archive_old_logs is not one of the available choices."]
    }
    assert editor.post(ADD, schedule_form()).status_code == 302
    schedule = Schedule.objects.get()
    assert (schedule.kind, schedule.collection, schedule.parameters) == (
        "cleanup",
        "user_sessions",
        {"rules": ["expired_sessions"], "batch_size": 500},
    )
    assert schedule.next_run_at is not None and schedule.next_run_at.strftime("%M") == "30"


def test_a_sync_schedule_needs_the_import_right_and_an_export_schedule_the_export_right(client):
    editor = logged_in(client, "view_users", "delete_users")  # may schedule the users' cleanups only
    sync = editor.post(ADD, schedule_form(name="sync", kind="sync", source="demo_users", rules=[]))
    assert form_errors(sync) == {"source": ["Select a valid choice. demo_users is not one of the available choices."]}
    export = editor.post(ADD, schedule_form(name="export", kind="export", export_collection="users", rules=[]))
    assert form_errors(export) == {
        "export_collection": ["Select a valid choice. users is not one of the available choices."]
    }
    assert Schedule.objects.count() == 0

    for codename in ("import_users", "export_users"):
        User.objects.get().user_permissions.add(Permission.objects.get(codename=codename))
    assert editor.post(ADD, schedule_form(name="sync", kind="sync", source="demo_users", rules=[])).status_code == 302
    assert (
        editor.post(ADD, schedule_form(name="export", kind="export", export_collection="users", rules=[])).status_code
        == 302
    )
    assert sorted(Schedule.objects.values_list("name", "kind", "collection")) == [
        ("export", "export", "users"),
        ("sync", "sync", "users"),
    ]


def test_a_user_who_may_only_view_sees_a_schedule_but_cannot_change_pause_or_add_one(client):
    schedule = make_schedule()
    make_schedule(
        name="logs", parameters={"rules": ["archive_old_logs"], "batch_size": 10}, collection="application_logs"
    )
    viewer = logged_in(client, "view_user_sessions")
    listed = viewer.get(LIST)
    assert [row.name for row in listed.context["cl"].result_list] == ["sessions"]  # not the logs' schedule
    assert viewer.get(ADD).status_code == 403
    change = f"{LIST}{schedule.pk}/change/"
    assert viewer.get(change).status_code == 200  # read only
    assert viewer.post(change, schedule_form(name="renamed")).status_code == 403
    paused = viewer.post(LIST, {"action": "pause", "_selected_action": [schedule.pk]}, follow=True)
    assert [str(message) for message in paused.context["messages"]] == ["0 schedule(s) paused."]
    assert list(Schedule.objects.values_list("name", "enabled")) == [("logs", True), ("sessions", True)]


def test_pausing_stops_a_schedule_and_resuming_plans_it_from_now(client):
    schedule = make_schedule()  # planned from 2026-03-02, long past
    editor = logged_in(client, "view_user_sessions", "delete_user_sessions")
    paused = editor.post(LIST, {"action": "pause", "_selected_action": [schedule.pk]}, follow=True)
    assert [str(message) for message in paused.context["messages"]] == ["1 schedule(s) paused."]
    assert Schedule.objects.get().enabled is False
    resumed = editor.post(LIST, {"action": "resume", "_selected_action": [schedule.pk]}, follow=True)
    assert [str(message) for message in resumed.context["messages"]] == ["1 schedule(s) resumed."]
    schedule = Schedule.objects.get()
    assert schedule.enabled is True
    assert schedule.next_run_at is not None and schedule.next_run_at > schedule.updated_at  # no catching up
    assert Job.objects.count() == 0
