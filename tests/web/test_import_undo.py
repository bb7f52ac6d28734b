"""Undo of web imports: an insert import's documents are deleted, a merge or upsert import's
changed documents are restored from their pre-images; documents changed since are left alone."""

from __future__ import annotations

import pytest

from bulkadmin.jobs.imports import import_file
from bulkadmin.models import Job
from bulkadmin.operations.undo import undo_record_count
from tests.web.import_helpers import GOOD_AND_BAD, confirm, dry_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def stored(collection) -> dict:
    return {doc["_id"]: doc for doc in collection.find()}


def undo(client, job: Job) -> Job:
    response = client.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    assert response.status_code == 302
    return Job.objects.get(kind="undo", parameters__job=job.pk)


def test_undo_of_an_insert_import_deletes_exactly_the_documents_it_inserted(admin_client_, people):
    before = stored(people)
    job = confirm(admin_client_, dry_run(admin_client_, GOOD_AND_BAD)[0])
    assert people.count_documents({}) == 33
    assert (job.details["undo_records"], job.details["undo_available"]) == (3, True)
    assert 'id="undo-button"' in admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()

    undone = undo(admin_client_, job)
    assert (undone.status, undone.counts["deleted"], undone.details["deleted"]) == ("succeeded", 3, 3)
    assert stored(people) == before
    job.refresh_from_db()
    assert job.details["undone_by"] == undone.pk


def test_undo_of_an_insert_import_leaves_a_document_changed_since_as_a_conflict(admin_client_, people):
    job = confirm(admin_client_, dry_run(admin_client_, GOOD_AND_BAD)[0])
    people.update_one({"email": "cid@example.com"}, {"$set": {"age": 46}})
    changed = people.find_one({"email": "cid@example.com"})

    undone = undo(admin_client_, job)
    assert (undone.status, undone.counts["deleted"], undone.error_count) == ("partial", 2, 1)
    assert undone.details["conflicts"] == [str(changed["_id"])]
    assert people.count_documents({}) == 31
    assert people.find_one({"_id": changed["_id"]}) == changed


def test_undo_of_a_merge_import_restores_changed_documents_and_deletes_created_ones(admin_client_, people):
    before = stored(people)
    csv_text = (
        "email,tier,age\n"
        "user1@example.com,gold,70\n"
        "user2@example.com,silver,\n"
        "user3@example.com,,23\n"  # user3 is 23 already: unchanged
        "new@example.com,bronze,40\n"
    )
    dry, _ = dry_run(admin_client_, csv_text, mode="merge", ignore_blanks="on")
    assert {k: dry.counts[k] for k in ("inserted", "updated", "unchanged", "rejected")} == {
        "inserted": 0,
        "updated": 2,
        "unchanged": 1,
        "rejected": 1,  # a new user without a name cannot be created by a merge
    }
    job = confirm(admin_client_, dry)
    assert {k: job.counts[k] for k in ("updated", "unchanged", "rejected")} == {
        "updated": 2,
        "unchanged": 1,
        "rejected": 1,
    }
    assert people.find_one({"email": "user1@example.com"})["tier"] == "gold"
    assert undo_record_count(job.pk) == 2

    undone = undo(admin_client_, job)
    assert (undone.status, undone.counts["updated"]) == ("succeeded", 2)
    assert stored(people) == before


def test_undo_of_an_upsert_import_restores_replaced_documents_and_deletes_inserted_ones(admin_client_, people):
    before = stored(people)
    csv_text = "name,email,age\nNew Name,user4@example.com,60\nNewcomer,newcomer@example.com,33\n"
    job = confirm(admin_client_, dry_run(admin_client_, csv_text, mode="upsert")[0])
    assert (job.counts["inserted"], job.counts["updated"]) == (1, 1)
    assert people.find_one({"email": "user4@example.com"})["name"] == "New Name"
    assert people.count_documents({}) == 31

    undone = undo(admin_client_, job)
    assert (undone.status, undone.counts["updated"], undone.counts["deleted"]) == ("succeeded", 1, 1)
    assert stored(people) == before


def test_imports_keep_no_undo_data_past_the_limit_and_offer_no_undo(admin_client_, people, settings):
    settings.BULKADMIN_UNDO_LIMIT = 2
    job = confirm(admin_client_, dry_run(admin_client_, GOOD_AND_BAD)[0])
    assert job.details["undo_available"] is False
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert 'id="undo-button"' not in page and "no undo data was kept" in page
    assert admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/").status_code == 302
    assert not Job.objects.filter(kind="undo").exists()


def test_dry_runs_and_command_line_imports_cannot_be_undone(admin_client_, people, tmp_path):
    dry, _ = dry_run(admin_client_, GOOD_AND_BAD)
    assert "a dry run wrote nothing" in admin_client_.get(f"/admin/bulk/jobs/{dry.pk}/").content.decode()
    path = tmp_path / "cli.csv"
    path.write_text(GOOD_AND_BAD)
    result = import_file(model="users", source=path)
    assert undo_record_count(result.job_id) == 0
    page = admin_client_.get(f"/admin/bulk/jobs/{result.job_id}/").content.decode()
    assert "no undo data was kept" in page
