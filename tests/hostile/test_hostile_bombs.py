"""Bombs (built by the test, never checked in): each file is refused, naming the limit and the
setting that changes it, or previewed, within a generous time and 100 MB of memory growth."""

from __future__ import annotations

import contextlib
import io
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bulkadmin.models import Job
from bulkadmin.operations.imports.limits import LimitExceeded
from bulkadmin.operations.imports.preview import preview_file
from bulkadmin.operations.imports.scan import scan_file
from bulkadmin.operations.imports.xlsx import Offsets
from project.collections import User
from tests.hostile.make_corpus import BOMBS, MB, SST, _sheet, _write_workbook, rows_sharing_a_string

TIMEOUT = 30  # seconds: a hang fails the test; speed itself is not asserted
MAX_GROWTH_KB = 100 * 1024
CELL = "the limit is 16,777,216 (BULKADMIN_IMPORT_MAX_CELL_BYTES)"
COLUMNS = "the limit is 16,384 (BULKADMIN_IMPORT_MAX_COLUMNS)"


def _status(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1))  # type: ignore[union-attr]


@contextlib.contextmanager
def bounded(name: str) -> Iterator[None]:
    """Fail past `TIMEOUT` seconds or when the process's peak memory grows by 100 MB."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"{name}: no answer after {TIMEOUT} s")

    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    before, started = _status("VmRSS"), time.perf_counter()
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    growth = _status("VmHWM") - before
    print(f"{name}: {time.perf_counter() - started:.2f} s, peak growth {growth / 1024:.1f} MB")
    assert growth < MAX_GROWTH_KB, f"{name}: memory grew by {growth / 1024:.0f} MB"


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {name: build(folder / name) for name, build in BOMBS.items()}


RATIO = "the limit is 100.0 (BULKADMIN_XLSX_MAX_RATIO)"
LONG_TEXT = "The workbook's part xl/sharedStrings.xml holds a text longer than a cell may be: " + CELL
REFUSED_AT_OPEN = {
    "shared_string_400mb.xlsx": LONG_TEXT,
    "rows_sharing_100mb.xlsx": "part xl/sharedStrings.xml grows more by decompression than a part may (a zip bomb?): "
    + RATIO,
    "entries_20k.xlsx": "holds 20,0",  # the test's files and the workbook's own
    "columns_40k.csv": "line 1 has more than 16,384 cells: " + COLUMNS,
    "columns_3m.csv": "line 1 has more than 16,384 cells: " + COLUMNS,
}
REFUSED_IN_ROWS = {
    "row_4m_cells.xlsx": "row 2 has more than 16,384 cells: " + COLUMNS,
    "far_cell.xlsx": "row 2 has a cell in column 18,278, so more than 16,384 cells: " + COLUMNS,
    "row_3m_cells.csv": "line 3 has more than 16,384 cells: " + COLUMNS,
    "quoted_17mib.csv": "line 3 holds more text than a cell may: " + CELL,
}


@pytest.mark.parametrize("name", sorted(REFUSED_AT_OPEN))
def test_bomb_is_refused_when_opened_naming_limit_and_setting(name, bombs):
    with bounded(name), pytest.raises(LimitExceeded) as refused:
        preview_file(model=User, path=bombs[name])
    assert REFUSED_AT_OPEN[name] in str(refused.value)
    assert refused.value.setting in str(refused.value)


@pytest.mark.parametrize("name", sorted(REFUSED_IN_ROWS))
def test_bomb_in_the_rows_is_a_preview_problem_naming_limit_and_setting(name, bombs):
    with bounded(name):
        preview = preview_file(model=User, path=bombs[name])
    assert [problem for problem in preview.problems if REFUSED_IN_ROWS[name] in problem], preview.problems
    assert all(row.number == 1 or not row.ok for row in preview.rows)


def test_a_shared_string_is_held_to_the_cell_limit_whatever_the_ratio(bombs, settings):
    settings.BULKADMIN_XLSX_MAX_RATIO = 1_000_000
    with bounded("100 MB shared string, any ratio"), pytest.raises(LimitExceeded) as refused:
        preview_file(model=User, path=bombs["rows_sharing_100mb.xlsx"])
    assert str(refused.value) == LONG_TEXT + "."


def test_a_shared_string_of_many_runs_is_held_to_the_cell_limit(tmp_path, settings):
    settings.BULKADMIN_XLSX_MAX_RATIO = 1_000_000
    settings.BULKADMIN_IMPORT_MAX_CELL_BYTES = 1000
    path = _write_workbook(
        tmp_path / "runs.xlsx", _sheet([]), iter([SST, b"<si>", b"<r><t>abc</t></r>" * 400, b"</si></sst>"])
    )
    with pytest.raises(LimitExceeded) as refused:
        preview_file(model=User, path=path)
    assert str(refused.value) == (
        "shared string 0 of the workbook holds more text than a cell may: "
        "the limit is 1,000 (BULKADMIN_IMPORT_MAX_CELL_BYTES)."
    )


def test_cells_of_a_row_sharing_one_long_string_are_refused_together(tmp_path, settings):
    settings.BULKADMIN_XLSX_MAX_RATIO = 1_000_000
    path = rows_sharing_a_string(tmp_path / "sharing.xlsx", rows=20, cells=20, size=MB)
    with bounded("20 rows of 20 cells sharing a 1 MB string"):
        preview = preview_file(model=User, path=path)
    assert preview.problems == (f"a row (its cells' shared strings together) holds more text than a cell may: {CELL}.",)
    assert preview.rows == ()


SCANNED = ["rows_sharing_100mb.xlsx", "row_4m_cells.xlsx", "row_3m_cells.csv", "quoted_17mib.csv"]


@pytest.mark.parametrize("name", SCANNED)
def test_whole_file_scan_of_a_bomb_stops_at_the_limit(name, bombs):
    with bounded(f"scan of {name}"):
        try:
            result = scan_file(model=User, path=bombs[name])
        except LimitExceeded as refused:
            problem = str(refused)
        else:
            problem = result.problem
    assert "(BULKADMIN_" in problem, problem


@pytest.mark.django_db
def test_an_import_stops_at_a_quoted_field_past_the_cell_limit_naming_it(bombs, db, settings, tmp_path):
    """The row before is imported; the import stops there, saying so: nothing after it is lost unseen."""
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    with bounded("import of a 17 MiB quoted field"), pytest.raises(CommandError) as stopped:
        call_command("import_csv", "users", str(bombs["quoted_17mib.csv"]), stdout=io.StringIO(), stderr=io.StringIO())
    job = Job.objects.get()
    refusal = "line 3 holds more text than a cell may: " + CELL
    assert str(stopped.value) == f"{refusal} (job {job.pk})."
    assert (job.status, job.message, job.rows_done, job.counts["inserted"]) == (Job.Status.FAILED, refusal + ".", 1, 1)
    assert [doc["name"] for doc in db.users.find()] == ["V0"]


def test_a_header_of_16000_columns_is_previewed(tmp_path):
    path = tmp_path / "wide.csv"
    names = ["name", "email", *(f"extra{n}" for n in range(16_000))]
    path.write_text(",".join(names) + "\n" + ",".join(["V0", "v0@wide.org", *["x"] * 16_000]) + "\n")
    with bounded("16,002 columns"):
        preview = preview_file(model=User, path=path)
    assert len(preview.columns) == 16_002 and preview.problems == ()
    assert [row.number for row in preview.rows] == [1]


def test_delimiters_inside_quotes_do_not_count_as_columns(tmp_path):
    path = tmp_path / "quoted.csv"
    tags = '"' + ",".join(["t"] * 10_000) + "\n" + ",".join(["u"] * 10_000) + '"'
    path.write_text(f"name,email,tags\nV0,v0@q.org,{tags}\nV1,v1@q.org,a\n")
    preview = preview_file(model=User, path=path)
    assert (preview.problems, [row.number for row in preview.rows if row.ok]) == ((), [1, 2])


def test_columns_after_a_quoted_field_of_several_lines_are_counted(tmp_path):
    path = tmp_path / "quoted_then_wide.csv"
    path.write_text('name,email,tags\nV0,v0@q.org,"a,\nb",' + "," * 20_000 + "\n")
    preview = preview_file(model=User, path=path)
    assert preview.problems == ("line 3 has more than 16,384 cells: " + COLUMNS + ".",)


def test_shared_strings_past_those_kept_in_memory_are_read_from_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(Offsets, "IN_MEMORY", 10)
    monkeypatch.setattr(Offsets, "BLOCK", 7)
    strings = iter([SST, *(f"<si><t>s{n}</t></si>".encode() for n in range(100)), b"</sst>"])

    def row(n: int) -> bytes:
        cells = f'<c t="s"><v>{(n * 37) % 100}</v></c><c t="s"><v>{99 - n}</v></c>'
        return f'<row r="{n + 2}">{cells}</row>'.encode()

    path = _write_workbook(tmp_path / "many_strings.xlsx", _sheet(row(n) for n in range(50)), strings)
    preview = preview_file(model=User, path=path)
    assert [row.cells for row in preview.rows] == [(f"s{(n * 37) % 100}", f"s{99 - n}") for n in range(50)]


@pytest.mark.slow
def test_millions_of_tiny_shared_strings_take_little_memory(tmp_path, settings):
    """3,000,000 offsets would take 24 MB in memory; past the first million they go to disk."""
    settings.BULKADMIN_XLSX_MAX_RATIO = 1_000_000
    strings = iter([SST, *([b"<si/>" * 100_000] * 30), b"</sst>"])
    path = _write_workbook(tmp_path / "tiny_strings.xlsx", _sheet([]), strings)
    before = _status("VmRSS")
    with bounded("3,000,000 tiny shared strings"):
        preview = preview_file(model=User, path=path)
    assert preview.rows == () and preview.problems == ()
    assert _status("VmHWM") - before < 16 * 1024


def test_elements_around_the_rows_do_not_take_memory(tmp_path, settings):
    settings.BULKADMIN_XLSX_MAX_RATIO = 1_000_000
    cols = [b"<cols>", *([b'<col min="1" max="1" width="9"/>' * 100_000] * 10), b"</cols>"]
    merged = [b"<mergeCells>", *([b'<mergeCell ref="A1:B2"/>' * 100_000] * 10), b"</mergeCells>"]
    sheet = list(_sheet([b'<row r="2"><c t="inlineStr"><is><t>V0</t></is></c></row>']))
    body = [sheet[0], *cols, *sheet[1:-1], b"</sheetData>", *merged, b"</worksheet>"]
    body[0] = body[0].removesuffix(b"<sheetData>")
    body.insert(len(cols) + 1, b"<sheetData>")
    path = _write_workbook(tmp_path / "around.xlsx", body, iter([SST, b"</sst>"]))
    with bounded("1,000,000 column widths and 1,000,000 merged cells"):
        preview = preview_file(model=User, path=path)
    assert [(row.number, row.cells) for row in preview.rows] == [(1, ("V0", ""))]


def test_a_line_longer_than_a_cell_may_be_is_refused_before_it_is_read_whole(tmp_path):
    path = tmp_path / "long_line.csv"
    with path.open("w") as out:
        out.write("name,email\nV0,v0@long.org\n")
        for _ in range(40):
            out.write("x" * MB)
        out.write(",x@long.org\n")
    with bounded("a line of 40 MB"):
        preview = preview_file(model=User, path=path)
    assert preview.problems == ("line 3 holds more text than a cell may: " + CELL + ".",)
    assert [row.number for row in preview.rows] == [1]


def test_a_quoted_cell_of_many_short_lines_is_read(tmp_path, settings):
    settings.BULKADMIN_IMPORT_MAX_CELL_BYTES = 1000
    path = tmp_path / "tall_cell.csv"
    path.write_text('name,email\n"' + "x\n" * 400 + 'V0",v0@tall.org\n')
    preview = preview_file(model=User, path=path)
    assert (preview.problems, [row.where for row in preview.rows]) == ((), ["line 2"])
