"""A row MongoDB cannot store (a document over 16 MiB) counts the same in a dry run as in the
real run, which the server refuses."""

from __future__ import annotations

import json

import pytest

from bulkadmin.jobs.imports import import_file
from project.collections import User

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed")


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


@pytest.mark.parametrize("mode", ["insert", "merge"])
def test_a_row_over_16_mib_counts_alike_in_a_dry_run_and_the_real_run(db, tmp_path, mode):
    rows = [
        {"name": "A", "email": "a@example.com"},
        {"name": "B", "email": "b@example.com", "tags": ["x" * 1_000_000] * 17},
        {"name": "C", "email": "c@example.com"},
    ]
    path = tmp_path / "rows.ndjson"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    dry = import_file(model=User, source=path, dry_run=True, mode=mode)
    real = import_file(model=User, source=path, mode=mode)
    assert {name: dry.counts[name] for name in COUNTED} == {name: real.counts[name] for name in COUNTED}
    assert sorted(doc["name"] for doc in db.users.find()) == ["A", "C"]
