"""The web update job validates each document's result with the model before writing it."""

from __future__ import annotations

import pytest

from bulkadmin.models import Job
from tests.web.helpers import compose_data, confirm_data

pytestmark = pytest.mark.django_db
UPDATE_URL = "/admin/bulk/update/"


def test_inc_past_the_models_cap_through_the_web_job_rejects_each_document_by_id(admin_client_, people):
    filters, inc = [("age", "gte", "45")], [("$inc", "age", "1000")]
    preview = admin_client_.post(UPDATE_URL, compose_data(filters=filters, updates=inc))
    admin_client_.post(UPDATE_URL, confirm_data(preview, filters=filters, updates=inc))
    job = Job.objects.get()
    old = sorted(str(doc["_id"]) for doc in people.find({"age": {"$gte": 45}}))
    assert people.count_documents({"age": {"$gt": 150}}) == 0
    assert len(old) == 5
    assert (job.status, job.counts["modified"], job.counts["rejected"], job.counts["failed"]) == ("failed", 0, 5, 5)
    assert sorted(error["message"].split()[3].rstrip(":") for error in job.errors) == old
    assert {error["field"] for error in job.errors} == {"age"}
