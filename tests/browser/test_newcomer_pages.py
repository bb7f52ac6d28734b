"""What a first user sees change on an open page: a background count arriving with its words."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

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
