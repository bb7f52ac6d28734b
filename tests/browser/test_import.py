"""The Import page in a real browser: upload a CSV with a few bad rows, preview, dry run,
confirm, follow the job to its end and check its counts against MongoDB."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bulkadmin.models import Job
from tests.browser.conftest import ARTIFACTS
from tests.browser.uploads import upload_for_preview

pytestmark = pytest.mark.django_db(transaction=True)


def people_csv(tmp_path):
    """40 people; row 7 has age "old", row 19 a bad email, row 33 no name."""
    lines = ["name,email,age,shoe_size"]
    for number in range(1, 41):
        name, email, age = f"Person {number}", f"person{number}@example.com", str(20 + number)
        if number == 7:
            age = "old"
        elif number == 19:
            email = "person19-at-example.com"
        elif number == 33:
            name = ""
        lines.append(f"{name},{email},{age},{number % 12 + 36}")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_upload_preview_dry_run_confirm_and_result(page, db, shot, tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    upload_for_preview(page, people_csv(tmp_path))
    expect(page.locator("#id_format")).to_have_value("csv")
    expect(page.locator("#id_encoding")).to_have_value("utf-8")
    expect(page.locator("tr[data-column=shoe_size] .unknown-column")).to_contain_text("unknown column")
    expect(page.locator("#preview-valid")).to_have_text("37")
    expect(page.locator("#preview-invalid")).to_have_text("3")
    expect(page.locator("#preview-rows tr.row-bad")).to_have_count(3)
    shot("import-preview")
    page.screenshot(path=str(ARTIFACTS / "import-preview-top.png"))  # the first screen, for the README

    page.click("#dry-run-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Dry run: some rows would fail")
    expect(page.locator("#job-counts")).to_contain_text("would create")
    expect(page.locator("[data-count=inserted]")).to_have_text("37")
    expect(page.locator("[data-count=rejected]")).to_have_text("3")
    expect(page.locator("#job-errors tbody tr")).to_have_count(3)
    assert db.users.count_documents({}) == 0

    page.click("#confirm-import-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Partially failed")
    expect(page.locator("#job-bar")).to_have_attribute("style", "width: 100%")
    expect(page.locator("#job-rows")).to_have_text("40")
    expect(page.locator("svg.bulk-chart")).to_have_count(0)  # one batch: no chart of one bar
    job = Job.objects.get(kind="import", dry_run=False)
    assert job.counts["inserted"] == db.users.count_documents({}) == 37
    expect(page.locator("[data-count=inserted]")).to_have_text(str(db.users.count_documents({})))
    expect(page.locator("[data-count=rejected]")).to_have_text("3")
    with page.expect_download() as download:
        page.click("#error-download")
    assert download.value.suggested_filename == "errors.csv"
    shot("import-result")
