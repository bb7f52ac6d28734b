"""Fixtures for the import tests: the corpus, job files in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    """Job files (error files) go to a temporary folder."""
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def user_rows(count: int, start: int = 0) -> list[str]:
    return [f"User {n},user{n}@example.com,{20 + n % 50}" for n in range(start, start + count)]


def write_xlsx(path: Path, rows: list[list], sheet: str = "people", **other_sheets: list[list]) -> Path:
    """A workbook written by openpyxl (write-only mode): `rows` on sheet `sheet` (the first),
    then each of `other_sheets`. A row `[]` is a blank row."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, content in {sheet: rows, **other_sheets}.items():
        worksheet = workbook.create_sheet(title)
        for row in content:
            worksheet.append(row)
    workbook.save(path)
    return path
