"""Export… in a real browser: filter and search the browse page, tick documents or select all N
matching, choose CSV and fields, see the job finish, download the file and read exactly the
documents the page showed, in the columns chosen."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bulkadmin.bulk import bulk_insert
from bulkadmin.models import Job
from project.collections import User
from tests.factories import users

pytestmark = pytest.mark.django_db(transaction=True)
BROWSE = "/admin/bulk/collections/users/"


@pytest.fixture
def many(db, tmp_path, settings):
    """120 users, the 60 of even number inactive; job files in a folder of this test."""
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    bulk_insert(User, users(120), db=db)
    even = [f"User {number}" for number in range(0, 120, 2)]
    db.users.update_many({"name": {"$in": even}}, {"$set": {"status": "inactive"}})
    return db.users


def choose_csv_with(page, fields: list[str]) -> None:
    """On the Export page: CSV, only `fields` (ticked after "None"), then Export."""
    page.check("#export-formats input[value=csv]")
    page.click("#fields-none")
    for name in fields:
        page.check(f"#export-fields input[value='{name}']")
    page.click("#export-submit")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))


def downloaded_rows(page) -> list[list[str]]:
    """See the job finish with a full bar, download its file and read it as CSV."""
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    expect(page.locator("#job-bar")).to_have_attribute("style", "width: 100%")
    with page.expect_download() as download:
        page.click("#download-link")
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert download.value.suggested_filename == f"users-{job.pk}.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_select_all_matching_of_a_filtered_page_exports_every_matching_document(page, many, shot):
    page.goto(BROWSE)
    page.select_option("#changelist-search select[name=status]", "inactive")
    page.click("#changelist-search input[type=submit]")
    expect(page.locator("#match-count .bulk-count-value")).to_have_text("60")
    expect(page.locator("#select-all-matching")).to_be_hidden()
    page.check("#select-page")
    expect(page.locator("#selection-note")).to_have_text("the 50 ticked documents")
    expect(page.locator("#select-all-matching")).to_be_visible()
    page.check("#id_all")
    expect(page.locator("#selection-note")).to_contain_text("all 60 matching documents")
    shot("export-select-all")
    page.click("#export-button")

    page.wait_for_url(re.compile(r"/admin/bulk/export/\?"))
    expect(page.locator("#export-selection")).to_have_text("status is inactive.")
    choose_csv_with(page, ["name", "email"])

    rows = downloaded_rows(page)
    expected = [[d["name"], d["email"]] for d in many.find({"status": "inactive"}).sort("_id", 1)]
    assert rows[0] == ["name", "email"] and rows[1:] == expected and len(expected) == 60
    shot("export-job")


def test_ticked_documents_of_a_searched_page_export_only_them_in_the_chosen_columns(page, many):
    page.goto(BROWSE)
    page.fill("#q", "User 1")
    page.select_option("#changelist-search select[name=status]", "inactive")
    page.click("#changelist-search input[type=submit]")
    matching = list(many.find({"status": "inactive", "name": {"$regex": "^User 1"}}))
    expect(page.locator("#result_list .bulk-select")).to_have_count(len(matching))
    ticked = [d for d in matching if d["name"] in ("User 10", "User 114", "User 16")]
    for doc in ticked:
        page.check(f".bulk-select[value='{doc['_id']}']")
    expect(page.locator("#selection-note")).to_have_text("the 3 ticked documents")
    page.click("#export-button")

    expect(page.locator("#export-selection")).to_have_text(
        "status is inactive; search for “User 1” in name, email; the 3 ticked documents."
    )
    choose_csv_with(page, ["name", "age", "status"])

    rows = downloaded_rows(page)
    assert rows == [["name", "age", "status"]] + [
        [d["name"], str(d["age"]), "inactive"] for d in sorted(ticked, key=lambda d: d["_id"])
    ]
