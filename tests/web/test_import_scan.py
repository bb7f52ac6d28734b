"""The import preview checks the whole file in the background (bounded) and shows the first bad
rows of the whole file; the mapping table marks mapped columns; missing fields point at it."""

from __future__ import annotations

import re

import pytest

from bulkadmin.operations.imports.scan import scan_file
from project.collections import User
from tests.web.import_helpers import preview_data, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def people(rows: int, bad: tuple[int, ...] = ()) -> str:
    """`rows` valid people, but the rows numbered in `bad` have the age "old"."""
    lines = ["name,email,age"]
    lines += [f"Person {n},p{n}@example.com,{'old' if n in bad else 20 + n % 50}" for n in range(1, rows + 1)]
    return "\n".join(lines) + "\n"


def test_the_preview_finds_a_bad_row_at_line_5000_of_10000(admin_client_, db):
    uploaded = upload(admin_client_, people(10_000, bad=(4_999,)))
    response = admin_client_.get(uploaded["Location"])
    assert response.context["preview"].invalid_rows == 0  # the first 50 rows are fine
    scan = response.context["scan"]
    assert (scan["state"], scan["rows"], scan["bad"], scan["complete"]) == ("done", 10_000, 1, True)
    (row,) = scan["first_bad"]
    assert row["where"] == "line 5000" and "age" in row["messages"][0]
    assert row["cells"] == ["Person 4999", "p4999@example.com", "old"]
    page = response.content.decode()
    assert 'id="import-scan"' in page and "line 5000" in page
    polled = admin_client_.get(response.context["scan_url"]).json()
    assert polled["finished"] and polled["state"] == "done" and "line 5000" in polled["html"]
    assert db.users.count_documents({}) == 0


def test_a_new_mapping_is_checked_again_and_the_last_check_is_reused(admin_client_, db):
    uploaded = upload(admin_client_, people(30, bad=(12, 20)))
    first = admin_client_.get(uploaded["Location"])
    again = admin_client_.get(uploaded["Location"])
    assert first.context["scan_url"] == again.context["scan_url"] and again.context["scan"]["bad"] == 2
    left_out = admin_client_.post(uploaded["Location"], preview_data(first, map_2=""))  # age left out
    assert left_out.context["scan_url"] != first.context["scan_url"] and left_out.context["scan"]["bad"] == 0


def test_another_users_scan_is_not_found(admin_client_, login, db):
    uploaded = upload(admin_client_, people(5))
    url = admin_client_.get(uploaded["Location"]).context["scan_url"]
    other = login("import_users", "view_users", name="other")
    assert other.get(url).status_code == 404


def test_the_scan_stops_at_its_row_limit_keeping_the_first_bad_rows(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(people(500, bad=tuple(range(10, 500, 10))))
    result = scan_file(model=User, path=path, max_rows=200, keep=5)
    assert (result.rows, result.bad, result.stopped, result.complete) == (200, 20, "rows", False)
    assert [row.number for row in result.first_bad] == [10, 20, 30, 40, 50]


def test_a_column_mapped_by_hand_is_no_longer_an_unknown_column(admin_client_, db):
    uploaded = upload(admin_client_, "full_name,email,age\nAnn,ann@example.com,31\n")
    shown = admin_client_.get(uploaded["Location"])
    page = shown.content.decode()
    assert "unknown column: left out" in _row(page, "full_name")
    assert "no column for required field(s) name" in page and 'href="#column-mapping"' in page
    mapped = admin_client_.post(uploaded["Location"], preview_data(shown, map_0="name"))
    row = _row(mapped.content.decode(), "full_name")
    assert "unknown column" not in row and "mapped to name" in row
    assert "no column for required field" not in mapped.content.decode()
    assert mapped.context["scan"]["bad"] == 0 and mapped.context["scan"]["rows"] == 1


def test_the_dry_run_button_looks_like_the_admins_buttons(admin_client_, db):
    uploaded = upload(admin_client_, people(3))
    page = admin_client_.get(uploaded["Location"]).content.decode()
    assert re.search(r'class="button default" id="dry-run-button"', page)


def _row(page: str, column: str) -> str:
    match = re.search(rf'<tr data-column="{column}">.*?</tr>', page, re.DOTALL)
    assert match, f"no mapping row for {column}"
    return match[0]
