"""A heartbeat: a daemon thread that calls a function every `interval` seconds while a long step
(a batch, a page of a sync) runs, so a live process never looks dead to the others.

The thread uses its own database connection and closes it when it stops. While the starting
thread is inside a transaction (tests wrap each test in one) the beat does nothing: rows that
transaction wrote are not visible to another connection yet, and that transaction ends first."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger("bulkadmin.jobs")


class Heartbeat:
    """Call `beat` every `interval` seconds from a daemon thread, as a context manager."""

    def __init__(self, beat: Callable[[], object], *, interval: float) -> None:
        self.beat, self.interval = beat, max(float(interval), 0.05)
        self.stopped = threading.Event()
        self.owner_connection = connections[DEFAULT_DB_ALIAS]  # the starting thread's own (not the proxy)
        self.thread = threading.Thread(target=self._run, name="bulkadmin-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stopped.set()
        self.thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                if self.owner_connection.in_atomic_block:
                    continue
                try:
                    self.beat()
                except DatabaseError as error:  # the next beat tries again
                    logger.warning("heartbeat failed: %s", error)
        finally:
            connections.close_all()
