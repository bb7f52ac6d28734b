"""One MongoDB client per process, built from settings; the only place clients are created.

`MONGODB_URI` names the server; when it is empty the embedded development server is used.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
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
_capabilities: dict[int, Capabilities] = {}


def get_uri() -> str:
    """The server's URI: `MONGODB_URI`, or the embedded server's (started when needed; with
    `DEBUG=false` only when `BULKADMIN_ALLOW_EMBEDDED=true`, so a production deployment that
    forgot `MONGODB_URI` fails loudly instead of keeping its data in a development server)."""
    uri = conf.mongodb_uri()
    if uri:
        return uri
    if not settings.DEBUG and not conf.allow_embedded():
        raise ImproperlyConfigured(
            "MONGODB_URI is not set and DEBUG is false: set MONGODB_URI to your MongoDB server "
            "(or BULKADMIN_ALLOW_EMBEDDED=true to run the embedded development server anyway)."
        )
    return devserver.ensure_running(conf.embedded_dir()).uri


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


@dataclass(frozen=True)
class Capabilities:
    """What the connected server answers fast, asked instead of which server it is."""

    id_ranges_for_any_id: bool  # an `_id` range is read from the index whatever the `_id`'s type
    multikey_indexes: bool  # an index on an array field finds a document by any element
    deep_skips_from_start: bool  # a skip counts from the collection's start, never from a mark


def capabilities(client: MongoClient[Document]) -> Capabilities:
    """The capabilities of `client`'s server (asked once per client)."""
    if id(client) not in _capabilities:
        embedded = client.admin.command("buildInfo").get("process") == "nx_27017"
        _capabilities[id(client)] = Capabilities(
            id_ranges_for_any_id=not embedded, multikey_indexes=not embedded, deep_skips_from_start=embedded
        )
    return _capabilities[id(client)]


def get_async_db(name: str | None = None) -> AsyncDatabase[Document]:
    """The configured database on the native async client bound to the running event loop."""
    uri = get_uri()
    key = (os.getpid(), uri, id(asyncio.get_running_loop()))
    if key not in _async_clients:
        _async_clients[key] = AsyncMongoClient(uri, **CLIENT_OPTIONS)
    return _async_clients[key][name or conf.mongodb_db()]
