"""MongoDB behaviours bulkadmin relies on, written from MongoDB's documentation.

They run on the server under test: the embedded one by default, a real MongoDB when
`MONGODB_URI` is set. A deviation of the embedded server that bulkadmin cannot fix is marked
`on_embedded_server_xfail("nx-27017: ...")`: strict, so a fixed deviation is noticed, and
only on the embedded server, so a real MongoDB must pass it."""

from __future__ import annotations

import os

import pytest
from pymongo.collection import Collection

EMBEDDED = not os.environ.get("MONGODB_URI")


def on_embedded_server_xfail(reason: str) -> pytest.MarkDecorator:
    """Expected to fail on the embedded server only (`reason` names the deviation)."""
    return pytest.mark.xfail(EMBEDDED, strict=True, reason=reason)


@pytest.fixture
def coll(db) -> Collection:
    """An empty collection of the test's own database."""
    return db["conformance"]
