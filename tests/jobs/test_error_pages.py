"""Paging a job's error file by cached offsets: records over several lines, chunk edges, a file
still being written, and a file that changed under the cached index."""

from __future__ import annotations

import csv

import pytest

from bulkadmin.jobs import error_pages
from bulkadmin.jobs.error_pages import ErrorFileRows
from bulkadmin.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def errors_csv(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path
    return tmp_path / "errors.csv"


def write(path, rows: range, mode: str = "w") -> None:
    with path.open(mode, newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if mode == "w":
            writer.writerow(["error", "name", "notes"])
        for n in rows:
            notes = f'say "hi"\nto {n}' if n % 3 == 0 else f"plain {n}"
            writer.writerow([f"line {n + 1}: bad row {n}", f"Person {n}", notes])


def job_for(path, count: int) -> Job:
    return Job.objects.create(kind="import", collection="users", error_file=str(path), error_count=count)


def test_every_row_reads_back_across_small_chunks(errors_csv, monkeypatch):
    monkeypatch.setattr(error_pages, "CHUNK", 64)
    monkeypatch.setattr(error_pages, "STEP", 7)
    write(errors_csv, range(1, 101))
    rows = ErrorFileRows(job_for(errors_csv, 100))
    read = rows[0:100]
    assert [line.cells for line in read] == [
        (f"Person {n}", f'say "hi"\nto {n}' if n % 3 == 0 else f"plain {n}") for n in range(1, 101)
    ]
    assert rows.header == ["name", "notes"] and read[41].where == "line 43" and read[41].message == "bad row 42"
    assert rows[93:96][0].cells[0] == "Person 94"
    assert len(rows.job.error_index["offsets"]) == 15


def test_a_record_still_being_written_is_left_until_it_is_complete(errors_csv):
    write(errors_csv, range(1, 11))
    with errors_csv.open("a", encoding="utf-8", newline="") as handle:
        handle.write('"line 12: bad row 11",Person 11,"half a\n')
    job = job_for(errors_csv, 11)
    assert [line.number for line in ErrorFileRows(job)[0:20]] == list(range(1, 11))
    with errors_csv.open("a", encoding="utf-8", newline="") as handle:
        handle.write('cell"\r\n')
    job.refresh_from_db()
    tail = ErrorFileRows(job)[10:20]
    assert [(line.cells[0], line.cells[1]) for line in tail] == [("Person 11", "half a\ncell")]


def test_a_file_rewritten_under_the_index_is_scanned_again(errors_csv):
    write(errors_csv, range(1, 2001))
    job = job_for(errors_csv, 2000)
    assert ErrorFileRows(job)[1990:2000][0].cells[0] == "Person 1991"
    write(errors_csv, range(5001, 7001))  # a resumed run truncated and wrote other rows
    job.refresh_from_db()
    assert ErrorFileRows(job)[1990:2000][0].cells[0] == "Person 6991"
