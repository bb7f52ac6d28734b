"""A hostile staff user against the web Export and the selection the browse page carries: operators
smuggled into filter choices and the search, huge or false id lists, ids of another collection,
paths and other users' or expired downloads, collections the user may not see, absurd field names,
text a spreadsheet would run or an XLSX sheet cannot hold. Each is refused with a message naming
what is wrong, or exported exactly and guarded; no job starts for a refused export."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from bson import ObjectId
from django.conf import settings as django_settings
from openpyxl import load_workbook

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import files
from bulkadmin.jobs.exports import PURGED, STORED_FILE, purge_exports
from bulkadmin.models import Job
from bulkadmin.web.selection import MAX_ID_LENGTH, MAX_IDS
from project.collections import ApplicationLog, User
from tests.factories import users

pytestmark = pytest.mark.django_db

EXPORT_URL = "/admin/bulk/export/"
HOSTILE_NAMES = ('=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tTab", "'=quoted")


@pytest.fixture
def people(db):
    """30 users in MongoDB."""
    bulk_insert(User, users(30), db=db)
    return db.users


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


def form_token(response) -> str:
    return re.search(r'name="once" value="([^"]+)"', response.content.decode()).group(1)


def export(client, carried: dict, *, fmt: str = "csv", fields=("name",), collection: str = "users"):
    """Post an Export form for what a browse page carried, with a fresh form token."""
    data = {"collection": collection, **carried, "export-format": fmt, "export-field_names": list(fields)}
    return client.post(EXPORT_URL, {**data, "once": f"t{ObjectId()}"})


def download(client, job: Job) -> bytes:
    response = client.get(f"/admin/bulk/jobs/{job.pk}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def csv_rows(client, job: Job) -> list[list[str]]:
    return list(csv.reader(io.StringIO(download(client, job).decode("utf-8"), newline="")))


def exports() -> int:
    return Job.objects.filter(kind=Job.Kind.EXPORT).count()


@pytest.mark.parametrize(
    "carried",
    [
        {"status": '{"$ne": "active"}'},
        {"status": "$ne"},
        {"is_active": '{"$exists": true}'},
        {"tier": "gold' || '1'=='1"},
    ],
)
def test_an_operator_in_a_filter_choice_is_a_value_refused_naming_the_field(admin_client_, people, carried):
    field = next(iter(carried))
    opened = admin_client_.get(EXPORT_URL, {"collection": "users", **carried})
    posted = export(admin_client_, carried)
    for response in (opened, posted):
        assert response.status_code == 400
        assert f"{field}: Input should be" in response.content.decode()
    assert exports() == 0


@pytest.mark.parametrize("search", [".*", "$where", "^User", "User|x", "\\", "(a+)+$"])
def test_a_search_is_matched_as_text_never_as_a_pattern_or_operator(admin_client_, people, search):
    response = export(admin_client_, {"q": search})
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert response["Location"] == f"/admin/bulk/jobs/{job.pk}/"
    assert (job.status, job.counts["rows"]) == ("succeeded", 0)
    assert csv_rows(admin_client_, job) == [["name"]]


def test_operator_keys_in_the_query_string_are_ignored_not_read_as_filters(admin_client_, people):
    export(admin_client_, {"status[$ne]": "active", "$where": "1", "filter": '{"age": {"$gt": 40}}', "sort": "-age"})
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert job.parameters["filter"] == {} and job.parameters["sort"] == ""
    assert [row[0] for row in csv_rows(admin_client_, job)[1:]] == [d["name"] for d in people.find().sort("_id", 1)]


def test_more_ticked_ids_than_a_request_holds_get_a_message_not_a_bare_bad_request(admin_client_, people):
    ids = [str(ObjectId()) for _ in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)]
    for url in (EXPORT_URL, "/admin/bulk/update/", "/admin/bulk/delete/"):
        response = admin_client_.get(url, {"collection": "users", "ids": ids})
        assert response.status_code == 400
        page = response.content.decode()
        assert "Too many documents were ticked" in page and f"at most {MAX_IDS:,} can be carried one by one" in page
    assert Job.objects.count() == 0


def test_more_ticked_ids_than_can_be_carried_are_refused_when_posted(admin_client_, people):
    ids = [str(ObjectId()) for _ in range(MAX_IDS + 1)]
    response = export(admin_client_, {"ids": ids})
    assert response.status_code == 400
    assert f"{MAX_IDS + 1:,} documents were ticked; at most {MAX_IDS:,}" in response.content.decode()
    assert exports() == 0


def test_a_huge_id_is_refused_in_one_line_without_echoing_it(admin_client_, people):
    huge = "f" * 100_000
    opened = admin_client_.get(EXPORT_URL, {"collection": "users", "ids": [huge]})
    for response in (opened, export(admin_client_, {"ids": [huge]})):
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        assert f"A ticked document's id is 100,000 characters long; ids are at most {MAX_ID_LENGTH} characters." in page
        assert "f" * 1000 not in page
    assert exports() == 0


@pytest.mark.parametrize("doc_id", ["abc", '{"$gt": ""}', "5" * 23, "../../etc/passwd"])
def test_an_id_that_is_no_id_of_the_collection_is_refused_on_opening_and_posting(admin_client_, people, doc_id):
    opened = admin_client_.get(EXPORT_URL, {"collection": "users", "ids": [doc_id]})
    posted = export(admin_client_, {"ids": [doc_id]})
    for response in (opened, posted):
        assert response.status_code == 400
        assert "is not a valid ObjectId (24 hex characters)" in response.content.decode()
    assert exports() == 0


def test_ids_of_another_collection_export_no_document_of_either(admin_client_, people, db):
    logs = bulk_insert(ApplicationLog, [{"message": f"line {n}"} for n in range(3)], db=db)
    assert logs.inserted == 3
    log_ids = [str(doc["_id"]) for doc in db.application_logs.find()]
    export(admin_client_, {"ids": log_ids}, fields=("id", "name"))
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert (job.status, job.counts["rows"]) == ("succeeded", 0)
    assert csv_rows(admin_client_, job) == [["id", "name"]]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/bulk/jobs/{pk}/download/../../../../etc/passwd",
        "/admin/bulk/jobs/{pk}/download/%2e%2e/%2e%2e/settings.py",
        "/admin/bulk/jobs/..%2f..%2fetc/download/",
        "/admin/bulk/jobs/-1/download/",
        "/admin/bulk/jobs/{pk}%2f..%2f1/download/",
        "/admin/bulk/jobs/99999/download/",
    ],
)
def test_a_download_path_other_than_an_export_jobs_number_is_not_found(admin_client_, people, path):
    export(admin_client_, {"status": "active"})
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    response = admin_client_.get(path.format(pk=job.pk))
    assert response.status_code == 404
    assert b"root:" not in response.content and b"SECRET_KEY" not in response.content


def test_another_kind_of_job_has_no_download(admin_client_, people):
    other = Job.objects.create(kind=Job.Kind.UPDATE, collection="users", details={STORED_FILE: "1/users-1.csv"})
    assert admin_client_.get(f"/admin/bulk/jobs/{other.pk}/download/").status_code == 404


def test_someone_elses_export_downloads_only_for_users_who_may_see_the_job_and_export(login, make_user, client, people):
    owner = login("view_users", "export_users", name="owner")
    export(owner, {"status": "active"})
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    expected = download(owner, job)

    client.force_login(make_user("logs_exporter", "view_application_logs", "export_application_logs"))
    assert client.get(f"/admin/bulk/jobs/{job.pk}/download/").status_code == 404  # may not see the job
    client.force_login(make_user("viewer", "view_users"))
    assert client.get(f"/admin/bulk/jobs/{job.pk}/download/").status_code == 403
    client.force_login(make_user("exporter_without_view", "export_users"))
    assert client.get(f"/admin/bulk/jobs/{job.pk}/download/").status_code == 404
    client.force_login(make_user("colleague", "view_users", "export_users"))
    assert download(client, job) == expected  # may see the job and export its collection
    client.force_login(make_user("not_staff", "view_users", "export_users", staff=False))
    assert client.get(f"/admin/bulk/jobs/{job.pk}/download/").status_code == 302  # to the login page


def test_an_expired_download_is_gone_for_its_owner_too(login, people, settings):
    settings.BULKADMIN_UPLOAD_MAX_AGE_HOURS = 1
    owner = login("view_users", "export_users", name="owner")
    export(owner, {"status": "active"})
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    Job.objects.filter(pk=job.pk).update(finished_at=job.finished_at - dt.timedelta(hours=1, seconds=1))
    assert owner.get(f"/admin/bulk/jobs/{job.pk}/download/").status_code == 404
    assert 'id="download-expired"' in owner.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()


def test_export_of_a_collection_the_user_may_not_view_is_refused_naming_view(login, people):
    client = login("export_users", name="blind_exporter")
    opened = client.get(EXPORT_URL, {"collection": "users"})
    posted = export(client, {})
    for response in (opened, posted):
        assert response.status_code == 403 and "bulkadmin.view_users" in response.content.decode()
    other = login("view_application_logs", "export_application_logs", name="logs_only")
    refused = export(other, {})  # rights on another collection
    assert refused.status_code == 403 and "bulkadmin.view_users" in refused.content.decode()
    assert exports() == 0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("export-field_names", ["../../etc/passwd"]),
        ("export-field_names", ["$where"]),
        ("export-field_names", ["name.__class__"]),
        ("export-field_names", ["profile.bio"]),
        ("export-field_names", ["name", "name"]),
        ("export-format", "../../x"),
        ("export-format", "py"),
    ],
)
def test_absurd_field_names_and_formats_are_refused_on_the_form(admin_client_, people, option, value):
    data = {"collection": "users", "export-format": "csv", "export-field_names": ["name"], "once": "t1"}
    response = admin_client_.post(EXPORT_URL, {**data, option: value})
    said = "is named twice" if value == ["name", "name"] else "is not one of the available choices"
    assert response.status_code == 400 and said in response.content.decode()
    assert exports() == 0


@pytest.mark.parametrize("collection", ["../../etc", "users/../auth_user", "$cmd", "users\x00"])
def test_a_collection_that_is_not_registered_is_not_found(admin_client_, people, collection):
    assert admin_client_.get(EXPORT_URL, {"collection": collection}).status_code == 404
    assert export(admin_client_, {}, collection=collection).status_code == 404
    assert exports() == 0


def test_text_a_spreadsheet_would_run_is_guarded_in_csv_and_xlsx(admin_client_, people):
    for name, doc in zip(HOSTILE_NAMES, people.find().sort("_id", 1), strict=False):
        people.update_one({"_id": doc["_id"]}, {"$set": {"name": name}})
    guarded = ["'" + name for name in HOSTILE_NAMES]
    export(admin_client_, {}, fields=("name",))
    export(admin_client_, {}, fmt="xlsx", fields=("name",))
    as_csv, as_xlsx = Job.objects.filter(kind=Job.Kind.EXPORT).order_by("pk")

    assert [row[0] for row in csv_rows(admin_client_, as_csv)[1 : 1 + len(HOSTILE_NAMES)]] == guarded
    sheet = load_workbook(io.BytesIO(download(admin_client_, as_xlsx)), read_only=True).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2, max_row=1 + len(HOSTILE_NAMES), values_only=True)]
    assert cells == guarded


def test_an_xlsx_export_of_a_carriage_return_fails_naming_the_field_and_keeps_no_file(admin_client_, people):
    third = list(people.find().sort("_id", 1))[2]
    people.update_one({"_id": third["_id"]}, {"$set": {"name": "two\rlines"}})
    export(admin_client_, {}, fmt="xlsx", fields=("email", "name"))
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert job.status == "failed"
    assert job.message == (
        "document #3 of the export: name holds a control character or carriage return, "
        "which XLSX cannot hold; export it as CSV or JSON."
    )
    assert STORED_FILE not in job.details
    assert admin_client_.get(f"/admin/bulk/jobs/{job.pk}/download/").status_code == 404

    export(admin_client_, {}, fmt="xlsx", fields=("id", "name"))
    with_id = Job.objects.filter(kind=Job.Kind.EXPORT).latest("pk")
    assert with_id.message.startswith(f"document {third['_id']} (#3 of the export): name holds")

    export(admin_client_, {}, fmt="csv", fields=("name",))  # CSV holds it, and reads it back
    as_csv = Job.objects.filter(kind=Job.Kind.EXPORT).latest("pk")
    assert csv_rows(admin_client_, as_csv)[3] == ["two\rlines"]


def test_a_file_the_storage_refuses_to_delete_never_stops_the_purge_of_the_others(admin_client_, people, settings):
    settings.BULKADMIN_UPLOAD_MAX_AGE_HOURS = 1
    for _ in range(2):
        export(admin_client_, {"status": "active"})
    odd, kept = Job.objects.filter(kind=Job.Kind.EXPORT).order_by("pk")
    odd.details = {**odd.details, STORED_FILE: "../../outside.csv"}  # a name outside the storage
    odd.save(update_fields=["details"])
    Job.objects.filter(kind=Job.Kind.EXPORT).update(finished_at=odd.finished_at - dt.timedelta(hours=2))

    assert purge_exports() == 1
    assert not files.storage().exists(kept.details[STORED_FILE])
    assert Job.objects.get(pk=kept.pk).details[PURGED] == kept.details[STORED_FILE]
    assert Job.objects.get(pk=odd.pk).details[STORED_FILE] == "../../outside.csv"  # tried again next time
