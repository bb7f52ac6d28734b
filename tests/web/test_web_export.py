"""Export… on the web: what the browse page carried (filter, search, ticked documents) exported as
a job in the chosen format and fields, the file downloaded from the job files' storage by users
who may export, expired like uploads, and one job per form however often it is posted."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from bson import ObjectId
from django.core.management import call_command

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import files, watch
from bulkadmin.jobs.exports import PURGED, STORED_FILE, purge_exports
from bulkadmin.models import Job
from bulkadmin.web.selection import MAX_IDS
from project.collections import ApplicationLog

pytestmark = pytest.mark.django_db

EXPORT_URL = "/admin/bulk/export/"
INACTIVE = ("User 1", "User 12", "User 15", "User 18", "User 21", "User 24", "User 3")


@pytest.fixture
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


@pytest.fixture
def mixed(people, jobs_dir):
    """The 30 users, seven of them inactive."""
    people.update_many({"name": {"$in": list(INACTIVE)}}, {"$set": {"status": "inactive"}})
    return people


def form_token(response) -> str:
    return re.search(r'name="once" value="([^"]+)"', response.content.decode()).group(1)


def post_export(client, carried: dict, *, fmt: str, fields: list[str], token: str | None = None, **extra):
    """Open the Export page with what the browse page carried, then post the format and fields."""
    shown = client.get(EXPORT_URL, {"collection": "users", **carried})
    assert shown.status_code == 200, shown.content.decode()[:2000]
    data = {
        "collection": "users",
        **carried,
        "export-format": fmt,
        "export-field_names": fields,
        "once": token or form_token(shown),
        **extra,
    }
    return client.post(EXPORT_URL, data)


def download(client, job: Job) -> str:
    response = client.get(f"/admin/bulk/jobs/{job.pk}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


def test_a_filtered_and_searched_csv_export_has_exactly_the_matching_rows_and_chosen_columns(admin_client_, mixed):
    carried = {"status": "inactive", "q": "User 1"}  # name starts with "User 1" (email is lower-cased: "user 1")
    response = post_export(admin_client_, carried, fmt="csv", fields=["name", "email", "age"])

    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert response.status_code == 302 and response["Location"] == f"/admin/bulk/jobs/{job.pk}/"
    assert (job.status, job.origin, job.user.username, job.counts["rows"]) == ("succeeded", "web", "root", 4)
    rows = list(csv.reader(io.StringIO(download(admin_client_, job), newline="")))
    query = {"status": "inactive", "name": {"$regex": "^User 1"}}
    expected = [[d["name"], d["email"], str(d["age"])] for d in mixed.find(query).sort("_id", 1)]
    assert rows[0] == ["name", "email", "age"]
    assert rows[1:] == expected
    assert sorted(row[0] for row in rows[1:]) == ["User 1", "User 12", "User 15", "User 18"]


def test_ticked_documents_export_as_ndjson_with_only_the_chosen_fields(admin_client_, mixed):
    ticked = [mixed.find_one({"name": name})["_id"] for name in ("User 3", "User 4", "User 12")]
    carried = {"status": "inactive", "ids": [str(doc_id) for doc_id in ticked]}  # User 4 is active: not exported
    post_export(admin_client_, carried, fmt="ndjson", fields=["id", "name", "status", "tags"])

    job = Job.objects.get(kind=Job.Kind.EXPORT)
    lines = [json.loads(line) for line in download(admin_client_, job).splitlines()]
    expected = [
        {"id": str(d["_id"]), "name": d["name"], "status": d["status"], "tags": d["tags"]}
        for d in mixed.find({"_id": {"$in": ticked}, "status": "inactive"}).sort("_id", 1)
    ]
    assert lines == expected and len(lines) == 2
    assert job.parameters["selection"] == ["status is inactive", "the 3 ticked documents"]


def test_every_field_is_the_default_and_reads_whole_documents(admin_client_, mixed):
    shown = admin_client_.get(EXPORT_URL, {"collection": "users"})
    assert shown.context["form"]["field_names"].initial == list(shown.context["form"].model.model_fields)
    post_export(admin_client_, {}, fmt="csv", fields=list(shown.context["form"].model.model_fields))
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert job.parameters["fields"] == [] and job.counts["rows"] == 30
    header = next(csv.reader(io.StringIO(download(admin_client_, job))))
    assert header[:3] == ["id", "name", "email"] and "profile.bio" in header


def test_a_search_of_a_field_without_an_index_exports_what_the_browser_found(admin_client_, db, jobs_dir):
    lines = [{"message": f"request {n} {'TIMEOUT' if n % 4 == 0 else 'ok'}", "level": "error"} for n in range(12)]
    bulk_insert(ApplicationLog, lines, db=db)
    browse = admin_client_.get("/admin/bulk/collections/application_logs/", {"q": "timeout", "level": "error"})
    shown = admin_client_.get(EXPORT_URL, {"collection": "application_logs", "q": "timeout", "level": "error"})
    data = {
        "collection": "application_logs",
        "q": "timeout",
        "level": "error",
        "export-format": "ndjson",
        "export-field_names": ["message"],
        "once": form_token(shown),
    }
    admin_client_.post(EXPORT_URL, data)
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    exported = [json.loads(line)["message"] for line in download(admin_client_, job).splitlines()]
    assert exported == [f"request {n} TIMEOUT" for n in (0, 4, 8)]
    column = browse.context["columns"].index("message")
    assert sorted(row[column] for row in browse.context["rows"]) == sorted(exported)


def test_posting_the_same_form_twice_starts_one_export(admin_client_, mixed):
    shown = admin_client_.get(EXPORT_URL, {"collection": "users", "status": "inactive"})
    token = form_token(shown)
    first = post_export(admin_client_, {"status": "inactive"}, fmt="csv", fields=["name"], token=token)
    second = post_export(admin_client_, {"status": "inactive"}, fmt="csv", fields=["name"], token=token)
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert first["Location"] == second["Location"] == f"/admin/bulk/jobs/{job.pk}/"


def test_options_the_export_refuses_are_shown_on_the_form(admin_client_, mixed):
    bad_field = post_export(admin_client_, {}, fmt="csv", fields=["name", "nope"])
    assert bad_field.status_code == 400 and "nope is not one of the available choices" in bad_field.content.decode()
    extended = post_export(admin_client_, {}, fmt="csv", fields=["name"], **{"export-extended_json": "on"})
    assert extended.status_code == 400
    assert "Extended JSON applies to the JSON and NDJSON formats, not CSV." in extended.content.decode()
    bad_choice = admin_client_.get(EXPORT_URL, {"collection": "users", "status": "unknown"})  # said on opening
    assert bad_choice.status_code == 400 and "status: Input should be" in bad_choice.content.decode()
    posted = admin_client_.post(
        EXPORT_URL, {"collection": "users", "status": "unknown", "export-format": "csv", "export-field_names": ["name"]}
    )
    assert posted.status_code == 400 and "status: Input should be" in posted.content.decode()
    assert not Job.objects.filter(kind=Job.Kind.EXPORT).exists()


def test_too_many_ticked_documents_are_refused_with_a_message(admin_client_, mixed):
    ids = [str(ObjectId()) for _ in range(MAX_IDS + 1)]
    response = admin_client_.get(EXPORT_URL, {"collection": "users", "ids": ids})
    assert response.status_code == 400
    assert f"at most {MAX_IDS:,} can be carried one by one" in response.content.decode()


def test_the_job_page_offers_the_download_only_to_users_who_may_export(login, make_user, mixed, client):
    exporter = login("view_users", "export_users", name="exporter")
    post_export(exporter, {"status": "inactive"}, fmt="csv", fields=["name"])
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    page = exporter.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert f'href="/admin/bulk/jobs/{job.pk}/download/"' in page and f"users-{job.pk}.csv" in page
    assert f"exported to users-{job.pk}.csv (CSV)" in job.message
    assert f"{job.pk}/users-{job.pk}.csv" not in page and "Stored file" not in page  # the storage's name is internal

    client.force_login(make_user("viewer", "view_users"))
    assert client.get(EXPORT_URL, {"collection": "users"}).status_code == 403
    assert "/download/" not in client.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    refused = client.get(f"/admin/bulk/jobs/{job.pk}/download/")
    assert refused.status_code == 403 and "bulkadmin.export_users" in refused.content.decode()
    client.force_login(make_user("stranger"))
    assert client.get(f"/admin/bulk/jobs/{job.pk}/download/").status_code == 404


def test_an_export_file_expires_like_uploads(admin_client_, mixed, settings):
    settings.BULKADMIN_UPLOAD_MAX_AGE_HOURS = 24
    post_export(admin_client_, {"status": "inactive"}, fmt="csv", fields=["name"])
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    name = job.details[STORED_FILE]
    assert files.storage().exists(name)
    Job.objects.filter(pk=job.pk).update(finished_at=job.finished_at - dt.timedelta(hours=25))

    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert 'id="download-expired"' in page and 'id="download-link"' not in page
    assert admin_client_.get(f"/admin/bulk/jobs/{job.pk}/download/").status_code == 404
    assert purge_exports() == 1
    assert not files.storage().exists(name) and purge_exports() == 0


def test_the_file_is_written_through_a_storage_without_local_paths(admin_client_, mixed, settings):
    settings.STORAGES = {**settings.STORAGES, "bulkadmin": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    assert files.local_path("x") is None
    post_export(admin_client_, {"status": "inactive"}, fmt="csv", fields=["name"])
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert job.details[STORED_FILE] == f"{job.pk}/users-{job.pk}.csv"
    assert download(admin_client_, job).splitlines()[0] == "name"
    assert len(download(admin_client_, job).splitlines()) == 1 + len(INACTIVE)


def test_expired_export_files_are_deleted_by_the_workers_watch_and_purge_uploads(
    admin_client_, mixed, settings, monkeypatch
):
    settings.BULKADMIN_UPLOAD_MAX_AGE_HOURS = 24
    monkeypatch.setattr(watch, "_last_purge", [])  # this process has not purged yet
    for _ in range(2):
        post_export(admin_client_, {"status": "inactive"}, fmt="csv", fields=["name"])
    first, second = Job.objects.filter(kind=Job.Kind.EXPORT).order_by("pk")
    names = [first.details[STORED_FILE], second.details[STORED_FILE]]
    Job.objects.filter(pk=first.pk).update(finished_at=first.finished_at - dt.timedelta(hours=25))

    assert watch.purge_expired_uploads(now=watch.PURGE_EVERY_SECONDS * 1000.0) is True
    assert not files.storage().exists(names[0]) and files.storage().exists(names[1])
    assert Job.objects.get(pk=first.pk).details[PURGED] == names[0]

    Job.objects.filter(pk=second.pk).update(finished_at=second.finished_at - dt.timedelta(hours=25))
    out = io.StringIO()
    call_command("purge_uploads", stdout=out)
    assert out.getvalue().splitlines()[-1] == "1 expired export file(s) deleted."
    assert not files.storage().exists(names[1])
