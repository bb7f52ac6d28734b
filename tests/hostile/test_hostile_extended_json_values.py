"""Extended JSON rows whose value would be changed silently on the way in: each must be stored
exactly or rejected alone, naming its field."""

from __future__ import annotations

import pytest

from bulkadmin.jobs.imports import import_file
from project.collections import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


def _import(tmp_path, line: str):
    path = tmp_path / "rows.ndjson"
    path.write_text(line + '\n{"name": "Z", "email": "z@example.com"}\n', encoding="utf-8")
    return import_file(model=User, source=path, format="ndjson", extended_json=True)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"name": "A", "name": "B", "email": "a@example.com"}', "name"),
        (
            '{"name": "A", "email": "a@example.com", "external_id": {"$binary": {"base64": "AAAA", "subType": "80"}}}',
            "external_id",
        ),
        ('{"name": {"$code": "function () {}"}, "email": "a@example.com"}', "name"),
    ],
    ids=["duplicate key", "binary into int | str", "code into str"],
)
def test_a_value_that_would_change_rejects_its_row_naming_the_field(db, tmp_path, line, field):
    result = _import(tmp_path, line)
    assert [(error.row, error.field) for error in result.errors] == [(1, field)]
    assert db.users.count_documents({"email": "a@example.com"}) == 0
    assert db.users.count_documents({"email": "z@example.com"}) == 1
