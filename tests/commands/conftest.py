"""Fixtures of the command tests."""

from __future__ import annotations

import pytest

from tests.processes import manage_environment


@pytest.fixture
def manage_env(db, mongo_uri, tmp_path, process_database_url) -> dict[str, str]:
    """The environment of a `manage.py` process using this test's MongoDB database and a Django
    database of its own, with the project's settings (not the tests')."""
    return manage_environment(
        mongo_uri=mongo_uri, database=db.name, database_url=process_database_url, jobs_dir=tmp_path / "jobs"
    )
