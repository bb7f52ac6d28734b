"""Fixtures of the bulk tests: the test server behind a relay that answers majority writes as a
replica set whose majority timed out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.uri_parser import parse_uri

from bulkadmin.core.mongo import CLIENT_OPTIONS
from tests.bulk.concern_proxy import MAJORITY, ConcernProxy


@pytest.fixture
def proxy(mongo_uri: str) -> Iterator[ConcernProxy]:
    parsed = parse_uri(mongo_uri)
    if len(parsed["nodelist"]) != 1 or parsed["options"].get("tls") or parsed["username"]:
        pytest.skip("the relay speaks plain TCP to one server without credentials")
    relay = ConcernProxy(mongo_uri)
    yield relay
    relay.close()


@pytest.fixture
def majority(db: Database, proxy: ConcernProxy) -> Iterator[Database]:
    """The test's database through the relay, written with `w: "majority", wtimeout: 100`."""
    client: MongoClient = MongoClient(proxy.uri(MAJORITY), **CLIENT_OPTIONS)
    yield client[db.name]
    client.close()
