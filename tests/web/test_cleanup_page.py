"""The Cleanup page: the rules with their counts now, dry runs and runs as jobs, bad input, the lock."""

from __future__ import annotations

import pytest

from bulkadmin.jobs import leases
from bulkadmin.models import Job
from tests.web.helpers import CLEANUP_COUNTS, cleanup_data, run_cleanup

pytestmark = pytest.mark.django_db

URL = "/admin/bulk/cleanup/"


@pytest.fixture
def old_data(db):
    cleanup_data(db)
    return db


def test_page_lists_the_rules_in_order_with_what_each_would_touch_now(admin_client_, old_data):
    response = admin_client_.get(URL)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["rule"].name for row in rows] == list(CLEANUP_COUNTS)
    assert {row["rule"].name: row["result"].matched for row in rows} == CLEANUP_COUNTS
    assert response.context["total"] == 14
    page = response.content.decode()
    assert "Delete sessions that have expired." in page
    assert "user_sessions where {expires_at: {$lt: now}} -&gt; delete" in page
    assert 'data-count="temporary_files">4<' in page
    assert old_data.user_sessions.count_documents({}) == 5 and not Job.objects.exists()


def test_page_with_no_data_counts_zero_everywhere(admin_client_, db):
    response = admin_client_.get(URL)
    assert {row["result"].matched for row in response.context["rows"]} == {0}


def test_dry_run_of_all_rules_is_a_job_with_per_rule_counts_and_writes_nothing(admin_client_, old_data):
    response = admin_client_.post(URL, {"action": "dry_run"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/bulk/jobs/{job.pk}/"
    assert (job.kind, job.status, job.dry_run, job.origin, job.user.username) == (
        "cleanup",
        "succeeded",
        True,
        "web",
        "root",
    )
    assert job.parameters == {"rules": list(CLEANUP_COUNTS), "batch_size": 1000}
    assert {rule["rule"]: rule["matched"] for rule in job.details["rules"]} == CLEANUP_COUNTS
    assert old_data.user_sessions.count_documents({}) == 5 and old_data.users.count_documents({}) == 6
    result = admin_client_.get(response["Location"]).content.decode()
    assert 'id="job-rules"' in result and "(dry run: documents each would touch)" in result
    assert 'id="rerun-button"' in result


def test_running_one_rule_touches_only_its_documents(admin_client_, old_data):
    response = run_cleanup(admin_client_, rule="temporary_files")
    job = Job.objects.get()
    assert response["Location"] == f"/admin/bulk/jobs/{job.pk}/"
    assert (job.status, job.dry_run, job.collection, job.parameters["rules"]) == (
        "succeeded",
        False,
        "file_records",
        ["temporary_files"],
    )
    assert (job.counts["deleted"], job.details["rules"][0]["deleted"]) == (4, 4)
    assert old_data.file_records.count_documents({}) == 2
    assert old_data.file_records.count_documents({"file_type": "temporary"}) == 1
    assert old_data.user_sessions.count_documents({}) == 5


def test_running_all_rules_gives_exact_counts_in_mongodb(admin_client_, old_data):
    run_cleanup(admin_client_)
    job = Job.objects.get()
    figures = {rule["rule"]: rule for rule in job.details["rules"]}
    assert figures["archive_old_logs"]["archived"] == 2 and figures["dormant_users"]["modified"] == 1
    # the job's "deleted" counts archived documents too (they leave the collection): 9 + 2
    assert (job.counts["deleted"], job.counts["modified"], job.counts["archived"]) == (11, 3, 2)
    assert old_data.user_sessions.count_documents({}) == 2
    assert old_data.application_logs.count_documents({}) == 1
    assert old_data.application_logs_archive.count_documents({"archived": True}) == 2
    assert old_data.file_records.count_documents({}) == 2
    assert sorted(doc["status"] for doc in old_data.users.find()) == ["active", "active", "dormant", "inactive"]
    after = admin_client_.get(URL)
    assert {row["result"].matched for row in after.context["rows"]} == {0}


def test_result_page_shows_the_per_rule_counts_from_the_details(admin_client_, old_data):
    run_cleanup(admin_client_, rule="expired_sessions")
    page = admin_client_.get(f"/admin/bulk/jobs/{Job.objects.get().pk}/").content.decode()
    assert '<tr data-rule="expired_sessions">' in page
    assert '<td data-rule-count="matched">3</td><td data-rule-count="deleted">3</td>' in page


def test_unknown_rule_is_a_404_naming_the_declared_rules(admin_client_, old_data):
    response = admin_client_.post(URL, {"action": "run", "rule": "everything"})
    assert response.status_code == 404
    assert "Unknown cleanup rule &#x27;everything&#x27;. Your rules: expired_sessions" in response.content.decode()
    assert "Traceback" not in response.content.decode() and not Job.objects.exists()


def test_unknown_action_is_refused(admin_client_, old_data):
    response = admin_client_.post(URL, {"action": "drop"})
    assert response.status_code == 400 and b"Unknown action" in response.content
    assert not Job.objects.exists()


def test_a_run_while_the_cleanup_lock_is_held_fails_with_the_reason(admin_client_, old_data):
    with leases.exclusive("cleanup"):
        response = run_cleanup(admin_client_, follow=True)
    job = Job.objects.get()
    assert (job.status, job.started_at) == ("failed", None)
    assert job.message.startswith("Not run: cleanup is already running on host ")
    assert "cleanup is already running" in response.content.decode()
    assert old_data.user_sessions.count_documents({}) == 5


def test_a_dry_run_does_not_need_the_lock(admin_client_, old_data):
    with leases.exclusive("cleanup"):
        admin_client_.post(URL, {"action": "dry_run", "rule": "expired_sessions"})
    assert Job.objects.get().status == "succeeded"


def test_a_second_run_is_refused_while_one_is_queued(admin_client_, old_data):
    queued = Job.objects.create(kind="cleanup", status="queued")
    response = run_cleanup(admin_client_, follow=True)
    assert f"A cleanup is already waiting in the queue as job #{queued.pk}" in response.content.decode()
    assert Job.objects.count() == 1 and old_data.user_sessions.count_documents({}) == 5


def test_rerun_button_runs_the_same_rules_again_as_a_new_job(admin_client_, old_data):
    admin_client_.post(URL, {"action": "dry_run", "rule": "deleted_users"})
    first = Job.objects.get()
    response = admin_client_.post(f"/admin/bulk/jobs/{first.pk}/rerun/")
    second = Job.objects.exclude(pk=first.pk).get()
    assert response["Location"] == f"/admin/bulk/jobs/{second.pk}/"
    assert (second.parameters["rules"], second.dry_run, second.counts["matched"]) == (["deleted_users"], True, 1)
