"""The job result page: figures, live status, chart, errors, cancel, undo, interrupted jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bulkadmin.jobs import watch
from bulkadmin.jobs.runner import track_job
from bulkadmin.models import Job
from bulkadmin.operations import updates
from bulkadmin.operations.progress import Cancelled
from project.collections import User
from tests.web.helpers import compose_data, confirm_data

pytestmark = pytest.mark.django_db


def run_update(client, filters, updates):
    preview = client.post("/admin/bulk/update/", compose_data(filters=filters, updates=updates))
    client.post("/admin/bulk/update/", confirm_data(preview, filters=filters, updates=updates))
    return Job.objects.filter(kind="update").first()


def test_result_page_shows_status_counts_chart_and_parameters(admin_client_, people):
    job = run_update(admin_client_, [("age", "lt", "30")], [("$set", "tier", "gold")])
    response = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/")
    page = response.content.decode()
    assert dict(response.context["counts"])["modified"] == 10
    assert "Succeeded" in page and 'width: 100%"' in page
    assert page.count("<rect") == 2 and "Throughput per batch" in page
    assert "&quot;$set&quot;" in page and "root · Web" in page
    assert 'id="undo-button"' in page and 'id="rerun-link"' in page
    assert 'id="cancel-button"' not in page


def test_status_endpoint_reports_progress_as_json(admin_client_, db):
    job = Job.objects.create(kind="delete", collection="users", status="running", rows_done=25, rows_total=100)
    job.started_at = job.heartbeat_at = timezone.now()
    job.save()
    status = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/status/").json()
    assert (status["status"], status["finished"], status["percent"], status["rows_done"]) == ("running", False, 25, 25)


def test_running_job_whose_worker_stopped_reporting_is_marked_interrupted_by_the_workers(admin_client_, db, settings):
    settings.BULKADMIN_JOB_STALE_SECONDS = 60
    stale = timezone.now() - dt.timedelta(seconds=120)
    job = Job.objects.create(kind="update", collection="users", status="running", started_at=stale, heartbeat_at=stale)
    fresh = Job.objects.create(
        kind="update", collection="users", status="running", started_at=stale, heartbeat_at=timezone.now()
    )
    assert admin_client_.get(f"/admin/bulk/jobs/{job.pk}/status/").json()["status"] == "running"  # GET writes nothing
    assert watch.mark_stale_jobs() == 1  # what every worker does every few seconds
    assert admin_client_.get(f"/admin/bulk/jobs/{job.pk}/status/").json()["status"] == "interrupted"
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert "stopped reporting" in job.message and fresh.status == "running"


def test_cancel_of_a_queued_job_stops_it_before_it_starts(admin_client_, db):
    job = Job.objects.create(kind="update", collection="users", status="queued")
    response = admin_client_.post(f"/admin/bulk/jobs/{job.pk}/cancel/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("cancelled", True)


def test_cancel_of_a_running_job_asks_it_to_stop_between_batches(admin_client_, db):
    job = Job.objects.create(kind="delete", collection="users", status="running", heartbeat_at=timezone.now())
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/cancel/")
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("running", True)


def test_a_cancelled_update_stops_between_batches_and_says_how_far_it_got(people):
    job = Job.objects.create(kind="update", collection="users")
    with pytest.raises(Cancelled), track_job(kind="update", job=job) as run:

        def progress(done: int, total: int | None) -> None:
            if done:  # a user presses Cancel while the first batch is written
                Job.objects.filter(pk=job.pk).update(cancel_requested=True)
            run.progress(done, total)

        updates.run_update(
            model=User, filter={}, update={"$set": {"tier": "gold"}}, undo_key=job.pk, batch_size=10, progress=progress
        )
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.message) == ("cancelled", 10, f"Job {job.pk} was cancelled after 10 rows.")
    assert people.count_documents({"tier": "gold"}) == 10


def test_undo_restores_the_documents_and_links_both_jobs(admin_client_, people):
    before = {doc["_id"]: doc for doc in people.find()}
    job = run_update(admin_client_, [("age", "lt", "30")], [("$inc", "age", "100")])
    response = admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    undo = Job.objects.get(kind="undo")
    assert response["Location"] == f"/admin/bulk/jobs/{undo.pk}/"
    assert (undo.status, undo.counts["updated"], undo.parameters) == ("succeeded", 10, {"job": job.pk})
    assert {doc["_id"]: doc for doc in people.find()} == before
    job.refresh_from_db()
    assert job.details["undone_by"] == undo.pk
    again = admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/", follow=True)
    assert f"already undone by job #{undo.pk}" in again.content.decode()
    assert Job.objects.filter(kind="undo").count() == 1


def test_undo_of_a_delete_puts_the_documents_back(admin_client_, people):
    preview = admin_client_.post("/admin/bulk/delete/", compose_data(filters=[("age", "gte", "45")]))
    admin_client_.post("/admin/bulk/delete/", confirm_data(preview, filters=[("age", "gte", "45")]))
    assert people.count_documents({}) == 25
    admin_client_.post(f"/admin/bulk/jobs/{Job.objects.get(kind='delete').pk}/undo/")
    assert people.count_documents({}) == 30


def test_undo_lists_documents_changed_since_as_conflicts(admin_client_, people):
    job = run_update(admin_client_, [("age", "lt", "23")], [("$set", "tier", "gold")])
    people.update_one({"email": "user1@example.com"}, {"$set": {"name": "Changed"}})
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    undo = Job.objects.get(kind="undo")
    assert (undo.status, undo.counts["updated"], undo.error_count) == ("partial", 2, 1)
    assert "was changed after the job" in undo.errors[0]["message"]
    assert people.find_one({"email": "user1@example.com"})["tier"] == "gold"
    page = admin_client_.get(f"/admin/bulk/jobs/{undo.pk}/").content.decode()
    assert "was changed after the job" in page and 'id="error-download"' in page
    csv = admin_client_.get(f"/admin/bulk/jobs/{undo.pk}/errors/")
    assert csv["Content-Type"] == "text/csv" and b"conflict" in csv.content


def test_job_over_the_undo_limit_cannot_be_undone(admin_client_, people, settings):
    settings.BULKADMIN_UNDO_LIMIT = 5
    job = run_update(admin_client_, [("age", "lt", "30")], [("$set", "tier", "gold")])
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert 'id="undo-button"' not in page and "no undo data was kept" in page
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    assert not Job.objects.filter(kind="undo").exists()


def test_errors_are_paginated_twenty_per_page(admin_client_, db):
    error = {"kind": "validation", "field": "age", "code": 121}
    errors = [{"index": i, "message": f"bad row {i}", **error} for i in range(45)]
    job = Job.objects.create(kind="update", collection="users", status="partial", errors=errors, error_count=45)
    third = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/", {"errors_page": 3})
    assert [row["index"] for row in third.context["errors"]] == [40, 41, 42, 43, 44]
    csv = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/errors/").content.decode().splitlines()
    assert len(csv) == 46 and csv[1] == "0,validation,age,121,bad row 0"


def test_error_file_outside_the_var_folder_is_not_served(admin_client_, db, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    job = Job.objects.create(kind="update", collection="users", status="failed", error_file=str(secret))
    response = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/errors/")
    assert b"secret" not in b"".join(response)
