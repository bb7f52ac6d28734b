"""Django databases for the `manage.py` and server processes that tests start: a database of
their own on the tests' PostgreSQL server when there is one (DATABASE_URL), else an SQLite file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")


def _server_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if urlsplit(url).scheme in POSTGRES_SCHEMES else None


@contextlib.contextmanager
def process_database(folder: Path) -> Iterator[str]:
    """The URL of an empty database, dropped afterwards (an SQLite file in `folder` without PostgreSQL)."""
    server = _server_url()
    if server is None:
        yield f"sqlite:///{folder / 'django.sqlite3'}"
        return
    import psycopg

    name = f"process_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fetch_one(url: str, sql: str) -> tuple[Any, ...] | None:
    """The first row of `sql` in the database at `url`; None while the database or table is missing."""
    if urlsplit(url).scheme == "sqlite":
        path = url.removeprefix("sqlite:///")
        if not Path(path).exists():
            return None
        with sqlite3.connect(path, timeout=5) as connection:
            try:
                return connection.execute(sql).fetchone()
            except sqlite3.OperationalError:
                return None
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        try:
            return connection.execute(sql).fetchone()
        except psycopg.errors.UndefinedTable:
            return None


def manage_environment(
    *, mongo_uri: str, database: str, database_url: str, jobs_dir: Path, **settings: str
) -> dict[str, str]:
    """The environment of a `manage.py` process with the project's settings (not the tests'):
    this test's MongoDB database, the Django database at `database_url`, job files in `jobs_dir`,
    plus `settings` (environment variables)."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": database,
        "DATABASE_URL": database_url,
        "BULKADMIN_JOBS_DIR": str(jobs_dir),
        **settings,
    }
    environment.pop("DJANGO_COLORS", None)
    return environment
