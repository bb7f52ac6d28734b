"""The job page tells the whole story: every error with its row's data, counts on cancelled jobs,
Undo only where something can be undone, progress in every state, one set of counts per kind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bulkadmin.jobs import imports
from bulkadmin.jobs.error_pages import STEP
from bulkadmin.jobs.runner import track_job
from bulkadmin.models import Job
from bulkadmin.operations import updates
from bulkadmin.operations.progress import Cancelled
from project.collections import User
from tests.feed_server import serve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


@pytest.fixture
def feed(monkeypatch, settings, tmp_path):
    """The `demo_users` source reading 5 records on 3 pages, one with a bad email."""
    settings.BULKADMIN_LOCK_DIR = tmp_path
    people = [{"id": n, "name": f"Partner {n}", "email": f"p{n}@partner.example"} for n in range(1, 6)]
    people[3]["email"] = "broken"
    for server in serve():
        monkeypatch.setenv("DEMO_FEED_URL", f"{server.url}/users")
        server.pages("/users", [people[:2], people[2:4], people[4:]])
        yield server


def bad_people(tmp_path, rows: int):
    """`rows` people, every one with a bad age; row 3's name holds a line break (two lines)."""
    lines = ["name,email,age"]
    for number in range(1, rows + 1):
        name = '"Multi\nline"' if number == 3 else f"Person {number}"
        lines.append(f"{name},person{number}@example.com,bad{number}")
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def line_of(row: int) -> int:
    """The file line row `row` starts on: after the header, and one more after row 3."""
    return row + 1 if row <= 3 else row + 2


def test_page_50_of_10500_errors_shows_those_rows_with_their_data(admin_client_, db, tmp_path):
    result = imports.import_file(model="users", source=bad_people(tmp_path, 10_500), dry_run=True)
    job = Job.objects.get(pk=result.job_id)
    assert (job.error_count, len(job.errors)) == (10_500, 100)
    response = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/", {"errors_page": 50})
    shown = list(response.context["errors"])
    assert [error.number for error in shown] == list(range(981, 1001))
    assert shown[0].where == f"line {line_of(981)}" and "age" in shown[0].message
    assert shown[0].cells == ("Person 981", "person981@example.com", "bad981")
    assert response.context["errors"].paginator.num_pages == 525
    page = response.content.decode()
    assert "Person 1000" in page and "bad999" in page and "<th>email</th>" in page
    job.refresh_from_db()
    assert job.error_index["rows"] == 1000 and len(job.error_index["offsets"]) == 1


def test_the_last_error_page_seeks_through_the_cached_offsets(admin_client_, db, tmp_path):
    result = imports.import_file(model="users", source=bad_people(tmp_path, 10_500), dry_run=True)
    url = f"/admin/bulk/jobs/{result.job_id}/"
    last = list(admin_client_.get(url, {"errors_page": 525}).context["errors"])
    assert [error.cells[0] for error in last] == [f"Person {n}" for n in range(10_481, 10_501)]
    index = Job.objects.get(pk=result.job_id).error_index
    assert index["rows"] == 10_500 and len(index["offsets"]) == 10_500 // STEP + 1
    again = list(admin_client_.get(url, {"errors_page": 3}).context["errors"])
    assert again[0].cells[0] == "Person 41" and again[0].where == f"line {line_of(41)}"
    multiline = list(admin_client_.get(url, {"errors_page": 1}).context["errors"])[2]
    assert multiline.cells[0] == "Multi\nline" and multiline.where == "line 4"


def test_a_cancelled_update_shows_what_it_did_before_it_stopped(admin_client_, people):
    job = Job.objects.create(kind="update", collection="users")
    with pytest.raises(Cancelled), track_job(kind="update", job=job) as run:

        def progress(done: int, total: int | None) -> None:
            if done:
                Job.objects.filter(pk=job.pk).update(cancel_requested=True)
            run.progress(done, total)

        updates.run_update(
            model=User, filter={}, update={"$set": {"tier": "gold"}}, undo_key=job.pk, batch_size=10, progress=progress
        )
    job.refresh_from_db()
    assert (job.status, job.counts["rows"], job.counts["modified"]) == ("cancelled", 10, 10)
    assert job.details["undo_records"] == 10
    response = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/")
    assert dict(response.context["counts"]) == {"rows": 10, "matched": 10, "modified": 10}
    assert 'id="undo-button"' in response.content.decode()


