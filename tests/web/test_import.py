"""The Import page: upload, preview with mapping, dry run, confirm; bad input; permissions; CSRF."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from bulkadmin.models import Job
from tests.web.import_helpers import GOOD_AND_BAD, IMPORT_URL, confirm, dry_run, preview_data, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def uploads(jobs_dir) -> list:
    folder = jobs_dir / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_upload_is_stored_on_disk_and_previewed_with_each_rows_status(admin_client_, db, jobs_dir):
    response = upload(admin_client_, GOOD_AND_BAD)
    assert response.status_code == 302
    (folder,) = uploads(jobs_dir)
    assert (folder / "people.csv").read_text() == GOOD_AND_BAD
    page = admin_client_.get(response["Location"])
    preview = page.context["preview"]
    assert (preview.format, preview.encoding, preview.delimiter) == ("csv", "utf-8", ",")
    assert [(c.header, c.target, c.known) for c in preview.columns] == [
        ("name", "name", True),
        ("email", "email", True),
        ("age", "age", True),
    ]
    assert [row.ok for row in preview.rows] == [True, False, True, False, True]
    assert "age" in preview.rows[1].messages[0] and "email" in preview.rows[3].messages[0]
    assert (preview.valid_rows, preview.invalid_rows) == (3, 2)
    assert db.users.count_documents({}) == 0 and not Job.objects.exists()


def test_dry_run_then_confirm_imports_the_valid_rows_with_exact_counts(admin_client_, db):
    dry, _ = dry_run(admin_client_, GOOD_AND_BAD)
    assert (dry.status, dry.dry_run, dry.origin) == ("partial", True, "web")
    assert {k: dry.counts[k] for k in ("rows", "inserted", "rejected", "failed")} == {
        "rows": 5,
        "inserted": 3,
        "rejected": 2,
        "failed": 0,
    }
    assert db.users.count_documents({}) == 0
    page = admin_client_.get(f"/admin/bulk/jobs/{dry.pk}/").content.decode()
    assert "would create" in page and "would reject" in page and 'id="confirm-import-button"' in page
    assert "<td>line 3</td>" in page and "<td>line 5</td>" in page

    job = confirm(admin_client_, dry)
    assert (job.status, job.dry_run, job.user.username) == ("partial", False, "root")
    assert {k: job.counts[k] for k in ("rows", "inserted", "rejected")} == {"rows": 5, "inserted": 3, "rejected": 2}
    assert sorted(doc["email"] for doc in db.users.find()) == ["ann@example.com", "cid@example.com", "eve@example.com"]
    assert db.users.find_one({"email": "cid@example.com"})["age"] == 45
    assert [(error["index"], error["line"], error["field"]) for error in job.errors] == [(1, 3, "age"), (3, 5, "email")]
    dry.refresh_from_db()
    assert dry.details["confirmed_by"] == job.pk
    result = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/")
    assert 'data-count="inserted">3<' in result.content.decode()
    assert admin_client_.get(f"/admin/bulk/jobs/{job.pk}/errors/").status_code == 200


def test_a_dry_run_is_confirmed_only_once(admin_client_, db):
    dry, _ = dry_run(admin_client_, GOOD_AND_BAD)
    confirm(admin_client_, dry)
    again = admin_client_.post(f"{IMPORT_URL}confirm/{dry.pk}/", follow=True)
    assert "already confirmed" in again.content.decode()
    assert Job.objects.filter(kind="import", dry_run=False).count() == 1
    assert db.users.count_documents({}) == 3


def test_the_dry_run_form_posted_twice_starts_one_dry_run(admin_client_, db):
    preview_url = upload(admin_client_, GOOD_AND_BAD)["Location"]
    shown = admin_client_.get(preview_url)
    token = re.search(r'name="once" value="([^"]+)"', shown.content.decode()).group(1)
    form = preview_data(shown, action="dry_run", once=token)
    first, second = admin_client_.post(preview_url, form), admin_client_.post(preview_url, form)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    dry = Job.objects.get(kind="import", dry_run=True)
    assert first["Location"].endswith(f"/jobs/{dry.pk}/") and dry.counts["inserted"] == 3
    assert db.users.count_documents({}) == 0


def test_edited_mapping_renames_a_column_and_unknown_columns_are_flagged_and_left_out(admin_client_, db):
    csv_text = "full_name,email,shoe_size\nAnn,ann@example.com,38\nBob,bob@example.com,44\n"
    preview_url = upload(admin_client_, csv_text)["Location"]
    shown = admin_client_.get(preview_url)
    columns = shown.context["preview"].columns
    assert [(c.header, c.target, c.known) for c in columns] == [
        ("full_name", "", False),
        ("email", "email", True),
        ("shoe_size", "", False),
    ]
    assert shown.content.decode().count("unknown column: left out") == 2
    assert "no column for required field(s) name" in shown.content.decode()
    remapped = admin_client_.post(preview_url, preview_data(shown, map_0="name"))
    assert remapped.context["preview"].valid_rows == 2 and not remapped.context["errors"]
    admin_client_.post(preview_url, preview_data(remapped, action="dry_run"))
    dry = Job.objects.get(dry_run=True)
    assert dry.parameters["mapping"] == {"full_name": "name", "shoe_size": ""}
    confirm(admin_client_, dry)
    assert sorted((d["name"], "shoe_size" in d) for d in db.users.find()) == [("Ann", False), ("Bob", False)]


def test_a_changed_delimiter_is_used_by_the_preview_and_the_import(admin_client_, db):
    preview_url = upload(admin_client_, "name;email\nAnn;ann@example.com\n")["Location"]
    shown = admin_client_.get(preview_url)
    assert shown.context["preview"].delimiter == ";"
    dry = dry_run(admin_client_, "name|email\nAnn|ann@example.com\n", delimiter="|")[0]
    assert (dry.parameters["delimiter"], dry.counts["inserted"]) == ("|", 1)


def test_json_and_ndjson_files_are_previewed_and_imported(admin_client_, db):
    ndjson = '{"name": "Ann", "email": "ann@example.com"}\n{"name": "", "email": "x@example.com"}\n'
    dry, _ = dry_run(admin_client_, ndjson, name="people.jsonl")
    assert (dry.parameters["format"], dry.counts["inserted"], dry.counts["rejected"]) == ("ndjson", 1, 1)
    job = confirm(admin_client_, dry)
    assert job.counts["inserted"] == 1 and db.users.count_documents({}) == 1


@pytest.mark.parametrize("name", ["people.xls", "people.exe", "people"])
def test_a_file_of_another_type_is_refused_and_not_kept(admin_client_, jobs_dir, name):
    response = upload(admin_client_, GOOD_AND_BAD, name=name)
    assert response.status_code == 400
    assert "is not a file that can be imported" in response.content.decode()
    assert uploads(jobs_dir) == []


@pytest.mark.parametrize(
    "content", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"name,email\n\x00\x01\x02\x03binary", b"PK\x03\x04zip"]
)
def test_binary_content_is_refused_with_a_clear_message(admin_client_, jobs_dir, content):
    response = upload(admin_client_, content, name="people.csv")
    assert response.status_code == 400
    assert "is not a text file (binary content)" in response.content.decode()
    assert uploads(jobs_dir) == []


def test_a_utf16_csv_is_text_and_is_accepted(admin_client_, jobs_dir):
    response = upload(admin_client_, "name,email\nAnn,ann@example.com\n".encode("utf-16"))
    assert response.status_code == 302
    assert admin_client_.get(response["Location"]).context["preview"].encoding.replace("_", "-").startswith("utf-16")


def test_a_file_over_the_size_limit_is_refused_and_not_kept(admin_client_, jobs_dir, settings):
    settings.BULKADMIN_UPLOAD_MAX_BYTES = 100
    response = upload(admin_client_, GOOD_AND_BAD * 3)
    assert response.status_code == 400
    assert "is larger than the upload limit of 100 bytes" in response.content.decode()
    assert uploads(jobs_dir) == []
    assert upload(admin_client_, "name,email\nAnn,ann@example.com\n").status_code == 302


def test_an_unknown_collection_is_refused(admin_client_, jobs_dir):
    response = upload(admin_client_, GOOD_AND_BAD, collection="no_such_things")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert uploads(jobs_dir) == []


def test_a_mapping_to_an_unknown_field_is_refused_without_a_job(admin_client_, db):
    preview_url = upload(admin_client_, GOOD_AND_BAD)["Location"]
    shown = admin_client_.get(preview_url)
    response = admin_client_.post(preview_url, preview_data(shown, action="dry_run", map_2="shoe_size"))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not Job.objects.exists()


def test_a_bad_key_for_the_mode_is_named_and_nothing_starts(admin_client_, db):
    preview_url = upload(admin_client_, GOOD_AND_BAD, mode="merge", key_fields="shoe_size")["Location"]
    response = admin_client_.post(preview_url, preview_data(admin_client_.get(preview_url), action="dry_run"))
    assert response.status_code == 400
    assert "shoe_size" in response.content.decode()
    assert not Job.objects.exists()


def test_an_option_error_is_worded_with_its_form_label_not_a_flag(admin_client_, db):
    preview_url = upload(admin_client_, GOOD_AND_BAD, mode="insert", key_fields="email")["Location"]
    response = admin_client_.post(preview_url, preview_data(admin_client_.get(preview_url), action="dry_run"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "<p>Key fields: Only the upsert, merge and delete modes take key fields, not insert.</p>" in page
    assert "--key" not in page
    assert not Job.objects.exists()


def test_someone_elses_upload_is_not_found(admin_client_, make_user, client):
    preview_url = upload(admin_client_, GOOD_AND_BAD)["Location"]
    other = Client()
    other.force_login(make_user("other", "import_users", "view_users"))
    assert other.get(preview_url).status_code == 404
    assert other.get(f"{IMPORT_URL}{'0' * 32}/").status_code == 404


# Permissions -----------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_the_import_permission_get_403_and_no_import_link(login, jobs_dir):
    staff = login("change_users", "view_users")
    assert staff.get(IMPORT_URL).status_code == 403
    assert upload(staff, GOOD_AND_BAD).status_code == 403
    assert staff.post(f"{IMPORT_URL}confirm/1/").status_code == 404
    assert uploads(jobs_dir) == []
    dashboard = staff.get("/admin/bulk/").content.decode()
    assert IMPORT_URL not in dashboard


@pytest.mark.parametrize("superuser", [False, True])
def test_users_with_the_import_permission_or_superusers_see_and_use_the_page(login, db, superuser):
    client = login(superuser=True, name="root") if superuser else login("import_users", "view_users")
    assert client.get(IMPORT_URL).status_code == 200
    assert f'href="{IMPORT_URL}"' in client.get("/admin/bulk/").content.decode()
    dry, _ = dry_run(client, GOOD_AND_BAD)
    confirm(client, dry)
    assert db.users.count_documents({}) == 3


def test_confirm_rechecks_the_permission_and_must_be_a_post(login, make_user, db):
    client = login("import_users", "view_users")
    dry, _ = dry_run(client, GOOD_AND_BAD)
    assert client.get(f"{IMPORT_URL}confirm/{dry.pk}/").status_code == 405
    dry.user.user_permissions.remove(Permission.objects.get(codename="import_users"))
    assert client.post(f"{IMPORT_URL}confirm/{dry.pk}/").status_code == 403
    assert db.users.count_documents({}) == 0
    assert not Job.objects.filter(dry_run=False).exists()


def test_posts_without_a_csrf_token_are_refused_and_the_upload_is_not_kept(make_user, db, jobs_dir):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("root", superuser=True))
    client.get(IMPORT_URL)  # sets the CSRF cookie
    assert upload(client, GOOD_AND_BAD).status_code == 403
    assert uploads(jobs_dir) == []
    token = client.cookies["csrftoken"].value
    data = {"collection": "users", "mode": "insert", "csrfmiddlewaretoken": token}
    from tests.web.import_helpers import upload_file

    accepted = client.post(IMPORT_URL, {**data, "file": upload_file("people.csv", GOOD_AND_BAD)})
    assert accepted.status_code == 302
    preview_url = accepted["Location"]
    assert client.post(preview_url, {"action": "dry_run"}).status_code == 403
    assert client.post(f"{IMPORT_URL}confirm/1/").status_code == 403
    assert not Job.objects.exists()
