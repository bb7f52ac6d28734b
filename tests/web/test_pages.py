"""Dashboard, collection browser and jobs list: what staff see."""

from __future__ import annotations

import pytest

from bulkadmin.models import Job

pytestmark = pytest.mark.django_db


def test_admin_index_links_to_the_dashboard(admin_client_, db):
    page = admin_client_.get("/admin/").content.decode()
    assert 'href="/admin/bulk/"' in page


def test_dashboard_lists_every_collection_with_its_count_and_last_job(admin_client_, people):
    job = Job.objects.create(kind="update", collection="users", status="succeeded")
    response = admin_client_.get("/admin/bulk/")
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.context["collections"]}
    assert set(rows) == {"users", "user_sessions", "application_logs", "file_records", "page_stats", "analytics_events"}
    assert rows["users"]["count"] == 30 and rows["users"]["last_job"] == job
    assert rows["page_stats"]["count"] == 0 and rows["page_stats"]["last_job"] is None
    page = response.content.decode()
    assert 'href="/admin/bulk/update/?collection=users"' in page
    assert 'href="/admin/bulk/delete/?collection=users"' in page
    assert f'href="/admin/bulk/jobs/{job.pk}/"' in page


def test_browser_paginates_fifty_documents_per_page_newest_first(admin_client_, people):
    from bulkadmin.bulk import bulk_insert
    from project.collections import User
    from tests.factories import users

    bulk_insert(User, users(40, start=30), db=people.database)
    first = admin_client_.get("/admin/bulk/collections/users/")
    assert (first.context["total"], first.context["pages"], len(first.context["rows"])) == (70, 2, 50)
    assert first.context["columns"][:3] == ["id", "name", "email"]
    second = admin_client_.get("/admin/bulk/collections/users/", {"page": 2})
    assert len(second.context["rows"]) == 20
    assert second.context["rows"][-1][1] == "User 0"


def test_browser_searches_text_fields_and_filters_on_choices(admin_client_, people):
    people.update_many({"age": {"$lt": 25}}, {"$set": {"tier": "gold"}})
    found = admin_client_.get("/admin/bulk/collections/users/", {"q": "user2"})
    assert found.context["total"] == 11
    chosen = admin_client_.get("/admin/bulk/collections/users/", {"tier": "gold", "q": "USER"})
    assert chosen.context["total"] == 5
    bad = admin_client_.get("/admin/bulk/collections/users/", {"tier": "diamond"})
    assert bad.status_code == 200 and "tier: Input should be" in bad.context["error"]


def test_browser_of_unknown_collection_is_404(admin_client_, db):
    assert admin_client_.get("/admin/bulk/collections/nope/").status_code == 404


def test_jobs_list_filters_by_kind_status_collection_and_user(admin_client_, make_user, db):
    alice = make_user("alice")
    Job.objects.create(kind="update", collection="users", status="succeeded", user=alice)
    Job.objects.create(kind="delete", collection="users", status="failed")
    Job.objects.create(kind="update", collection="file_records", status="failed")

    def listed(**filters: str) -> int:
        return len(admin_client_.get("/admin/bulk/jobs/", filters).context["listing"].object_list)

    assert listed() == 3
    assert listed(kind="update") == 2
    assert listed(status="failed") == 2
    assert listed(collection="file_records") == 1
    assert listed(user="alice") == 1
    assert listed(kind="update", status="failed", collection="users") == 0