def test_a_failed_update_that_wrote_nothing_offers_no_undo(admin_client_, db):
    counts = {"rows": 5, "matched": 0, "modified": 0, "failed": 5}
    job = Job.objects.create(
        kind="update", collection="users", status="failed", counts=counts, error_count=1, finished_at=timezone.now()
    )
    job.details = {"undo_records": 5, "undo_available": True}
    job.save()
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert 'id="undo-button"' not in page and "Undo: it wrote nothing." in page


def test_undo_refusal_reads_stored_figures_and_expires(admin_client_, db, settings):
    old = timezone.now() - dt.timedelta(days=40)
    job = Job.objects.create(kind="update", collection="users", status="succeeded", finished_at=old)
    job.counts, job.details = {"rows": 3, "modified": 3}, {"undo_records": 3, "undo_available": True}
    job.save()
    settings.BULKADMIN_UNDO_DAYS = 30
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert 'id="undo-button"' not in page and "its undo data has expired" in page


def test_a_dry_run_import_says_what_it_would_do(admin_client_, db, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,email,age\nAnn,ann@example.com,31\nBob,bob@example.com,old\n")
    result = imports.import_file(model="users", source=path, dry_run=True)
    response = admin_client_.get(f"/admin/bulk/jobs/{result.job_id}/")
    labels = {name: label for name, _, label in response.context["labelled_counts"]}
    assert labels == {"rows": "rows read", "inserted": "would create", "rejected": "would reject"}
    assert "would create" in response.content.decode()


def test_a_partially_failed_sync_shows_one_set_of_counts_and_a_full_bar(admin_client_, db, feed):
    admin_client_.post("/admin/bulk/sync/", {"source": "demo_users", "action": "run"})
    job = Job.objects.get(kind="sync")
    assert (job.status, job.counts["failed"], job.counts["rows"]) == ("partial", 1, 5)
    response = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/")
    names = [name for name, _ in response.context["counts"]]
    assert names == ["records", "pages", "created", "rejected"]
    assert dict(response.context["counts"]) == {"records": 5, "pages": 4, "created": 4, "rejected": 1}
    assert response.context["figures"]["percent"] == 100 and 'style="width: 100%"' in response.content.decode()


def test_status_json_has_elapsed_rate_and_eta_while_running(admin_client_, db):
    started = timezone.now() - dt.timedelta(seconds=10)
    job = Job.objects.create(
        kind="update", collection="users", status="running", rows_done=250, rows_total=1000, started_at=started
    )
    job.heartbeat_at = timezone.now()
    job.save()
    status = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/status/").json()
    assert status["percent"] == 25 and 9.5 < status["elapsed"] < 30
    assert 8 < status["rate"] < 26 and 25 < status["eta"] < 95
    assert status["started_at"].startswith(started.isoformat()[:19])


def test_a_running_import_shows_progress_through_the_file(admin_client_, db):
    job = Job.objects.create(kind="import", collection="users", status="running", rows_done=700, rows_total=None)
    job.started_at = job.heartbeat_at = timezone.now() - dt.timedelta(seconds=2)
    job.details = {"bytes_read": 300_000, "bytes_total": 1_000_000}
    job.save()
    status = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/status/").json()
    assert status["percent"] == 30 and status["eta"] is not None
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert 'style="width: 30%"' in page


def test_a_running_sync_without_a_total_shows_an_unknown_share_not_zero(admin_client_, db):
    job = Job.objects.create(kind="sync", collection="users", status="running", rows_done=40)
    job.started_at = job.heartbeat_at = timezone.now()
    job.save()
    status = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/status/").json()
    assert (status["percent"], status["eta"]) == (None, None)
    assert "bulk-progress-unknown" in admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()


def test_a_sync_with_more_errors_than_the_job_keeps_lists_every_one(admin_client_, db, monkeypatch, settings):
    settings.BULKADMIN_LOCK_DIR = settings.BULKADMIN_JOBS_DIR
    records = [{"id": n, "name": f"Partner {n}", "email": f"broken{n}"} for n in range(1, 151)]
    for server in serve():
        monkeypatch.setenv("DEMO_FEED_URL", f"{server.url}/users")
        server.pages("/users", [records])
        admin_client_.post("/admin/bulk/sync/", {"source": "demo_users", "action": "run"})
    job = Job.objects.get(kind="sync")
    assert (job.error_count, len(job.errors), job.error_file.endswith(f"{job.pk}/errors.csv")) == (150, 100, True)
    last = list(admin_client_.get(f"/admin/bulk/jobs/{job.pk}/", {"errors_page": 8}).context["errors"])
    assert [(error.number, error.where) for error in last][-1] == (150, "item 150")
    assert "got 'broken150'" in last[-1].message and last[-1].cells == ("validation", "email", "121")
