"""A `BulkWriter` session does its per-operation work once, whatever the number of batches: the
indexes are created once, the update translated once; each batch is one write. Observed on the
wire with pymongo's command monitoring against the real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient, monitoring
from pymongo.database import Database

from bulkadmin.bulk import BulkWriter, bulk_insert, bulk_upsert
from bulkadmin.core import safety
from bulkadmin.operations import updates
from bulkadmin.operations.imports import check_import_options, run_import
from project.collections import User
from tests.factories import users
from tests.imports.conftest import user_rows, write_csv


class Commands(monitoring.CommandListener):
    """The commands a client sent, by name."""

    def __init__(self) -> None:
        self.sent: list[monitoring.CommandStartedEvent] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append(event)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def named(self, name: str) -> list[dict]:
        return [event.command for event in self.sent if event.command_name == name]


@pytest.fixture
def watched(db: Database, mongo_uri: str) -> Iterator[tuple[Database, Commands]]:
    """The test's database through a client whose commands are recorded."""
    commands = Commands()
    client: MongoClient = MongoClient(mongo_uri, event_listeners=[commands])
    try:
        yield client[db.name], commands
    finally:
        client.close()


def test_an_upsert_of_five_batches_creates_its_indexes_once(watched):
    database, commands = watched
    result = bulk_upsert(User, users(50), batch_size=10, db=database)
    assert (result.created, len(result.batches)) == (50, 5)
    assert len(commands.named("createIndexes")) == 1
    assert len(commands.named("insert")) == 5


def test_a_session_writes_each_batch_as_its_own_result_and_creates_indexes_once(watched):
    database, commands = watched
    with BulkWriter(User, "upsert", db=database) as writer:
        results = [writer.write(batch) for batch in (users(3), users(3, start=3), users(2))]
    assert [(r.created, r.updated, r.unchanged) for r in results] == [(3, 0, 0), (3, 0, 0), (0, 0, 2)]
    assert len(commands.named("createIndexes")) == 1
    with pytest.raises(RuntimeError, match="closed"):
        writer.write(users(1))


def test_an_upsert_import_of_five_batches_creates_its_indexes_once(watched, tmp_path):
    database, commands = watched
    path = write_csv(tmp_path / "users.csv", "name,email,age", user_rows(50))
    options = check_import_options(User, source=path, mode="merge", batch_size=10)
    result = run_import(model=User, options=options, db=database)
    assert (result.rows, database.users.count_documents({})) == (50, 50)
    assert len(commands.named("createIndexes")) == 1
    assert len(commands.named("insert")) == 5


def test_a_composed_update_translates_its_update_once_and_writes_each_batch_by_id(watched, monkeypatch):
    database, commands = watched
    bulk_insert(User, users(50), db=database)
    translated = []

    def counted(*args, **kwargs):
        translated.append(args[1])
        return safety.translate_update(*args, **kwargs)

    monkeypatch.setattr(updates, "translate_update", counted)
    result = updates.run_update(
        model=User, filter={}, update={"$set": {"tier": "gold"}}, batch_size=10, validate_results=False, db=database
    )
    assert (result.rows, database.users.count_documents({"tier": "gold"})) == (50, 50)
    assert len(translated) == 1  # by the run, not once per batch
    written = commands.named("update")
    assert len(written) == 5
    for command in written:
        (statement,) = command["updates"]
        assert statement["u"] == {"$set": {"tier": "gold"}}
        assert len(statement["q"]["_id"]["$in"]) == 10
