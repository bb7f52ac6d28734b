"""Benchmark: a batch validated by `validate_documents` against `validate_document` row by row.

    .venv/bin/python benchmarks/validation.py [--rows 1000] [--rounds 5]

Validates the rows `benchmarks/import_csv.py` imports (as its CSV reader shapes them: text
cells, a fixed `_id`) with its model, alternating the two ways in each round; checks they give
the same documents; prints the CPU time per row of each (best of the rounds) and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def bench_rows(count: int) -> list[dict[str, Any]]:
    from bson import ObjectId

    start, placeholder = dt.datetime(2020, 1, 1), ObjectId(b"dry-run-row!")
    return [
        {
            "name": f"User {number}",
            "email": f"user{number}@example.com",
            "age": str(18 + number % 70),
            "score": str(number % 1000 / 10),
            "active": str(number % 2),
            "joined": (start + dt.timedelta(minutes=number)).isoformat(),
            "_id": placeholder,
        }
        for number in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000, help="Rows per batch (default 1000).")
    parser.add_argument("--rounds", type=int, default=5, help="Rounds of both ways (default 5).")
    options = parser.parse_args()
    import import_csv

    import_csv.setup_django(Path(tempfile.mkdtemp(prefix="bench-validation-")) / "django.sqlite3")
    from bulkadmin.bulk.validation import RowInvalid, validate_document, validate_documents

    model, rows = import_csv.register_bench_model(), bench_rows(options.rows)

    def row_by_row() -> list[Any]:
        found: list[Any] = []
        for row in rows:
            try:
                found.append(validate_document(model, row))
            except RowInvalid as error:
                found.append(error)
        return found

    def batch() -> list[Any]:
        return validate_documents(model, rows)

    if row_by_row() != batch():
        raise SystemExit("the two ways gave different documents")
    times: dict[str, list[float]] = {"row by row": [], "batch": []}
    for _ in range(options.rounds):
        for name, run in (("row by row", row_by_row), ("batch", batch)):
            started = time.process_time()
            run()
            times[name].append((time.process_time() - started) / options.rows * 1e6)
    for name, per_row in times.items():
        print(f"{name:10}: {min(per_row):.2f} µs CPU per row (best of {options.rounds})")
    print(f"batch / row by row: {min(times['batch']) / min(times['row by row']):.2f} of the time")


if __name__ == "__main__":
    main()
