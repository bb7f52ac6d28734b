"""XLSX imports: typed cells, blank rows, sheets, row numbers as the sheet shows them, the header
checks, and a 200k-row workbook streamed in flat memory."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc

import pytest

from bulkadmin.jobs import import_file, resume_import
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportFileError
from bulkadmin.operations.imports.formats import formats, open_reader
from bulkadmin.operations.imports.readers import ReadOptions
from bulkadmin.operations.imports.sources import open_source
from project.collections import User
from tests.imports.conftest import counts, write_csv, write_xlsx, write_xlsx_shared

pytestmark = pytest.mark.django_db

HEADER = ["name", "email", "age", "discount", "is_active", "created_at", "tags"]
WHEN = dt.datetime(2024, 5, 6, 7, 8, 9)


def read(path, sheet: str = ""):
    source = open_source(path)
    try:
        reader = open_reader(formats.get("xlsx"), source, ReadOptions(sheet=sheet))
        return reader, list(reader)
    finally:
        source.close()


def test_cells_keep_their_types_from_the_reader_to_mongodb(db, tmp_path):
    path = write_xlsx(
        tmp_path / "people.xlsx",
        [
            HEADER,
            ["Ann", "ann@example.com", 31, 0.25, False, WHEN, "a, b"],
            ["Bob", "bob@example.com", 40, 1, True, dt.datetime(2023, 1, 2), "solo"],
        ],
    )
    reader, records = read(path)
    assert (reader.header, reader.header_line, reader.sheets) == (HEADER, 1, ("people",))
    assert records[0].raw == ["Ann", "ann@example.com", 31, 0.25, False, WHEN, "a, b"]
    assert [type(cell) for cell in records[0].raw[2:6]] == [int, float, bool, dt.datetime]
    assert [type(cell) for cell in records[1].raw[2:6]] == [int, int, bool, dt.datetime]

    result = import_file(model=User, source=path)
    assert counts(result) == (2, 2, 0, 0, 0, 0, 0)
    assert (result.details["format"], result.details["encoding"], result.details["delimiter"]) == ("xlsx", "", None)
    ann = db.users.find_one({"email": "ann@example.com"})
    assert (ann["age"], ann["discount"], ann["is_active"], ann["tags"]) == (31, 0.25, False, ["a", "b"])
    assert ann["created_at"] == WHEN.replace(tzinfo=dt.UTC)
    bob = db.users.find_one({"email": "bob@example.com"})
    assert (bob["age"], type(bob["age"]), bob["discount"], bob["is_active"]) == (40, int, 1.0, True)
    assert bob["created_at"] == dt.datetime(2023, 1, 2, tzinfo=dt.UTC)


def test_blank_rows_are_skipped_and_bad_cells_are_named_by_their_sheet_row(db, tmp_path):
    path = write_xlsx(
        tmp_path / "people.xlsx",
        [
            [],
            ["name", "email", "age"],
            ["Ann", "ann@example.com", 31],
            [],
            [None, "   ", None],
            ["Bob", "bob@example.com", "old"],
            ["Cid", "cid@example.com", 45.5],
            ["Dee", "dee@example.com", 22, None, "extra"],
            ["Eve", "eve@example.com"],
        ],
    )
    errors = tmp_path / "errors.csv"
    result = import_file(model=User, source=path, errors_path=errors)
    assert counts(result) == (5, 2, 0, 0, 0, 3, 0)
    assert [(e.row, e.line, e.field) for e in result.errors] == [(2, 6, "age"), (3, 7, "age"), (4, 8, None)]
    assert str(result.errors[0]).startswith("line 6: age: Input should be a valid integer")
    assert str(result.errors[2]) == "line 8: cell E8 is outside the header's 3 columns"
    assert sorted(doc["name"] for doc in db.users.find()) == ["Ann", "Eve"]
    assert db.users.find_one({"name": "Eve"}).get("age") is None
    lines = errors.read_text().splitlines()
    assert lines[0] == "error,name,email,age"
    assert lines[1].endswith(",Bob,bob@example.com,old") and lines[2].endswith(",Cid,cid@example.com,45.5")


def test_a_sheet_is_chosen_by_name_and_kept_on_the_job(db, tmp_path):
    path = write_xlsx(
        tmp_path / "people.xlsx",
        [["name", "email"], ["Ann", "ann@example.com"]],
        staff=[["name", "email", "age"], ["Sam", "sam@example.com", 50], ["Tia", "tia@example.com", 51]],
    )
    result = import_file(model=User, source=path, sheet="staff")
    assert counts(result) == (2, 2, 0, 0, 0, 0, 0)
    assert sorted(doc["name"] for doc in db.users.find()) == ["Sam", "Tia"]
    job = Job.objects.get()
    assert (job.parameters["sheet"], job.details["sheet"], job.details["format"]) == ("staff", "staff", "xlsx")
    assert counts(import_file(model=User, source=path, mode="upsert")) == (1, 1, 0, 0, 0, 0, 0)
    assert db.users.count_documents({}) == 3


def test_an_unknown_sheet_names_the_sheets_there_are(db, tmp_path):
    path = write_xlsx(tmp_path / "people.xlsx", [["name", "email"]], staff=[["name"]])
    with pytest.raises(ImportFileError, match=r"has no sheet 'Nope'; its sheets are 'people', 'staff'\."):
        import_file(model=User, source=path, sheet="Nope")
    assert Job.objects.get().status == Job.Status.FAILED
    assert db.users.count_documents({}) == 0


def test_the_header_is_checked_like_a_csv_header(db, tmp_path):
    path = write_xlsx(tmp_path / "bad.xlsx", [["name", None, "email", "email"], ["Ann", 1, "a@x.io", "a@x.io"]])
    with pytest.raises(ImportFileError, match=r"line 1: bad header: column 2 has no name; columns 3 and 4 are both"):
        import_file(model=User, source=path)
    unknown = write_xlsx(tmp_path / "unknown.xlsx", [["name", "email", "shoe_size"], ["Ann", "a@x.io", 38]])
    with pytest.raises(ImportFileError, match=r"line 1: column 'shoe_size' is not a field of User"):
        import_file(model=User, source=unknown)
    result = import_file(model=User, source=unknown, mapping=["shoe_size="])
    assert counts(result) == (1, 1, 0, 0, 0, 0, 0)
    assert db.users.count_documents({}) == 1


def test_an_empty_or_header_only_sheet_imports_nothing(db, tmp_path):
    assert counts(import_file(model=User, source=write_xlsx(tmp_path / "e.xlsx", []))) == (0, 0, 0, 0, 0, 0, 0)
    header_only = write_xlsx(tmp_path / "h.xlsx", [["name", "email"], [], [None]])
    assert counts(import_file(model=User, source=header_only)) == (0, 0, 0, 0, 0, 0, 0)


def test_options_that_do_not_apply_to_the_format_are_refused(db, tmp_path):
    path = write_xlsx(tmp_path / "people.xlsx", [["name", "email"], ["Ann", "ann@example.com"]])
    with pytest.raises(ImportFileError, match=r"The delimiter option does not apply to XLSX files\."):
        import_file(model=User, source=path, delimiter=";")
    csv_path = write_csv(tmp_path / "people.csv", "name,email", ["Ann,ann@example.com"])
    with pytest.raises(ImportFileError, match=r"The sheet option does not apply to CSV files\."):
        import_file(model=User, source=csv_path, sheet="people")
    assert db.users.count_documents({}) == 0


def test_texts_of_the_shared_strings_table_are_read(db, tmp_path):
    rows = [
        ["name", "email", "age", "tags"],
        ["Ann & Co", "ann@example.com", 31, "a, b"],
        ["Bob", "bob@example.com", 7],
    ]
    reader, records = read(write_xlsx_shared(tmp_path / "excel.xlsx", rows))
    assert reader.header == ["name", "email", "age", "tags"]
    assert [record.raw for record in records] == [rows[1], [*rows[2], ""]]
    result = import_file(model=User, source=tmp_path / "excel.xlsx")
    assert counts(result) == (2, 2, 0, 0, 0, 0, 0)
    assert db.users.find_one({"age": 31})["name"] == "Ann & Co"


def test_a_workbook_from_a_stream_is_recognised_by_its_content(db, tmp_path):
    path = write_xlsx(tmp_path / "people.xlsx", [["name", "email"], ["Ann", "ann@example.com"]])
    stream = io.BytesIO(path.read_bytes())
    assert counts(import_file(model=User, source=stream)) == (1, 1, 0, 0, 0, 0, 0)
    assert db.users.find_one()["name"] == "Ann"


def test_a_file_that_is_not_a_workbook_fails_the_job_clearly(db, tmp_path):
    path = tmp_path / "people.xlsx"
    path.write_text("name,email\nAnn,ann@example.com\n")
    with pytest.raises(ImportFileError, match=r"people.xlsx is not an XLSX workbook that can be read"):
        import_file(model=User, source=path)
    assert Job.objects.get().status == Job.Status.FAILED


@pytest.mark.slow
@pytest.mark.parametrize("write", [write_xlsx, write_xlsx_shared], ids=["inline-texts", "shared-strings"])
def test_a_200k_row_workbook_streams_in_flat_memory(db, tmp_path, write):
    path = tmp_path / "big.xlsx"
    write(path, [["name", "email", "age"], *([f"User {n}", f"user{n}@example.com", n % 90] for n in range(200_000))])
    tracemalloc.start()
    try:
        result = import_file(model=User, source=path, dry_run=True, batch_size=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts(result) == (200_000, 200_000, 0, 0, 0, 0, 0)
    assert peak < 15 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB: rows are being kept"
    assert Job.objects.get().details["bytes_read"] == path.stat().st_size


def test_an_interrupted_workbook_import_resumes_on_its_sheet_without_duplicates(db, tmp_path):
    rows = [[f"User {n}", f"user{n}@example.com", n] for n in range(50)]
    rows.insert(25, [])  # a blank row: row numbers and sheet rows part ways
    path = write_xlsx(tmp_path / "p.xlsx", [["x"]], sheet="first", people=[["name", "email", "age"], *rows])

    def interrupt(state):
        if state.rows_this_run >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(model=User, source=path, sheet="people", batch_size=10, progress=interrupt)
    job = Job.objects.get()
    assert (job.status, job.last_committed_row, db.users.count_documents({})) == (Job.Status.INTERRUPTED, 20, 20)
    result = resume_import(job.pk)
    assert counts(result) == (50, 50, 0, 0, 0, 0, 0)
    assert (result.rows_this_run, result.details["resumed_after"]) == (30, 20)
    assert sorted(doc["age"] for doc in db.users.find()) == list(range(50))
