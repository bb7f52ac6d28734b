"""In a real browser: a job's full error list, paged to any page with each row's data, and the
import preview's check of the whole file arriving while the page is open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bulkadmin.jobs import imports, scans
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)


def bad_people(tmp_path: Path, rows: int, bad=None) -> Path:
    """`rows` people; those in `bad` (every one when None) have the age "old"."""
    lines = ["name,email,age,city"]
    for n in range(1, rows + 1):
        age = "old" if bad is None or n in bad else str(20 + n % 50)
        lines.append(f"Person {n},person{n}@example.com,{age},Town {n % 7}")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_error_of_a_large_import_can_be_read_page_by_page(page, db, tmp_path, settings, shot):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    result = imports.import_file(model="users", source=bad_people(tmp_path, 10_500), dry_run=True, mapping={"city": ""})
    page.goto(f"/admin/bulk/jobs/{result.job_id}/")
    expect(page.locator("#job-errors h2")).to_have_text("Errors (10500)")
    expect(page.locator("#error-rows tbody tr")).to_have_count(20)
    expect(page.locator("#error-rows thead")).to_contain_text("city")
    page.fill("#errors-page", "50")
    page.click("#errors-go")
    first = page.locator("#error-rows tbody tr").first
    expect(first).to_contain_text("Person 981")
    expect(first).to_contain_text("line 982")
    expect(first).to_contain_text("Town 1")
    page.click("#errors-next")
    expect(page.locator("#error-rows tbody tr").first).to_contain_text("Person 1001")
    expect(page.locator("#job-counts")).to_contain_text("would reject")
    expect(page.locator("#job-bar")).to_have_attribute("style", "width: 100%")
    shot("job-errors")


def test_the_whole_file_check_arrives_on_the_open_preview(page, db, tmp_path, settings, shot):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # a worker not yet there
    page.goto("/admin/bulk/import/")
    page.select_option("#id_collection", "users")
    page.set_input_files("#id_file", str(bad_people(tmp_path, 6_000, bad={4_321, 5_555})))
    page.click("#upload-button")
    page.wait_for_url(re.compile(r"/admin/bulk/import/[0-9a-f]{32}/$"))
    expect(page.locator("#preview-invalid")).to_have_text("0")
    expect(page.locator("#scan-summary")).to_contain_text("Waiting for a worker")

    url = page.locator("#import-scan").get_attribute("data-url")
    token, key = url.rstrip("/").split("/")[-3], url.rstrip("/").split("/")[-1]
    scans.run_scan(Path(settings.BULKADMIN_JOBS_DIR) / "uploads" / token, key)  # the worker runs it

    expect(page.locator("#scan-bad")).to_have_text("2")
    expect(page.locator("#scan-summary")).to_contain_text("6000 rows checked (the whole file)")
    expect(page.locator("#scan-rows-table tbody tr")).to_have_count(2)
    expect(page.locator("#scan-rows-table tbody tr").first).to_contain_text("line 4322")
    shot("import-preview-scan")
    page.screenshot(path=str(ARTIFACTS / "import-preview-scan-top.png"))
    expect(page.locator("tr[data-column=city] .unknown-column")).to_contain_text("unknown column")
    page.select_option("tr[data-column=city] select", "profile.bio")
    page.click("#repreview-button")
    expect(page.locator("tr[data-column=city]")).to_contain_text("mapped to profile.bio")
    expect(page.locator("tr[data-column=city] .unknown-column")).to_have_count(0)
