"""A keyed dry run (merge, upsert, replace, delete) counts a key repeated in the file as the real
run does: the first row creates (or deletes) it, the later rows see that write, in one batch or
across batches."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs.imports import import_file
from project.collections import PageStats, User

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed")
USERS = """name,email,age
A,a@example.com,1
B,A@example.com,2
C,a@example.com,3
D,,4
E,stored@example.com,5
F,b@example.com,x
G,b@example.com,6
H,caf\u00e9@example.com,7
I,cafe\u0301@example.com,8
J, a@example.com ,9
K,c@example.com,10
L,c@example.com,11
M,d@example.com,12
N,d@example.com,12
"""
PAGES = "page,view_count\nnew,1\nnew,1\nnew,2\nstored,3\nstored,3\n,4\nb,-1\nb,5\n"


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


def _counts(result) -> dict[str, int]:
    return {name: result.counts[name] for name in COUNTED}


def _dry_then_real(db, tmp_path, model, text: str, mode: str, batch_size: int):
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    before = list(db[model.collection].find())
    dry = import_file(model=model, source=path, dry_run=True, mode=mode, batch_size=batch_size)
    assert list(db[model.collection].find()) == before
    real = import_file(model=model, source=path, mode=mode, batch_size=batch_size)
    assert [(error.row, error.kind) for error in dry.errors] == [(error.row, error.kind) for error in real.errors]
    return _counts(dry), _counts(real)


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
@pytest.mark.parametrize("mode", ["merge", "upsert", "replace"])
def test_a_keyed_dry_run_counts_a_key_repeated_in_the_file_as_created_once(db, tmp_path, mode, batch_size):
    bulk_insert(User, [{"name": "S", "email": "stored@example.com"}, {"name": "T", "email": "c@example.com"}], db=db)
    dry, real = _dry_then_real(db, tmp_path, User, USERS, mode, batch_size)
    expected = {"rows": 14, "inserted": 5, "updated": 7, "unchanged": 0, "deleted": 0, "rejected": 2, "failed": 0}
    assert dry == real == expected


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_merge_dry_run_counts_a_row_repeating_the_file_s_earlier_row_as_unchanged(db, tmp_path, batch_size):
    text = "name,email,age\nA,a@example.com,1\nA,a@example.com,1\nB,a@example.com,1\nB,a@example.com,1\n"
    dry, real = _dry_then_real(db, tmp_path, User, text, "merge", batch_size)
    expected = {"rows": 4, "inserted": 1, "updated": 1, "unchanged": 2, "deleted": 0, "rejected": 0, "failed": 0}
    assert dry == real == expected


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_a_dry_run_delete_counts_a_key_repeated_in_the_file_as_deleted_once(db, tmp_path, batch_size):
    bulk_insert(PageStats, [{"page": "stored", "view_count": 1}, {"page": "b", "view_count": 1}], db=db)
    dry, real = _dry_then_real(db, tmp_path, PageStats, PAGES, "delete", batch_size)
    expected = {"rows": 8, "inserted": 0, "updated": 0, "unchanged": 5, "deleted": 2, "rejected": 1, "failed": 0}
    assert dry == real == expected
