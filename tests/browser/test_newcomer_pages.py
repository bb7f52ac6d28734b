"""What a first user meets in a real browser: a background count arriving with its words, and
Undo asking what it will do, a sync dry run run for real."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.uploads import upload_for_preview
from tests.feed_server import serve

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_background_match_count_arrives_with_its_words(page, people, settings):
    settings.BULKADMIN_INLINE_COUNT_LIMIT = 0
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    page.goto("/admin/bulk/collections/users/?is_active=true")
    expect(page.locator("#match-count .bulk-counting")).to_be_visible()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    expect(page.locator("#match-count .bulk-count-value")).to_have_text("30")
    expect(page.locator("#match-count .bulk-counting")).to_be_hidden()
    assert " ".join(page.locator("#result-count").inner_text().split()) == "Page 1. 30 matching documents"


def test_undo_of_an_insert_import_asks_to_delete_what_it_created(page, db, tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    source = tmp_path / "people.csv"
    source.write_text("name,email,age\nAnn,ann@example.com,31\nBob,bob@example.com,45\n")
    upload_for_preview(page, source)
    page.click("#dry-run-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    page.click("#confirm-import-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#undo-button")
    assert asked == ["Delete the 2 documents this import created?"]
    assert db.users.count_documents({}) == 2  # dismissed: nothing undone
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#undo-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    assert db.users.count_documents({}) == 0


def test_a_sync_dry_run_is_run_for_real_from_its_job_page(page, db, monkeypatch):
    for feed in serve():
        records = [{"id": n, "name": f"Partner {n}", "email": f"p{n}@partner.example"} for n in range(3)]
        feed.pages("/users", [[*records, {"id": 9, "name": "Bad", "email": "broken"}]])
        monkeypatch.setenv("DEMO_FEED_URL", f"{feed.url}/users")
        page.click(".bulk-nav a[href='/admin/bulk/sync/']")
        page.click("button[data-dry-run=demo_users]")
        page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
        expect(page.locator("#job-status")).to_have_text("Dry run: some rows would fail")
        rejected = re.compile(r"record 4.*id 9: email: should be an email")
        expect(page.locator("#error-rows tbody tr")).to_have_text(rejected)
        assert db.users.count_documents({}) == 0
        page.click("#sync-for-real-button")
        page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
        expect(page.locator("#job-status")).to_have_text("Partially failed")
        expect(page.locator("#sync-for-real-button")).to_have_count(0)
        assert db.users.count_documents({"external_id": {"$in": [0, 1, 2]}}) == 3
