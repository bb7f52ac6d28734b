"""One MongoDB client per process, built from settings; the only place clients are created.

`MONGODB_URI` names the server; when it is empty the embedded development server is used.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from pymongo import AsyncMongoClient, MongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.database import Database

from bulkadmin import devserver
from bulkadmin.core import conf
from bulkadmin.core.types import Document

CLIENT_OPTIONS: dict[str, Any] = {
    "tz_aware": True,
    "uuidRepresentation": "standard",
    "serverSelectionTimeoutMS": 10_000,
}

_clients: dict[tuple[int, str], MongoClient[Document]] = {}
_async_clients: dict[tuple[int, str, int], AsyncMongoClient[Document]] = {}
_embedded: dict[int, bool] = {}


def get_uri() -> str:
    """The server's URI: `MONGODB_URI`, or the embedded server's (started when needed)."""
    return conf.mongodb_uri() or devserver.ensure_running(conf.embedded_dir()).uri


def get_client() -> MongoClient[Document]:
    """The process's synchronous client for the configured server."""
    uri = get_uri()
    key = (os.getpid(), uri)
    if key not in _clients:
        _clients[key] = MongoClient(uri, **CLIENT_OPTIONS)
    return _clients[key]


def get_db(name: str | None = None) -> Database[Document]:
    """The configured database (`MONGODB_DB`), or `name`."""
    return get_client()[name or conf.mongodb_db()]


def is_embedded(client: MongoClient[Document]) -> bool:
    """Whether `client` talks to the embedded development server (nx-27017)."""
    if id(client) not in _embedded:
        _embedded[id(client)] = client.admin.command("buildInfo").get("process") == "nx_27017"
    return _embedded[id(client)]


def get_async_db(name: str | None = None) -> AsyncDatabase[Document]:
    """The configured database on the native async client bound to the running event loop."""
    uri = get_uri()
    key = (os.getpid(), uri, id(asyncio.get_running_loop()))
    if key not in _async_clients:
        _async_clients[key] = AsyncMongoClient(uri, **CLIENT_OPTIONS)
    return _async_clients[key][name or conf.mongodb_db()]
