"""The embedded server's unique indexes in its data files: finds by the key still read neosqlite's
index, and a file whose unique indexes were written before keys compared by BSON type and value
(`json_extract` held unique, a `nulls_` companion) is upgraded when the server opens it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from bson import Decimal128
from neosqlite._sqlite import sqlite3
from pymongo import ASCENDING, MongoClient
from pymongo.errors import DuplicateKeyError

from bulkadmin import devserver
from bulkadmin.devserver import index_keys
from tests.conformance.conftest import EMBEDDED

pytestmark = [pytest.mark.subprocess, pytest.mark.skipif(not EMBEDDED, reason="the embedded server's files")]

OLD_INDEXES = [
    'DROP INDEX "keys_idx_people_email"',
    'DROP INDEX "idx_people_email"',
    'CREATE UNIQUE INDEX "idx_people_email" ON "people"(json_extract(data, \'$.email\'))',
    "CREATE UNIQUE INDEX \"nulls_idx_people_email\" ON \"people\"(ifnull(json_extract(data, '$.email'), x'00'))",
]


@pytest.fixture
def var_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    devserver.stop(tmp_path)


def _people(var_dir: Path) -> tuple[MongoClient, object]:
    client: MongoClient = MongoClient(devserver.ensure_running(var_dir).uri)
    return client, client["files"]["people"]


def _sqlite(var_dir: Path) -> closing[Any]:
    """The data file of database `files` (the server stores each database as `<name>.db`)."""
    connection = sqlite3.connect(var_dir / "mongo" / "files.db", isolation_level=None)
    index_keys.prepare(connection)
    return closing(connection)


def _index_sql(var_dir: Path) -> dict[str, str]:
    with _sqlite(var_dir) as connection:
        rows = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'people'")
        return {name: sql for name, sql in rows if sql}


def test_a_find_by_a_unique_key_reads_the_index(var_dir):
    client, people = _people(var_dir)
    people.create_index([("email", ASCENDING)], unique=True)
    people.insert_many([{"email": f"{n}@example.com"} for n in range(50)])
    assert people.find_one({"email": "7@example.com"})["email"] == "7@example.com"
    with _sqlite(var_dir) as connection:
        statement = "EXPLAIN QUERY PLAN SELECT id, data FROM people WHERE json_extract(data, '$.email') = ?"
        plan = " ".join(row[-1] for row in connection.execute(statement, ("7@example.com",)))
    assert "USING INDEX idx_people_email" in plan
    client.close()


def test_unique_indexes_of_an_older_file_are_upgraded_when_the_server_opens_it(var_dir):
    client, people = _people(var_dir)
    people.create_index([("email", ASCENDING)], unique=True)
    people.insert_one({"email": 1})
    client.close()
    devserver.stop(var_dir)
    with _sqlite(var_dir) as connection:
        for statement in OLD_INDEXES:
            connection.execute(statement)
    client, people = _people(var_dir)
    people.insert_one({"email": True})
    with pytest.raises(DuplicateKeyError):
        people.insert_one({"email": Decimal128("1")})
    assert people.index_information()["email_1"]["unique"] is True
    assert sorted(_index_sql(var_dir)) == ["idx_people_email", "idx_people_id", "keys_idx_people_email"]
    client.close()


def test_an_older_file_whose_documents_break_the_new_rule_keeps_its_indexes(var_dir):
    client, people = _people(var_dir)
    people.create_index([("email", ASCENDING)], unique=True)
    people.insert_many([{"email": 1}, {"email": Decimal128("2")}])
    client.close()
    devserver.stop(var_dir)
    with _sqlite(var_dir) as connection:
        for statement in OLD_INDEXES:
            connection.execute(statement)
        connection.execute("""UPDATE people SET data = json_set(data, '$.email', json('{"$numberDecimal": "1"}'))
                              WHERE json_extract(data, '$.email.$numberDecimal') = '2'""")
    client, people = _people(var_dir)
    with pytest.raises(DuplicateKeyError):
        people.insert_one({"email": True})  # the old rule: `json_extract` reads true as 1
    assert sorted(_index_sql(var_dir)) == ["idx_people_email", "idx_people_id", "nulls_idx_people_email"]
    assert people.count_documents({}) == 2
    client.close()
