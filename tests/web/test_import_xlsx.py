"""The Import page with XLSX workbooks: upload, preview (sheet chosen), dry run, confirm; files
that only claim to be workbooks are refused."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from bulkadmin.models import Job
from tests.imports.conftest import write_xlsx
from tests.web.import_helpers import confirm, preview_data, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def workbook(tmp_path) -> bytes:
    """Sheet `notes` first (not people), then `people`: 3 valid rows, a blank row, a bad age on
    sheet row 5."""
    path = write_xlsx(
        tmp_path / "people.xlsx",
        [["note"], ["not people"]],
        sheet="notes",
        people=[
            ["name", "email", "age", "last_login"],
            ["Ann", "ann@example.com", 31, dt.datetime(2025, 1, 2, 3, 4, 5)],
            ["Bob", "bob@example.com", 40, None],
            [],
            ["Cid", "cid@example.com", "old", None],
            ["Dee", "dee@example.com", 22, dt.datetime(2024, 12, 31)],
        ],
    )
    return path.read_bytes()


def test_a_workbook_is_uploaded_previewed_by_sheet_dry_run_and_imported(admin_client_, db, tmp_path, jobs_dir):
    uploaded = upload(admin_client_, workbook(tmp_path), name="people.xlsx")
    assert uploaded.status_code == 302, uploaded.content.decode()[:2000]
    preview_url = uploaded["Location"]
    shown = admin_client_.get(preview_url)
    preview = shown.context["preview"]
    assert (preview.format, preview.sheet, preview.sheets) == ("xlsx", "notes", ("notes", "people"))
    assert "no column for required field(s) name, email" in shown.content.decode()
    form = shown.context["form"]
    assert "sheet" in form.fields and "encoding" not in form.fields and "delimiter" not in form.fields

    people = admin_client_.post(preview_url, preview_data(shown, sheet="people"))
    preview = people.context["preview"]
    assert preview.sheet == "people" and not people.context["errors"]
    assert [c.header for c in preview.columns] == ["name", "email", "age", "last_login"]
    assert [(row.where, row.ok) for row in preview.rows] == [
        ("line 2", True),
        ("line 3", True),
        ("line 5", False),
        ("line 6", True),
    ]
    assert 'id="id_sheet"' in people.content.decode()

    started = admin_client_.post(preview_url, preview_data(people, action="dry_run"))
    assert started.status_code == 302, started.content.decode()[:2000]
    dry = Job.objects.get(kind="import", dry_run=True)
    assert (dry.parameters["format"], dry.parameters["sheet"], dry.parameters["encoding"]) == ("xlsx", "people", "")
    assert {k: dry.counts[k] for k in ("rows", "inserted", "rejected")} == {"rows": 4, "inserted": 3, "rejected": 1}
    assert db.users.count_documents({}) == 0

    job = confirm(admin_client_, dry)
    assert {k: job.counts[k] for k in ("rows", "inserted", "rejected")} == {"rows": 4, "inserted": 3, "rejected": 1}
    assert [(error["index"] + 1, error["line"], error["field"]) for error in job.errors] == [(3, 5, "age")]
    assert sorted(doc["name"] for doc in db.users.find()) == ["Ann", "Bob", "Dee"]
    dee = db.users.find_one({"email": "dee@example.com"})
    assert (dee["age"], dee["last_login"]) == (22, dt.datetime(2024, 12, 31, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    "content",
    [b"name,email\nAnn,ann@example.com\n", b"PK\x03\x04not really a zip", "a zip without a workbook"],
)
def test_a_file_that_is_not_a_workbook_is_refused_and_not_kept(admin_client_, jobs_dir, content):
    if content == "a zip without a workbook":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("readme.txt", "hello")
        content = buffer.getvalue()
    response = upload(admin_client_, content, name="people.xlsx")
    assert response.status_code == 400
    assert "people.xlsx is not an XLSX workbook (a zip archive with a workbook part)." in response.content.decode()
    folder = jobs_dir / "uploads"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_workbook_named_csv_is_refused_as_binary(admin_client_, tmp_path):
    response = upload(admin_client_, workbook(tmp_path), name="people.csv")
    assert response.status_code == 400
    assert "is not a text file (binary content)" in response.content.decode()
