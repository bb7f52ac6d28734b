"""A long read stops at its `maxTimeMS` and does not hold other clients' reads."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from pymongo import MongoClient
from pymongo.errors import ExecutionTimeout, PyMongoError

NO_MATCH = {"name": {"$regex": "no such name", "$options": "i"}}


@pytest.fixture
def many(coll):
    """30,000 documents: scanning them with a regex takes far longer than a millisecond."""
    for start in range(0, 30_000, 5_000):
        coll.insert_many([{"name": f"User {i}", "n": i} for i in range(start, start + 5_000)])
    return coll


def test_a_read_stops_at_its_max_time_ms(many):
    with pytest.raises(ExecutionTimeout):
        list(many.find(NO_MATCH).max_time_ms(1))
    assert many.count_documents({}) == 30_000  # the server still answers


def test_a_count_stops_at_its_max_time_ms(many):
    with pytest.raises(ExecutionTimeout):
        many.count_documents(NO_MATCH, maxTimeMS=1)
    assert many.count_documents(NO_MATCH) == 0


def test_small_reads_answer_while_another_client_scans(many, mongo_uri):
    scanning = threading.Event()
    answered_during_scan: list[int] = []

    def scan() -> None:
        scanning.set()
        list(many.find(NO_MATCH))

    scanner = threading.Thread(target=scan)
    with MongoClient(mongo_uri) as other:
        small = other[many.database.name][many.name]
        scanner.start()
        scanning.wait()
        while scanner.is_alive():
            found = len(list(small.find({}).limit(16)))
            if scanner.is_alive():
                answered_during_scan.append(found)
        scanner.join()
    # Behind a lock at most one small read could end before the scan did.
    assert len(answered_during_scan) >= 3 and set(answered_during_scan) == {16}


@pytest.mark.slow
def test_dropping_a_database_while_another_client_reads_it_keeps_the_server_up(many, mongo_uri):
    stop = threading.Event()

    def read() -> None:
        with MongoClient(mongo_uri) as other:
            while not stop.is_set():
                with contextlib.suppress(PyMongoError):  # the database went away under the read
                    list(other[many.database.name][many.name].find(NO_MATCH))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(15):  # each drop lands in the middle of a read
            time.sleep(0.3)
            many.database.client.drop_database(many.database.name)
            many.insert_many([{"name": f"User {i}"} for i in range(20_000)])
    finally:
        stop.set()
        reader.join()
    assert many.database.client.admin.command("ping")["ok"] == 1
    assert many.count_documents({}) == 20_000
