"""Small helpers about local processes, for the embedded development server (one machine)."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from bulkadmin.core.exceptions import EmbeddedServerError

LOCK_WAIT = 120.0  # seconds to wait for another process starting or stopping the server


def pid_exists(pid: int) -> bool:
    """True when a process with this id exists on this machine (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def pid_lock(path: Path) -> Iterator[None]:
    """Hold the lock file `path` (holding our pid) for the body, waiting while a live process holds
    it; one left by a dead process is removed. The file appears complete or not at all (a hard
    link of a file already written), so a reader never sees it half-written."""
    deadline = time.monotonic() + LOCK_WAIT
    while not _take(path):
        holder = _holder(path)
        if holder is not None and (holder <= 0 or not pid_exists(holder)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            continue
        if time.monotonic() > deadline:
            raise EmbeddedServerError(f"{path} is held by process {holder}; remove it if that process is gone.")
        time.sleep(0.05)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _take(path: Path) -> bool:
    written = path.with_name(f"{path.name}.{uuid.uuid4().hex}")
    written.write_text(str(os.getpid()))
    try:
        os.link(written, path)
        return True
    except FileExistsError:
        return False
    finally:
        written.unlink()


def _holder(path: Path) -> int | None:
    """The pid in the lock file; None when there is none, 0 for a file this code did not write."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else 0
