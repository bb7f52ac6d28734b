"""Reading a page of a job's error file: the job page's reader (offsets cached every 1,000 rows)
against reading the file from the start up to the page, on the same file in one process.

    python benchmarks/job_error_pages.py [--errors 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

from bulkadmin.jobs.error_pages import ErrorFileRows  # noqa: E402
from bulkadmin.models import Job  # noqa: E402

PER_PAGE = 20


def write_errors(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["error", "name", "email", "age", "notes"])
        for n in range(1, count + 1):
            message = f"line {n + 1}: age: Input should be a valid integer"
            writer.writerow([message, f"Person {n}", f"p{n}@example.com", "old", "a note,\nover two lines"])


def from_start(path: Path, start: int) -> list[list[str]]:
    """The baseline: read every row up to the page."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = []
        for number, row in enumerate(reader):
            if number >= start + PER_PAGE:
                break
            if number >= start:
                rows.append(row)
        return rows


def median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=int, default=100_000, help="rows in the error file (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (default: %(default)s)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings.BULKADMIN_JOBS_DIR = Path(folder)
        path = Path(folder) / "errors.csv"
        write_errors(path, options.errors)
        job = Job(kind=Job.Kind.IMPORT, error_file=str(path), error_count=options.errors)  # not saved
        rows = ErrorFileRows(job)
        last = options.errors - PER_PAGE
        began = time.perf_counter()
        first_view = rows[last : last + PER_PAGE]
        print(f"{options.errors:,} errors, {path.stat().st_size / 1e6:.1f} MB")
        print(
            f"first view of the last page (scans once, caches offsets): {(time.perf_counter() - began) * 1000:.1f} ms"
        )
        assert first_view[-1].cells[0] == f"Person {options.errors}"
        for label, start in (("page 1", 0), ("middle page", options.errors // 2), ("last page", last)):
            cached = median_ms(lambda start=start: rows[start : start + PER_PAGE], options.repeat)
            baseline = median_ms(lambda start=start: from_start(path, start), options.repeat)
            print(
                f"{label:12} cached {cached:7.2f} ms, from the start {baseline:8.2f} ms, ratio {baseline / cached:.1f}x"
            )


if __name__ == "__main__":
    main()
