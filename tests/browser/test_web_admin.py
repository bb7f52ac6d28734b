"""The web admin in a real browser: log in, bulk update with preview and typed confirmation,
the result page, undo, a bulk delete, and the live progress bar."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bulkadmin.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def test_bulk_update_preview_confirm_result_and_undo(page, people, shot):
    before = {doc["_id"]: doc for doc in people.find()}
    page.reload()
    expect(page.locator("td.count[data-collection=users]")).to_have_text("30")
    shot("dashboard")

    page.click("a[href='/admin/bulk/update/?collection=users']")
    page.select_option("#id_filter-0-field", "age")
    page.select_option("#id_filter-0-operator", "lt")
    page.fill("#id_filter-0-value", "30")
    page.select_option("#id_update-0-operator", "$set")
    page.select_option("#id_update-0-field", "tier")
    page.select_option("#id_update-0-value", "gold")  # tier offers its choices
    page.fill("#id_batch_size", "3")
    page.click("#preview-button")
    expect(page.locator("#preview-count strong")).to_have_text("10")
    expect(page.locator("#preview-samples td.bulk-new").first).to_have_text("gold")
    shot("update-preview")

    page.fill("#id_typed", "10")
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r"/admin/bulk/jobs/\d+/$"))
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    expect(page.locator("[data-count=modified]")).to_have_text("10")
    expect(page.locator("#job-bar")).to_have_attribute("style", "width: 100%")
    expect(page.locator("svg.bulk-chart rect")).to_have_count(4)
    shot("job-result")
    job = Job.objects.get(kind="update")
    assert job.counts["modified"] == people.count_documents({"tier": "gold"}) == 10

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#undo-button")
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    expect(page.locator("[data-count=updated]")).to_have_text("10")
    assert {doc["_id"]: doc for doc in people.find()} == before


def test_bulk_delete_with_typed_confirmation(page, people, shot):
    page.goto("/admin/bulk/delete/?collection=users")
    page.select_option("#id_filter-0-field", "age")
    page.select_option("#id_filter-0-operator", "gte")
    page.fill("#id_filter-0-value", "45")
    page.click("#preview-button")
    expect(page.locator("#preview-count strong")).to_have_text("5")
    page.fill("#id_typed", "4")
    page.click("#confirm-button")
    expect(page.locator("#compose-errors")).to_contain_text("type the number of matching documents (5)")
    assert people.count_documents({}) == 30
    page.fill("#id_typed", "5")
    page.click("#confirm-button")
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    expect(page.locator("[data-count=deleted]")).to_have_text("5")
    assert people.count_documents({}) == 25
    page.goto("/admin/bulk/collections/users/")
    expect(page.locator("#result-count")).to_contain_text("25 documents")
    shot("browse")


def test_progress_bar_follows_a_running_job_without_reloading(page, db):
    from django.utils import timezone

    job = Job.objects.create(kind="update", collection="users", status="queued", rows_total=200)
    page.goto(f"/admin/bulk/jobs/{job.pk}/")
    page.evaluate("window.notReloaded = true")
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(status="running", rows_done=50, started_at=now, heartbeat_at=now)
    expect(page.locator("#job-bar")).to_have_attribute("style", "width: 25%;")
    expect(page.locator("#job-rows")).to_have_text("50 / 200")
    expect(page.locator("#job-status")).to_have_text("Running")
    assert page.evaluate("window.notReloaded") is True
    Job.objects.filter(pk=job.pk).update(status="succeeded", rows_done=200, finished_at=timezone.now())
    expect(page.locator("#job-status")).to_have_text("Succeeded")
