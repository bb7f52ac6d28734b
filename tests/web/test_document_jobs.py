"""The document view: the stored JSON and the jobs that touched the document, found by index."""

from __future__ import annotations

import json

import pytest
from bson import ObjectId

from bulkadmin.jobs import imports
from bulkadmin.jobs.runner import track_job
from bulkadmin.models import Job
from bulkadmin.operations import undo_batches, updates
from project.collections import User

pytestmark = pytest.mark.django_db
URL = "/admin/bulk/collections/users/"


@pytest.fixture
def imported(db, tmp_path, settings):
    """Three users created by an import job, and that job."""
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    path = tmp_path / "people.csv"
    path.write_text("name,email,age\n" + "".join(f"User {n},user{n}@example.com,{20 + n}\n" for n in range(3)))
    result = imports.import_file(model="users", source=path)
    assert result.counts["inserted"] == 3
    return Job.objects.get(kind="import")


def _update(email: str, tier: str) -> Job:
    job = Job.objects.create(kind="update", collection="users")
    with track_job(kind="update", job=job):
        updates.run_update(model=User, filter={"email": email}, update={"$set": {"tier": tier}}, undo_key=job.pk)
    return job


def test_document_view_shows_the_stored_json_and_the_import_that_created_it(admin_client_, db, imported):
    stored = db.users.find_one({"email": "user1@example.com"})
    other = Job.objects.create(kind="update", collection="users", status="succeeded")
    Job.objects.create(kind="update", collection="page_stats", status="succeeded")
    response = admin_client_.get(f"{URL}documents/{stored['_id']}/")
    assert response.status_code == 200
    assert json.loads(response.context["stored"])["email"] == "user1@example.com"
    assert response.context["label"] == "User 1 · user1@example.com"
    # Exactly the jobs that touched it (found by `document_jobs`), never the collection's other jobs.
    assert response.context["jobs"] == [imported] and other not in response.context["jobs"]
    assert "Jobs that touched this document" in response.content.decode()
    assert admin_client_.get(f"{URL}documents/{ObjectId()}/").status_code == 404


def test_document_view_lists_exactly_the_jobs_whose_undo_data_holds_it(admin_client_, db, imported, monkeypatch):
    monkeypatch.setattr(undo_batches, "indexed_by_document", lambda db: True)  # as on MongoDB
    touched = _update("user1@example.com", "gold")
    untouched = _update("user2@example.com", "silver")
    stored = db.users.find_one({"email": "user1@example.com"})
    assert stored["tier"] == "gold"
    response = admin_client_.get(f"{URL}documents/{stored['_id']}/")
    assert response.context["jobs"] == [touched, imported]
    assert untouched not in response.context["jobs"]
    assert "Jobs that touched this document" in response.content.decode()
    record = db.bulkadmin_undo.find_one({"job": touched.pk})
    assert record["doc_ids"] == [stored["_id"]]
    assert [("doc_ids", 1)] in [index["key"] for index in db.bulkadmin_undo.index_information().values()]
