"""The jobs list: each row says what the job did, and jobs are filtered by the day they were created."""

from __future__ import annotations

import datetime as dt

import pytest

from bulkadmin.models import Job

pytestmark = pytest.mark.django_db

URL = "/admin/bulk/jobs/"


def job_on(day: str, **fields) -> Job:
    job = Job.objects.create(kind="import", collection="users", status="partial", **fields)
    Job.objects.filter(pk=job.pk).update(created_at=dt.datetime.fromisoformat(f"{day}T12:00:00+00:00"))
    return job


def listed(response) -> list[int]:
    return [job.pk for job in response.context["listing"].object_list]


def test_each_row_sums_up_what_the_job_did(admin_client_):
    job_on("2026-03-01", counts={"rows": 15, "inserted": 12, "updated": 0, "rejected": 3, "failed": 0})
    job_on("2026-03-02", dry_run=True, counts={"rows": 14, "inserted": 4, "rejected": 8, "failed": 2})
    page = admin_client_.get(URL).content.decode()
    assert "<th>Outcome</th>" in page
    assert '<td class="job-outcome">12 created, 3 rejected</td>' in page
    assert '<td class="job-outcome">would create 4, would reject 8, would fail 2</td>' in page


def test_from_and_to_days_keep_the_jobs_created_on_those_days_and_between(admin_client_):
    first, second, third = (job_on(day) for day in ("2026-03-01", "2026-03-02", "2026-03-03"))
    assert listed(admin_client_.get(URL, {"from": "2026-03-02"})) == [third.pk, second.pk]
    assert listed(admin_client_.get(URL, {"to": "2026-03-02"})) == [second.pk, first.pk]
    response = admin_client_.get(URL, {"from": "2026-03-02", "to": "2026-03-02"})
    assert listed(response) == [second.pk]
    page = response.content.decode()
    assert 'name="from" id="id_from" value="2026-03-02"' in page and 'name="to" id="id_to" value="2026-03-02"' in page


def test_a_day_that_is_no_date_is_left_out_and_said_so(admin_client_):
    first = job_on("2026-03-01")
    response = admin_client_.get(URL, {"from": "March 1st"})
    assert listed(response) == [first.pk]
    assert "The &#x27;from&#x27; day &#x27;March 1st&#x27; is not a date like 2026-01-31" in response.content.decode()
