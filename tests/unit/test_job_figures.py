"""Job figures worded for people: durations and the one-line outcome of a job row."""

from __future__ import annotations

import pytest

from bulkadmin.jobs.figures import duration, outcome
from bulkadmin.models import Job


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.17156855499990797, "0.17 s"), (12.44, "12.4 s"), (185.2, "3 min 05 s"), (7650, "2 h 07 min")],
)
def test_duration_reads_as_seconds_minutes_or_hours(seconds, shown):
    assert duration(seconds) == shown


def test_outcome_of_an_import_names_what_it_did_without_the_rows_read():
    job = Job(kind=Job.Kind.IMPORT, counts={"rows": 15, "inserted": 12, "updated": 0, "rejected": 3, "failed": 0})
    assert outcome(job) == "12 created, 3 rejected"


def test_outcome_of_a_dry_run_says_what_it_would_do():
    job = Job(kind=Job.Kind.IMPORT, dry_run=True, counts={"rows": 14, "inserted": 4, "rejected": 8, "failed": 2})
    assert outcome(job) == "would create 4, would reject 8, would fail 2"


def test_outcome_of_a_job_that_did_nothing_yet_is_empty():
    assert outcome(Job(kind=Job.Kind.SYNC, counts={})) == ""
