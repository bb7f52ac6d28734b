"""Jobs queued with the database task backend and run by a real `db_worker`."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from bulkadmin.models import Job
from tests.web.helpers import compose_data, confirm_data, run_cleanup

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
def test_confirmed_update_waits_in_the_queue_until_a_worker_runs_it(admin_client_, people, settings):
    settings.TASKS = DB_TASKS
    filters, updates = [("age", "gte", "40")], [("$set", "status", "mature")]
    preview = admin_client_.post("/admin/bulk/update/", compose_data(filters=filters, updates=updates))
    admin_client_.post("/admin/bulk/update/", confirm_data(preview, filters=filters, updates=updates))
    job = Job.objects.get()
    assert job.status == "queued" and people.count_documents({"status": "mature"}) == 0
    assert DBTaskResult.objects.count() == 1
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert 'id="cancel-button"' in page and 'data-finished="0"' in page

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--max-tasks", "1", verbosity=0)

    job.refresh_from_db()
    assert (job.status, job.counts["modified"], job.worker_pid is not None) == ("succeeded", 10, True)
    assert people.count_documents({"status": "mature"}) == 10
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_a_cleanup_from_the_page_waits_in_the_queue_until_a_worker_runs_it(admin_client_, db, settings, tmp_path):
    from tests.web.helpers import cleanup_data

    settings.TASKS = DB_TASKS
    cleanup_data(db)
    response = run_cleanup(admin_client_, rule="expired_sessions", follow=True)
    job = Job.objects.get()
    assert job.status == "queued" and f"job #{job.pk} is queued" in response.content.decode()
    again = run_cleanup(admin_client_, follow=True)
    assert f"A cleanup is already waiting in the queue as job #{job.pk}" in again.content.decode()

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--max-tasks", "1", verbosity=0)

    job.refresh_from_db()
    assert (job.status, job.counts["deleted"], job.origin) == ("succeeded", 3, "web")
    assert db.user_sessions.count_documents({}) == 2
    assert Job.objects.count() == 1
