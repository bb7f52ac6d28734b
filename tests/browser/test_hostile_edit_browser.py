"""A stored value the model no longer allows, edited in a real browser: a select with no
selected option sends its first one, so the stored value must be offered selected, or saving
another field silently rewrites it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from project.collections import User

pytestmark = pytest.mark.django_db(transaction=True)


def test_saving_another_field_does_not_rewrite_a_legacy_choice(page, db):
    document = {**User(name="Legacy", email="legacy@example.com").to_document(), "status": "banned"}
    db.users.insert_one(document)
    page.goto(f"/admin/bulk/collections/users/documents/{document['_id']}/edit/")
    page.fill("#id_doc-name", "Legacy 2")
    page.click("#save-button")
    expect(page.locator("#row-status .errorlist")).to_contain_text("Input should be")
    assert db.users.find_one() == document
    page.select_option("#id_doc-status", "inactive")
    page.click("#save-button")
    expect(page.locator("ul.messagelist")).to_contain_text("Saved Legacy 2")
    assert db.users.find_one() == {**document, "name": "Legacy 2", "status": "inactive"}
