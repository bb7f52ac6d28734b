"""Undo data of an import whose file holds hostile values: the bad rows are rejected, the undo
data of the good ones is kept, and undo restores the collection exactly."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs.imports import import_file
from bulkadmin.operations.undo import undo_job_writes, undo_record_count
from project.collections import User
from tests.hostile.make_corpus import LATE, deep

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


def stored(db) -> list[dict]:
    return sorted(db.users.find(), key=lambda doc: doc["email"])


@pytest.mark.parametrize("mode", ["merge", "upsert"])
def test_undo_of_a_hostile_merge_restores_exactly(db, tmp_path, mode):
    bulk_insert(User, [{"name": f"U{n}", "email": f"u{n}@x.org", "age": 20 + n} for n in range(4)], db=db)
    before = stored(db)
    lines = [
        '{"name": "U0", "email": "u0@x.org", "age": 40}',
        f'{{"name": "U1", "email": "u1@x.org", "last_login": "{LATE}"}}',
        f'{{"name": "U2", "email": "u2@x.org", "external_id": {2**64}}}',
        f'{{"name": "U3", "email": "u3@x.org", "profile": {deep(5_000)}}}',
        '{"name": "\\udc80", "email": "u1@x.org"}',
        '{"name": "New", "email": "new@x.org", "tags": ["a"]}',
    ]
    path = tmp_path / "hostile.ndjson"
    path.write_text("\n".join(lines) + "\n")
    result = import_file(model=User, source=path, mode=mode, key_fields=["email"], keep_undo=True, db=db)
    assert (result.counts.inserted, result.counts.updated, result.counts.rejected) == (1, 1, 4), result.errors
    assert [(error.line, error.field) for error in result.errors] == [
        (2, "last_login"),
        (3, "external_id"),
        (4, "profile" + ".a" * 99),  # the path down to MongoDB's 100 levels
        (5, "name"),
    ]
    assert undo_record_count(result.job_id, db=db) == 2
    undone = undo_job_writes(model=User, job=result.job_id, db=db)
    assert undone.status == "succeeded", undone.errors
    assert stored(db) == before
