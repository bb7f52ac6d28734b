"""Fixtures of the command tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def manage_env(db, mongo_uri, tmp_path, process_database_url) -> dict[str, str]:
    """The environment of a `manage.py` process using this test's MongoDB database and a Django
    database of its own, with the project's settings (not the tests')."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": db.name,
        "DATABASE_URL": process_database_url,
        "BULKADMIN_JOBS_DIR": str(tmp_path / "jobs"),
    }
    environment.pop("DJANGO_COLORS", None)
    return environment
