"""Fixtures: a real MongoDB server over TCP (a private embedded one, or MONGODB_URI) and a fresh
database per test."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from pymongo.database import Database
from pytest_django.live_server_helper import LiveServer

from bulkadmin import devserver
from bulkadmin.bulk import bulk_insert
from bulkadmin.core import mongo
from bulkadmin.core.registry import ensure_indexes, site
from project.collections import User
from tests.factories import user
from tests.processes import process_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests (by folder) and the Hypothesis tests (`fuzz`), so `-m` selects them."""
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.fuzz)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server under test: MONGODB_URI when set, else a private embedded server."""
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    var_dir = tmp_path_factory.mktemp("embedded")
    yield devserver.ensure_running(var_dir).uri
    devserver.stop(var_dir)


@pytest.fixture
def db(mongo_uri: str, settings) -> Iterator[Database]:
    """A database of its own for this test, with every registered collection's indexes, dropped
    afterwards. Settings point at it, so code that calls `get_db()` uses it too."""
    settings.MONGODB_URI = mongo_uri
    settings.MONGODB_DB = f"test_{uuid.uuid4().hex[:12]}"
    database = mongo.get_db()
    for model in site:
        ensure_indexes(model, database)
    yield database
    database.client.drop_database(database.name)


@pytest.fixture
def process_database_url(tmp_path) -> Iterator[str]:
    """Django's database for the `manage.py` processes this test starts (empty; they migrate it):
    a new database on the tests' PostgreSQL server, dropped afterwards, or an SQLite file."""
    with process_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest, django_db_setup: None) -> Iterator[LiveServer]:
    """pytest-django's live server, started once the tests' database exists: on SQLite that is a
    file, so each request thread opens its own connection (as in production) instead of sharing
    the test thread's, and concurrent requests can be tested."""
    address = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(address)
    yield server
    server.stop()


@pytest.fixture
def ada(db: Database) -> dict:
    """One stored user with a sub-document, a list and a date, as stored (the single-edit tests')."""
    row = user(1, name="Ada", profile={"bio": "maths", "avatar_url": None}, tags=["a", "b"])
    row["last_login"] = dt.datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=dt.UTC)
    bulk_insert(User, [row], db=db)
    return db.users.find_one({"name": "Ada"})
