"""Background counts: queued for large collections, computed by a real worker, polled as JSON,
shown on the browser, cleanup and compose pages, and required before a typed confirmation."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from bulkadmin.jobs import counts
from bulkadmin.models import Job
from tests.web.helpers import CLEANUP_COUNTS, cleanup_data, compose_data, confirm_data

pytestmark = pytest.mark.django_db(transaction=True)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queued(settings):
    """Every collection counts as large: counts are queued for the worker."""
    settings.BULKADMIN_INLINE_COUNT_LIMIT = 0
    settings.TASKS = DB_TASKS


def work() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_small_collections_are_counted_at_once(people):
    count = counts.counted(collection="users", filter={"age": {"$lt": 30}})
    assert (count.value, count.pending, count.age_text) == (10, False, "just now")
    assert people.database.bulkadmin_counts.count_documents({"_id": count.key}) == 1


def test_a_large_collection_is_counted_by_the_worker_and_the_json_arrives(admin_client_, people, queued):
    count = counts.counted(collection="users", filter={"age": {"$lt": 30}})
    assert (count.ready, count.pending) == (False, True)
    assert DBTaskResult.objects.count() == 1
    again = counts.counted(collection="users", filter={"age": {"$lt": 30}})
    assert again.key == count.key and DBTaskResult.objects.count() == 1  # asked once
    url = f"/admin/bulk/counts/{count.key}/"
    assert admin_client_.get(url).json() | {"computed_at": None} == {
        "key": count.key,
        "ready": False,
        "value": None,
        "pending": True,
        "computed_at": None,
        "age": "",
        "error": "",
    }
    work()
    arrived = admin_client_.get(url).json()
    assert (arrived["ready"], arrived["value"], arrived["pending"], arrived["age"]) == (True, 10, False, "just now")


def test_a_count_is_asked_again_after_a_job_wrote_to_its_collection(people, queued):
    counts.counted(collection="users", filter={})
    work()
    assert counts.counted(collection="users", filter={}).pending is False
    from django.utils import timezone

    Job.objects.create(kind="delete", collection="users", status="succeeded", finished_at=timezone.now())
    stale = counts.counted(collection="users", filter={})
    assert (stale.value, stale.pending) == (30, True)
    people.delete_one({})
    work()
    assert counts.counted(collection="users", filter={}).value == 29


def test_json_endpoint_is_staff_only(client, people):
    count = counts.counted(collection="users", filter={})
    response = client.get(f"/admin/bulk/counts/{count.key}/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_filtered_browse_shows_the_count_arriving(admin_client_, people, queued):
    page = admin_client_.get("/admin/bulk/collections/users/", {"q": "user2"})
    key = page.context["count"].key
    assert f'data-count-url="/admin/bulk/counts/{key}/"' in page.content.decode()
    work()
    again = admin_client_.get("/admin/bulk/collections/users/", {"q": "user2"})
    assert again.context["total"] == 11 and "11</span> matching documents" in again.content.decode()


def test_cleanup_page_counts_in_the_background(admin_client_, db, queued):
    cleanup_data(db)
    waiting = admin_client_.get("/admin/bulk/cleanup/")
    assert {row["result"].matched for row in waiting.context["rows"]} == {None}
    assert waiting.context["total"] is None and "counting…" in waiting.content.decode()
    work()
    counted = admin_client_.get("/admin/bulk/cleanup/")
    assert {row["rule"].name: row["result"].matched for row in counted.context["rows"]} == CLEANUP_COUNTS
    assert 'data-count="temporary_files">4<' in counted.content.decode()


def test_confirmation_waits_for_the_background_count_then_uses_it(admin_client_, people, queued):
    filters, updates = [("age", "lt", "30")], [("$set", "tier", "gold")]
    preview = admin_client_.post("/admin/bulk/update/", compose_data(filters=filters, updates=updates))
    assert preview.context["state"].preview.count is None
    page = preview.content.decode()
    assert "Counting the matching documents in the background" in page
    assert 'id="confirm-button"' in page and "disabled" in page.split('id="confirm-button"')[1].split(">")[0]
    early = compose_data(action="confirm", filters=filters, updates=updates)
    early.update(previewed=preview.context["previewed"], expected="", typed="10")
    refused = admin_client_.post("/admin/bulk/update/", early)
    assert b"still being counted" in refused.content
    assert not Job.objects.exists()
    work()
    counted = admin_client_.post("/admin/bulk/update/", compose_data(filters=filters, updates=updates))
    assert counted.context["state"].preview.count == 10 and b"type their number (10)" in counted.content
    response = admin_client_.post("/admin/bulk/update/", confirm_data(counted, filters=filters, updates=updates))
    job = Job.objects.get()
    assert response.status_code == 302 and job.status == "queued"
    work()
    assert people.count_documents({"tier": "gold"}) == 10


def test_estimates_of_large_collections_are_kept_and_renewed_in_the_background(admin_client_, people, queued):
    from bulkadmin.bulk import bulk_insert
    from project.collections import User
    from tests.factories import users

    first = counts.estimated("users")
    assert (first.value, first.pending) == (30, False)  # never estimated: estimated at once
    bulk_insert(User, users(5, start=30), db=people.database)
    assert counts.estimated("users").value == 30  # kept for a minute
    assert admin_client_.get("/admin/bulk/").context["collections"][-1]["count"] == 30
    renewing = counts.estimated("users", max_age=0)
    assert (renewing.value, renewing.pending) == (30, True)
    work()
    assert counts.estimated("users").value == 35
