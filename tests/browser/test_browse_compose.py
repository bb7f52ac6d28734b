"""The browser and the composer in a real browser: sort by clicking headers, the document view,
jumps to a page or a document, composer rows added and removed, choices offered, the labelled
preview, and a background count arriving while the page is open."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from bulkadmin.bulk import bulk_insert
from bulkadmin.models import Job
from project.collections import User
from tests.factories import users

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/admin/bulk/collections/users/"


@pytest.fixture
def many(db):
    bulk_insert(User, users(120), db=db)
    return db.users


def first_cells(page, column: int) -> list[str]:
    return page.locator(f"#result_list tbody tr td:nth-child({column})").all_inner_texts()


def test_sort_by_clicking_headers_then_open_a_document(page, many, shot):
    page.goto(URL)
    expect(page.locator("#result-count")).to_contain_text("About 120 documents")
    page.click("th[data-column=email] a")  # first click: ascending, as in Django admin
    expect(page.locator("th[data-column=email]")).to_contain_text("▲")
    assert first_cells(page, 3)[:3] == ["user0@example.com", "user100@example.com", "user101@example.com"]
    page.click("th[data-column=email] a")
    expect(page.locator("th[data-column=email]")).to_contain_text("▼")
    assert first_cells(page, 3)[:2] == ["user9@example.com", "user99@example.com"]  # "@" sorts after digits
    expect(page.locator("th[data-column=age] a")).to_have_count(0)  # not indexed, not sortable
    shot("browse-sorted")
    page.locator("#result_list a.bulk-doc-link").first.click()
    page.wait_for_url(re.compile(r"/documents/[0-9a-f]{24}/$"))
    expect(page.locator("#document-json")).to_contain_text('"email": "user9@example.com"')
    expect(page.locator("#document-jobs caption")).to_contain_text("Jobs that touched this document")
    shot("document")


def test_jump_to_a_page_and_to_a_document_by_key(page, many, shot):
    page.goto(URL)
    page.fill("#id_page", "3")
    page.click("#jump-page input[type=submit]")
    expect(page.locator(".paginator span")).to_have_text("page 3")
    expect(page.locator("#result_list tbody tr")).to_have_count(20)
    expect(page.locator("#next-page")).to_have_count(0)
    page.click("#previous-page")
    expect(page.locator(".paginator span")).to_have_text("page 2")
    page.fill("#id_go", "user42@example.com")
    page.click("#jump-document input[type=submit]")
    expect(page.locator("#document-json")).to_contain_text('"name": "User 42"')
    page.goto(URL)
    page.click("#column-picker summary")
    page.uncheck("#column-picker input[value=age]")
    page.check("#column-picker input[value=last_login]")
    page.click("#columns-button")
    expect(page.locator("th[data-column=last_login]")).to_have_count(1)
    page.goto(URL)
    expect(page.locator("th[data-column=age]")).to_have_count(0)  # remembered
    shot("browse")


def test_composer_adds_rows_offers_choices_and_previews_labels(page, people, shot):
    page.goto("/admin/bulk/update/?collection=users")
    expect(page.locator("#filter-rows tbody tr")).to_have_count(3)
    page.click("#add-filter-row")
    page.click("#add-filter-row")
    expect(page.locator("#filter-rows tbody tr")).to_have_count(5)
    page.locator("#filter-rows tbody tr").nth(1).locator(".bulk-remove-row").click()
    expect(page.locator("#filter-rows tbody tr")).to_have_count(4)
    page.select_option("#id_filter-0-field", "age")
    page.select_option("#id_filter-0-operator", "lt")
    page.fill("#id_filter-0-value", "30")
    page.select_option("#id_filter-4-field", "status")
    expect(page.locator("select#id_filter-4-value option")).to_have_count(7)  # "—" and the six statuses
    page.select_option("#id_filter-4-value", "active")
    page.select_option("#id_filter-3-field", "created_at")
    page.select_option("#id_filter-3-operator", "lt")
    expect(page.locator("#id_filter-3-value")).to_have_attribute("type", "datetime-local")
    page.fill("#id_filter-3-value", "2100-01-01T00:00")
    page.click("#add-update-row")
    page.select_option("#id_update-3-operator", "$set")
    page.select_option("#id_update-3-field", "tier")
    page.select_option("#id_update-3-value", "gold")
    page.click("#preview-button")
    expect(page.locator("#preview-count strong")).to_have_text("10")
    expect(page.locator("#preview-samples a.bulk-label").first).to_have_text("User 0 · user0@example.com")
    expect(page.locator("#final-spec")).to_contain_text('"status": "active"')
    expect(page.locator("#stored-spec")).to_contain_text('"$date"')
    expect(page.locator("#id_filter-4-value")).to_have_value("active")  # the choice kept after the round trip
    shot("compose-preview")
    page.fill("#id_typed", "10")
    page.click("#confirm-button")
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    assert people.count_documents({"tier": "gold"}) == 10


def test_background_count_arrives_and_enables_the_run_button(page, people, settings, shot):
    settings.BULKADMIN_INLINE_COUNT_LIMIT = 0
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    page.goto("/admin/bulk/delete/?collection=users")
    page.select_option("#id_filter-0-field", "age")
    page.select_option("#id_filter-0-operator", "gte")
    page.fill("#id_filter-0-value", "45")
    page.click("#preview-button")
    expect(page.locator("#preview-count .bulk-counting")).to_be_visible()
    expect(page.locator("#confirm-button")).to_be_disabled()
    shot("compose-counting")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    expect(page.locator("#preview-count .bulk-count-value")).to_have_text("5")
    expect(page.locator("#preview-count .bulk-counting")).to_be_hidden()
    expect(page.locator("#confirm-button")).to_be_enabled()
    page.fill("#id_typed", "5")
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    job = Job.objects.get(kind="delete")
    assert job.status == "queued"
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert people.count_documents({}) == 25


def test_filtered_browse_count_arrives_while_the_page_is_open(page, many, settings):
    settings.BULKADMIN_INLINE_COUNT_LIMIT = 0
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    page.goto(URL + "?q=user1")
    expect(page.locator("#match-count .bulk-counting")).to_be_visible()
    expect(page.locator("#result-count")).to_contain_text("Page 1.")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    expect(page.locator("#match-count .bulk-count-value")).to_have_text("31")
