"""Bombs through the web admin: uploaded, then previewed on a page that names the limit and the
setting (never a 500), within 100 MB of memory growth; a wide file's preview page shows a
bounded number of columns; a scan's record of bad rows keeps bounded cells."""

from __future__ import annotations

import pytest

from bulkadmin.jobs import scans
from bulkadmin.jobs.scans import _plain
from bulkadmin.operations.imports.preview import CELL_CHARS, PREVIEW_COLUMNS
from bulkadmin.operations.imports.scan import scan_file
from project.collections import User
from tests.hostile.make_corpus import BOMBS
from tests.hostile.test_hostile_bombs import CELL, COLUMNS, bounded
from tests.web.import_helpers import upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return tmp_path / "jobs"


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        ("shared_string_400mb.xlsx", "holds a text longer than a cell may be: " + CELL),
        ("row_4m_cells.xlsx", "row 2 has more than 16,384 cells: " + COLUMNS),
        ("columns_40k.csv", "line 1 has more than 16,384 cells: " + COLUMNS),
        ("quoted_17mib.csv", "line 3 holds more text than a cell may: " + CELL),
    ],
)
def test_uploaded_bomb_is_previewed_as_a_problem_naming_the_setting(name, refusal, admin_client_, db, tmp_path):
    path = BOMBS[name](tmp_path / name)
    with bounded(f"web upload and preview of {name}"):
        uploaded = upload(admin_client_, path.read_bytes(), name=name)
        assert uploaded.status_code == 302, uploaded.content.decode()[:2000]
        shown = admin_client_.get(uploaded["Location"])
    assert shown.status_code == 200
    assert [error for error in shown.context["errors"] if refusal in error], shown.context["errors"]
    assert db.users.count_documents({}) == 0


def test_a_wide_file_is_previewed_with_a_bounded_number_of_columns(admin_client_, db, tmp_path):
    names = ["name", "email", *(f"extra{n}" for n in range(16_000))]
    content = ",".join(names) + "\n" + ",".join(["V0", "v0@wide.org", *["x" * 500] * 16_000]) + "\n"
    with bounded("web preview of 16,002 columns"):
        uploaded = upload(admin_client_, content, name="wide.csv")
        shown = admin_client_.get(uploaded["Location"])
    page = shown.content.decode()
    assert shown.status_code == 200
    assert page.count('name="map_') == PREVIEW_COLUMNS
    assert "15902 more columns are not shown" in page
    [row] = shown.context["preview"].rows
    assert len(row.cells) == PREVIEW_COLUMNS and {len(cell) for cell in row.cells[2:]} == {CELL_CHARS}
    assert len(page) < 1_000_000


def test_a_scan_record_keeps_bounded_cells(tmp_path):
    path = tmp_path / "wide_bad.csv"
    header = ["name", "email", "age", *(f"extra{n}" for n in range(5_000))]
    rows = [",".join([f"V{n}", "not-an-email", "x" * 100_000, *["y" * 300] * 5_000]) for n in range(30)]
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")
    result = scan_file(model=User, path=path)
    assert (result.rows, result.bad, len(result.first_bad)) == (30, 30, 20)
    record = _plain(result)
    assert all(len(row["cells"]) == PREVIEW_COLUMNS for row in record["first_bad"])
    assert max(len(cell) for row in record["first_bad"] for cell in row["cells"]) == CELL_CHARS
    assert len(str(record)) < 20 * (PREVIEW_COLUMNS * (CELL_CHARS + 10) + 2000)


@pytest.mark.parametrize("name", ["rows_sharing_100mb.xlsx", "row_3m_cells.csv"])
def test_the_whole_file_check_of_a_bomb_keeps_a_small_record(name, tmp_path):
    BOMBS[name](tmp_path / name)
    request = {"file": name, "collection": "users", "mode": "insert"}
    scans._write(tmp_path, "k", {"state": "queued", "request": request, "updated": 0})
    with bounded(f"whole-file check of {name}"):
        record = scans.run_scan(tmp_path, "k")
    assert "(BULKADMIN_" in (record.get("problem") or record["result"]["problem"])
    assert scans.record_path(tmp_path, "k").stat().st_size < 10_000
