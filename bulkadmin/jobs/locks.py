"""Named exclusive locks between processes (cron runs, staff runs): an `flock` on a file under
`var/locks/`. The kernel releases it when its holder exits or dies, so a lock never goes stale."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bulkadmin.core import conf
from bulkadmin.core.exceptions import BulkAdminError


class LockHeld(BulkAdminError):
    """Another process holds the named lock; `.holder` is its pid when known."""

    def __init__(self, name: str, holder: str) -> None:
        self.name = name
        self.holder = holder
        by = f" by process {holder}" if holder else ""
        super().__init__(f"{name} is already running{by}; wait for it to finish (the lock frees itself if it dies).")


def lock_dir() -> Path:
    """Where lock files live: `BULKADMIN_LOCK_DIR`, else `var/locks`."""
    return conf.lock_dir()


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[None]:
    """Hold the lock `name` for the body; raise `LockHeld` at once when another holder has it."""
    directory = lock_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise LockHeld(name, handle.read().strip()) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
