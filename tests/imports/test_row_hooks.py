"""The import row hooks of a collection's admin: `before_import_row` changes or rejects each row
before validation, `clean_row` each validated whole document; a rejected row is counted and
reported by line with the hook's message, the dry run counting it the same way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bulkadmin.core.registry import site
from bulkadmin.jobs.imports import import_file
from project.collections import User, UserAdmin
from tests.imports.conftest import write_csv

pytestmark = pytest.mark.django_db


class HookedAdmin(UserAdmin):
    def before_import_row(self, row):
        if row.get("name", "").startswith("Spam"):
            raise ValueError("spam accounts are not imported")
        return {**row, "name": row["name"].title()}

    def clean_row(self, document):
        if document.age is not None and document.age < 18:
            raise ValueError("users must be adults")
        document.tags = [*document.tags, "imported"]
        return document


@pytest.fixture
def hooked() -> Iterator[None]:
    site.register(User, HookedAdmin)
    yield
    site.register(User, UserAdmin)


ROWS = [
    "ada lovelace,ada@example.com,36",
    "Spam Bot,spam@example.com,30",
    "young one,kid@example.com,12",
    "alan turing,alan@example.com,41",
]


@pytest.mark.parametrize("dry_run", [True, False])
def test_hooks_change_and_reject_rows_and_the_dry_run_counts_the_same(db, tmp_path, hooked, dry_run):
    path = write_csv(tmp_path / "people.csv", "name,email,age", ROWS)
    result = import_file(model=User, source=path, dry_run=dry_run)
    assert (result.rows, result.counts.inserted, result.counts.rejected) == (4, 2, 2)
    assert {(error.line, error.message) for error in result.errors} == {
        (3, "spam accounts are not imported"),
        (4, "users must be adults"),
    }
    stored = {doc["email"]: (doc["name"], doc["tags"]) for doc in db.users.find()}
    expected = {"ada@example.com": ("Ada Lovelace", ["imported"]), "alan@example.com": ("Alan Turing", ["imported"])}
    assert stored == ({} if dry_run else expected)


def test_a_merge_runs_before_import_row_but_not_clean_row(db, tmp_path, hooked):
    write = write_csv(tmp_path / "first.csv", "name,email,age", ["ada lovelace,ada@example.com,36"])
    assert import_file(model=User, source=write).counts.inserted == 1
    merge = write_csv(tmp_path / "merge.csv", "email,name", ["ada@example.com,countess ada"])
    result = import_file(model=User, source=merge, mode="merge", key_fields=["email"])
    assert (result.rows, result.counts.updated) == (1, 1)
    assert db.users.find_one({"email": "ada@example.com"}, {"_id": 0, "name": 1, "tags": 1}) == {
        "name": "Countess Ada",
        "tags": ["imported"],
    }


def test_without_hooks_rows_are_imported_as_they_are(db, tmp_path):
    path = write_csv(tmp_path / "people.csv", "name,email,age", ROWS)
    result = import_file(model=User, source=path)
    assert (result.counts.inserted, result.counts.rejected) == (4, 0)
    assert db.users.find_one({"email": "spam@example.com"})["name"] == "Spam Bot"
