"""The Import page in a real browser with an XLSX workbook: upload, choose the sheet, dry run,
confirm, and check the counts against MongoDB."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from bulkadmin.models import Job
from tests.browser.uploads import upload_for_preview
from tests.imports.conftest import write_xlsx

pytestmark = pytest.mark.django_db(transaction=True)


def people_xlsx(tmp_path):
    """Sheet `summary` first; sheet `people`: 20 people, a blank row after row 10, and on sheet
    row 9 an age "old"."""
    rows: list[list] = [["name", "email", "age", "last_login"]]
    for number in range(1, 21):
        age = "old" if number == 8 else 20 + number
        rows.append([f"Person {number}", f"person{number}@example.com", age, dt.datetime(2025, 1, number)])
        if number == 10:
            rows.append([])
    return write_xlsx(tmp_path / "people.xlsx", [["total"], [20]], sheet="summary", people=rows)


def test_an_xlsx_upload_with_a_chosen_sheet_is_dry_run_and_imported(page, db, shot, tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    upload_for_preview(page, people_xlsx(tmp_path))
    expect(page.locator("#id_format")).to_have_value("xlsx")
    expect(page.locator("#id_sheet")).to_have_value("summary")
    expect(page.locator("#id_encoding")).to_have_count(0)
    expect(page.locator("#import-errors")).to_contain_text("no column for required field(s) name, email")

    page.select_option("#id_sheet", "people")
    page.click("#repreview-button")
    expect(page.locator("#id_sheet")).to_have_value("people")
    expect(page.locator("#preview-valid")).to_have_text("19")
    expect(page.locator("#preview-invalid")).to_have_text("1")
    expect(page.locator("#preview-rows tr.row-bad td").first).to_have_text("line 9")
    shot("import-xlsx-preview")

    page.click("#dry-run-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Dry run: some rows would fail")
    expect(page.locator("[data-count=inserted]")).to_have_text("19")
    expect(page.locator("[data-count=rejected]")).to_have_text("1")
    assert db.users.count_documents({}) == 0

    page.click("#confirm-import-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Partially failed")
    expect(page.locator("#job-rows")).to_have_text("20")
    job = Job.objects.get(kind="import", dry_run=False)
    assert job.parameters["sheet"] == "people"
    assert job.counts["inserted"] == db.users.count_documents({}) == 19
    assert db.users.find_one({"email": "person20@example.com"})["last_login"] == dt.datetime(2025, 1, 20, tzinfo=dt.UTC)
    expect(page.locator("#job-errors tbody tr")).to_have_count(1)
    expect(page.locator("#job-errors tbody tr")).to_contain_text("line 9")
    shot("import-xlsx-result")
