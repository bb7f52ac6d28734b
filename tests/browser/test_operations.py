"""Cleanup and Sync in a real browser: the rules with their counts, a dry run, one rule run,
and a sync from a real HTTP feed, each checked against MongoDB."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bulkadmin.models import Job
from tests.feed_server import serve
from tests.web.helpers import CLEANUP_COUNTS, cleanup_data

pytestmark = pytest.mark.django_db(transaction=True)

JOB_URL = re.compile(r"/admin/bulk/jobs/\d+/$")


def test_cleanup_dry_run_then_one_rule(page, db, shot):
    cleanup_data(db)
    page.click(".bulk-nav a[href='/admin/bulk/cleanup/']")
    for name, count in CLEANUP_COUNTS.items():
        expect(page.locator(f"td[data-count={name}]")).to_have_text(str(count))
    shot("cleanup")

    page.click("#dry-run-all")
    page.wait_for_url(JOB_URL)
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    for name, count in CLEANUP_COUNTS.items():
        expect(page.locator(f"#job-rules tr[data-rule={name}] td[data-rule-count=matched]")).to_have_text(str(count))
    assert db.user_sessions.count_documents({}) == 5

    page.goto("/admin/bulk/cleanup/")
    page.click("button[data-run=expired_sessions]")
    expect(page.locator("#cleanup-confirm-count")).to_have_text("3")
    page.fill("#id_typed", "3")
    page.click("#cleanup-confirm-button")
    page.wait_for_url(JOB_URL)
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    rule = page.locator("#job-rules tr[data-rule=expired_sessions]")
    expect(rule.locator("td[data-rule-count=deleted]")).to_have_text("3")
    shot("cleanup-result")
    job = Job.objects.get(kind="cleanup", dry_run=False)
    assert job.counts["deleted"] == 5 - db.user_sessions.count_documents({}) == 3
    assert db.user_sessions.count_documents({"expires_at": {"$lt": job.started_at}}) == 0
    page.goto("/admin/bulk/cleanup/")
    expect(page.locator("td[data-count=expired_sessions]")).to_have_text("0")


def test_sync_run_now_from_a_feed(page, db, monkeypatch, shot):
    for feed in serve():
        feed.pages("/users", [[{"id": n, "name": f"Partner {n}", "email": f"p{n}@partner.example"} for n in range(7)]])
        monkeypatch.setenv("DEMO_FEED_URL", f"{feed.url}/users")
        page.click(".bulk-nav a[href='/admin/bulk/sync/']")
        expect(page.locator("#source-demo_users")).to_contain_text(f"{feed.url}/users")
        page.click("button[data-run=demo_users]")
        page.wait_for_url(JOB_URL)
        expect(page.locator("#job-status")).to_have_text("Succeeded")
        expect(page.locator("[data-count=created]")).to_have_text("7")
        assert db.users.count_documents({"external_id": {"$in": list(range(7))}}) == 7
        page.click(".bulk-nav a[href='/admin/bulk/sync/']")
        expect(page.locator("#source-demo_users .sync-runs tbody tr")).to_have_count(1)
        shot("sync")
