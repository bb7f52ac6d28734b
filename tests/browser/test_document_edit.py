"""One document at a time in a real browser: from a filtered browse page, edit a document (and
undo the edit), be refused on a stale form, delete one (and undo it) and add one, each checked
against MongoDB."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from bulkadmin.models import Job
from project.collections import User

pytestmark = pytest.mark.django_db(transaction=True)

JOB_URL = re.compile(r"/admin/bulk/jobs/\d+/$")
DOCUMENT_URL = re.compile(r"/admin/bulk/collections/users/documents/[0-9a-f]{24}/$")


def _open_from_search(page, name: str) -> None:
    """Search the users for `name` and open the one document found."""
    page.goto("/admin/bulk/collections/users/")
    page.fill("#q", name)
    page.click("#changelist-search input[type=submit]")
    expect(page.locator("a.bulk-doc-link")).to_have_count(1)
    page.click("a.bulk-doc-link")
    page.wait_for_url(DOCUMENT_URL)


def test_edit_a_document_then_undo_the_edit(page, people, shot):
    before = people.find_one({"name": "User 7"})
    _open_from_search(page, "User 7")
    page.click("#edit-button")
    page.fill("#id_doc-age", "400")
    page.click("#save-button")
    expect(page.locator("#row-age .errorlist")).to_have_text("Input should be less than or equal to 150")
    assert people.find_one({"_id": before["_id"]}) == before

    page.fill("#id_doc-age", "41")
    page.select_option("#id_doc-tier", "gold")
    page.fill("#id_doc-tags", '["vip"]')
    shot("document-edit")
    page.click("#save-button")
    page.wait_for_url(DOCUMENT_URL)
    expect(page.locator("ul.messagelist")).to_contain_text("Saved User 7 · user7@example.com")
    assert people.find_one({"_id": before["_id"]}) == {**before, "age": 41, "tier": "gold", "tags": ["vip"]}
    job = Job.objects.get(kind="edit")
    expect(page.locator("#document-jobs")).to_contain_text(f"#{job.pk}")

    page.goto(f"/admin/bulk/jobs/{job.pk}/")
    shot("document-edit-job")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#undo-button")
    page.wait_for_url(JOB_URL)
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    assert people.find_one({"_id": before["_id"]}) == before


def test_a_form_loaded_before_another_change_is_refused_showing_it(page, people):
    target = people.find_one({"name": "User 3"})
    page.goto(f"/admin/bulk/collections/users/documents/{target['_id']}/edit/")
    page.fill("#id_doc-name", "Mine")
    people.update_one({"_id": target["_id"]}, {"$set": {"age": 99}})
    page.click("#save-button")
    expect(page.locator("#stale-note")).to_contain_text("This document changed since you loaded it")
    expect(page.locator("#stale-changes tbody tr")).to_have_text(re.compile(r"age\s*23\s*99"))
    stored = people.find_one({"_id": target["_id"]})
    assert (stored["name"], stored["age"]) == ("User 3", 99)


def test_delete_a_document_then_undo_the_delete(page, people, shot):
    before = people.find_one({"name": "User 12"})
    _open_from_search(page, "User 12")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-document-button")
    page.wait_for_url(re.compile(r"/admin/bulk/collections/users/$"))
    expect(page.locator("ul.messagelist")).to_contain_text("Deleted User 12 · user12@example.com")
    assert people.count_documents({}) == 29 and people.find_one({"_id": before["_id"]}) is None
    shot("document-deleted")

    job = Job.objects.get(kind="edit")
    page.goto(f"/admin/bulk/jobs/{job.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#undo-button")
    page.wait_for_url(JOB_URL)
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    assert people.find_one({"_id": before["_id"]}) == before


def test_add_a_document_from_the_browse_page(page, people):
    page.goto("/admin/bulk/collections/users/")
    page.click("#add-button")
    page.fill("#id_doc-name", "Grace Hopper")
    page.fill("#id_doc-email", "Grace@Example.com")
    page.fill("#id_doc-age", "85")
    page.fill("#id_doc-last_login", "2026-05-01T09:30")
    page.click("#save-button")
    page.wait_for_url(DOCUMENT_URL)
    expect(page.locator("ul.messagelist")).to_contain_text("Added Grace Hopper · grace@example.com")
    stored = people.find_one({"email": "grace@example.com"})
    assert (stored["name"], stored["age"], stored["last_login"].isoformat()) == (
        "Grace Hopper",
        85,
        "2026-05-01T09:30:00+00:00",
    )
    assert people.count_documents({}) == 31


def test_a_save_keeps_hostile_text_and_every_untouched_value_exactly(page, db):
    hostile = {
        "name": "=SUM(A1)\tTab\nNext line 🎉",
        "email": "hostile@example.com",
        "age": 30,
        "total_spent": 0.1 + 0.2,
        "external_id": 7,
        "profile": {"bio": "two\nlines", "avatar_url": None},
        "tags": ["+x", "@y", "-z"],
        "last_login": dt.datetime(2026, 2, 3, 4, 5, tzinfo=dt.UTC),
        "legacy": "a key the model does not know",
    }
    known = User.model_validate({key: value for key, value in hostile.items() if key != "legacy"})
    stored_id = db.users.insert_one(known.to_document() | {"legacy": hostile["legacy"]}).inserted_id
    before = db.users.find_one({"_id": stored_id})
    page.goto(f"/admin/bulk/collections/users/documents/{stored_id}/edit/")
    page.fill("#id_doc-age", "44")
    page.click("#save-button")
    page.wait_for_url(DOCUMENT_URL)
    assert db.users.find_one({"_id": stored_id}) == {**before, "age": 44}
    assert Job.objects.get(kind="edit").parameters["changes"] == [{"field": "age", "before": "30", "after": "44"}]
