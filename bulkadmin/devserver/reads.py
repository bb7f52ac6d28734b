"""Reads that never wait for one another or for writes, and that stop at their `maxTimeMS`.

nx-27017 ran every command of a database under one lock on one SQLite connection, so a count or
a search that scanned 200k documents held every other user's small page for seconds, and it
ignored `maxTimeMS`. Here `find`, `aggregate` (without `$out` / `$merge`), `count` and `distinct`
run on a connection of their own thread, without that lock: SQLite's WAL mode lets any number of
readers work beside the one writer, each on the last committed data. A read's `maxTimeMS`
interrupts its SQLite statement (and so a scan in Python, which reads its rows through one) and
answers MongoDB's `MaxTimeMSExpired` (code 50). A count's parts (`counts`) run at once, each on a
connection of a thread of its own, within the same `maxTimeMS`.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from neosqlite import Connection
from neosqlite._sqlite import sqlite3  # the sqlite3 neosqlite uses (pysqlite3 when installed)
from nx_27017.handler import NeoSQLiteHandler, _msg_db_name

from bulkadmin.devserver import counts

MAX_TIME_EXPIRED = 50
READ_COMMANDS = frozenset({"find", "aggregate", "count", "distinct"})
READERS_PER_THREAD = 8
_reading: contextvars.ContextVar[Connection | None] = contextvars.ContextVar("reading", default=None)
_readers: dict[tuple[int, str], Connection] = {}
_readers_lock = threading.Lock()
_parts = concurrent.futures.ThreadPoolExecutor(max(1, counts.PARTS - 1), thread_name_prefix="count-part")


def is_plain_read(body: dict[str, Any]) -> bool:
    """Whether a command only reads, outside any client transaction."""
    name = next(iter(body), None)
    if name not in READ_COMMANDS or "txnNumber" in body or "startTransaction" in body:
        return False
    stages = body.get("pipeline") or []
    return not any(isinstance(stage, dict) and ("$out" in stage or "$merge" in stage) for stage in stages)


def _reader(handler: NeoSQLiteHandler, db_name: str) -> Connection:
    """This thread's connection to `db_name` (a few per thread; the least recent is closed)."""
    thread = threading.get_ident()
    with _readers_lock:
        connection = _readers.pop((thread, db_name), None)
        if connection is None:
            connection = handler._open_db_conn(db_name)
            mine = [key for key in _readers if key[0] == thread]
            for key in mine[: max(0, len(mine) - READERS_PER_THREAD + 1)]:
                _readers.pop(key).close()
        _readers[(thread, db_name)] = connection  # most recent last
        return connection


def _close_readers(db_name: str) -> None:
    """Close the readers of a database (none is in use: see `_in_use`)."""
    with _readers_lock:
        for key in [key for key in _readers if key[1] == db_name]:
            with contextlib.suppress(sqlite3.Error):
                _readers.pop(key).close()


_activity = threading.Condition()
_active: collections.Counter[str] = collections.Counter()
_dropping: set[str] = set()


@contextlib.contextmanager
def _in_use(db_name: str) -> Iterator[None]:
    """A read of `db_name`: it waits while the database is being dropped, and a drop waits for it.
    Dropping a database under a read (its files closed and deleted) crashed the server."""
    with _activity:
        while db_name in _dropping:
            _activity.wait()
        _active[db_name] += 1
    try:
        yield
    finally:
        with _activity:
            _active[db_name] -= 1
            _activity.notify_all()


@contextlib.contextmanager
def _dropped(db_name: str) -> Iterator[None]:
    """The drop of `db_name`, once no read is using it; new reads wait until it is done."""
    with _activity:
        _dropping.add(db_name)
        while _active[db_name]:
            _activity.wait()
    try:
        _close_readers(db_name)
        yield
    finally:
        with _activity:
            _dropping.discard(db_name)
            _activity.notify_all()


def _deadline(max_time_ms: Any) -> float | None:
    """When a read of `maxTimeMS` must stop (`time.monotonic`), or None without a limit."""
    if not isinstance(max_time_ms, int | float) or max_time_ms <= 0:
        return None
    return time.monotonic() + max_time_ms / 1000


@contextlib.contextmanager
def _time_limit(connection: Connection, deadline: float | None) -> Iterator[Callable[[], bool]]:
    """Interrupt `connection`'s statements past `deadline`; yields "has it expired?"."""
    if deadline is None:
        yield lambda: False
        return

    def expired() -> bool:
        return time.monotonic() > deadline

    connection.db.set_progress_handler(lambda: 1 if expired() else 0, 10_000)
    try:
        yield expired
    finally:
        connection.db.set_progress_handler(None, 0)


