"""An Extended JSON date no Python datetime can hold rejects its row naming the field and the
reason, not the driver's advice on codec options."""

from __future__ import annotations

import pytest

from bulkadmin.jobs.imports import import_file
from project.collections import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


@pytest.mark.parametrize(
    "date", ['{"$numberLong": "999999999999999999"}', '{"$numberLong": "-62135596800001"}', "1e300"]
)
def test_a_date_outside_the_years_1_to_9999_rejects_its_row_naming_the_field(db, tmp_path, date):
    path = tmp_path / "rows.ndjson"
    row = '{"name": "A", "email": "a@example.com", "last_login": {"$date": ' + date + "}}"
    path.write_text(row + '\n{"name": "Z", "email": "z@example.com"}\n', encoding="utf-8")
    result = import_file(model=User, source=path, format="ndjson", extended_json=True)
    expected = "last_login: not valid Extended JSON (a date outside the years 1 to 9999)."
    assert [(error.row, error.field, error.message) for error in result.errors] == [(1, "last_login", expected)]
    assert sorted(doc["name"] for doc in db.users.find()) == ["Z"]
