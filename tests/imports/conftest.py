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