def _count_each(
    handler: NeoSQLiteHandler,
    db_name: str,
    connection: Connection,
    deadline: float | None,
    statements: list[counts.Statement],
) -> list[int]:
    """A count's statements at once: the first on this thread's `connection`, the others on
    connections of the pool's threads (SQLite runs them on as many cores)."""
    first, *others = statements
    futures = [_parts.submit(_count_apart, handler, db_name, deadline, statement) for statement in others]
    try:
        return [_count_on(connection, first), *(future.result() for future in futures)]
    finally:
        concurrent.futures.wait(futures)  # no part outlives the read (`_in_use`)


def _count_apart(handler: NeoSQLiteHandler, db_name: str, deadline: float | None, statement: counts.Statement) -> int:
    connection = _reader(handler, db_name)
    with _time_limit(connection, deadline):
        return _count_on(connection, statement)


def _count_on(connection: Connection, statement: counts.Statement) -> int:
    counts.prepare(connection.db)
    return int(connection.db.execute(*statement).fetchone()[0])


def _expired_reply(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": 0,
        "code": MAX_TIME_EXPIRED,
        "codeName": "MaxTimeMSExpired",
        "errmsg": f"operation exceeded time limit of {body.get('maxTimeMS')} ms",
    }


def _without_session(msg: dict[str, Any]) -> dict[str, Any]:
    sections = [
        (kind, {key: value for key, value in section.items() if key != "lsid"} if kind == "body" else section)
        for kind, section in msg["sections"]
    ]
    return {**msg, "sections": sections}


def _answer(
    unlocked: Callable[..., Any],
    handler: NeoSQLiteHandler,
    msg: dict[str, Any],
    body: dict[str, Any],
    db_name: str,
    connection: Connection,
) -> dict[str, Any]:
    """A read's reply, from SQL counts or nx-27017's handler, within the read's `maxTimeMS`."""
    deadline = _deadline(body.get("maxTimeMS"))
    count_each = functools.partial(_count_each, handler, db_name, connection, deadline)
    with _time_limit(connection, deadline) as expired:
        try:
            reply: dict[str, Any] = counts.answer(handler, db_name, body, count_each) or unlocked(handler, msg)[1]
        except sqlite3.OperationalError:
            if not expired():
                raise
            reply = _expired_reply(body)
        if reply.get("ok") == 0 and expired():
            reply = _expired_reply(body)
    return reply


def _read_unlocked(unlocked: Callable[..., Any]) -> Callable[..., Any]:
    """`handle_command` that runs plain reads on this thread's connection, without the lock."""

    def run(handle: Callable[..., Any], self: NeoSQLiteHandler, msg: dict[str, Any]) -> Any:
        body = next((section for kind, section in msg.get("sections", ()) if kind == "body"), None)
        if self._mode != "files" or not isinstance(body, dict) or not is_plain_read(body):
            return handle(self, msg)
        db_name = _msg_db_name(msg)
        msg = _without_session(msg)  # implicit sessions belong to the locked connection
        with _in_use(db_name):
            connection = _reader(self, db_name)
            token = _reading.set(connection)
            try:
                reply = _answer(unlocked, self, msg, body, db_name, connection)
            finally:
                _reading.reset(token)
        return msg["request_id"], reply

    return run


def install(unlocked: Callable[..., Any]) -> None:
    """Route plain reads around the lock; `unlocked` is nx-27017's `handle_command` without it."""
    route = _read_unlocked(unlocked)
    handle = NeoSQLiteHandler.handle_command
    get_database = NeoSQLiteHandler.get_database
    drop_file_db = NeoSQLiteHandler._drop_file_db

    def handle_command(self: NeoSQLiteHandler, msg: dict[str, Any]) -> Any:
        return route(handle, self, msg)

    def database(self: NeoSQLiteHandler, db_name: str) -> Connection:
        reading = _reading.get()
        return reading if reading is not None else get_database(self, db_name)

    def drop(self: NeoSQLiteHandler, db_name: str) -> None:
        with _dropped(db_name):
            drop_file_db(self, db_name)

    NeoSQLiteHandler.handle_command = handle_command
    NeoSQLiteHandler.get_database = database
    NeoSQLiteHandler._drop_file_db = drop
