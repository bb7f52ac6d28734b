"""The Cleanup page says what its numbers are and what cannot be undone; the result page shows
each rule's time as a readable duration and the job's message one line per rule."""

from __future__ import annotations

import re

import pytest

from bulkadmin.models import Job
from tests.web.helpers import cleanup_data, run_cleanup

pytestmark = pytest.mark.django_db

URL = "/admin/bulk/cleanup/"


@pytest.fixture
def old_data(db):
    cleanup_data(db)
    return db


def test_total_of_rules_sharing_a_collection_says_a_document_may_be_counted_in_each(admin_client_, old_data):
    page = admin_client_.get(URL).content.decode()
    total = re.search(r'<span id="cleanup-total">(.*?)</span>', page, re.S)
    assert total is not None
    assert " ".join(total.group(1).split()) == (
        "All 7 rules: up to 14 documents now (a document matched by two rules is counted in each)."
    )


def test_confirmation_of_one_rule_has_no_up_to_but_says_it_cannot_be_undone(admin_client_, old_data):
    response = admin_client_.post(URL, {"rule": "temporary_files", "action": "run"})
    page = " ".join(response.content.decode().split())
    assert "rule temporary_files would touch <strong" in page and "up to" not in page.split('id="cleanup-total"')[0]
    assert '<p class="errornote" id="cleanup-no-undo"><strong>This cannot be undone.</strong>' in page
    assert "A cleanup keeps no undo data: deleted documents are gone and updated fields keep their new values." in page


def test_confirmation_of_every_rule_says_up_to_and_where_archived_documents_go(admin_client_, old_data):
    response = admin_client_.post(URL, {"action": "run"})
    page = " ".join(response.content.decode().split())
    assert response.context["confirm"]["overlap"] is True
    assert 'would touch up to <strong id="cleanup-confirm-count">14</strong> documents now' in page
    assert "(each rule's count added up: a document matched by two rules is counted in each)." in page
    assert "deleted documents are gone (an archive rule keeps a copy in application_logs_archive)" in page
    assert old_data.users.count_documents({}) == 6  # nothing ran before the number is typed


def test_rule_times_on_the_result_page_are_readable_durations(admin_client_, old_data):
    run_cleanup(admin_client_, rule="temporary_files")
    job = Job.objects.get()
    job.details["rules"][0]["seconds"] = 0.17156855499990797
    job.save(update_fields=["details"])
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert "<th>Time</th>" in page and "<th>Seconds</th>" not in page
    assert "<td data-rule-time>0.17 s</td>" in page
    assert "0.17156855499990797</td>" not in page


def test_job_message_keeps_one_line_per_rule(admin_client_, old_data):
    run_cleanup(admin_client_)
    job = Job.objects.get()
    assert len(job.message.splitlines()) == 8  # seven rules and the total
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert "#job-message { display: block; white-space: pre-line;" in page
