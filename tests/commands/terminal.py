"""`manage.py` run as a person runs it: standard output and standard error each a terminal (a
pseudo-terminal), so Django colours what it colours on one; or as cron runs it, through pipes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def on_terminal(env: dict[str, str], *arguments: str, timeout: float = 120) -> Ran:
    """Run `manage.py <arguments>` with a terminal for standard output and one for standard error."""
    masters, slaves = zip(*(pty.openpty() for _ in range(2)), strict=True)
    process = subprocess.Popen(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=slaves[0],
        stderr=slaves[1],
    )
    for slave in slaves:
        os.close(slave)
    read = {master: b"" for master in masters}
    deadline = time.monotonic() + timeout
    open_fds = list(masters)
    while open_fds and time.monotonic() < deadline:
        ready, _, _ = select.select(open_fds, [], [], 0.5)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the process closed its end
                chunk = b""
            if chunk:
                read[fd] += chunk
            else:
                open_fds.remove(fd)
    if open_fds:
        process.kill()
    returncode = process.wait(timeout=10)
    for master in masters:
        os.close(master)
    out, err = (read[master].decode(errors="replace").replace("\r\n", "\n") for master in masters)
    return Ran(returncode, out, err)


def piped(env: dict[str, str], *arguments: str, timeout: float = 120) -> Ran:
    """Run `manage.py <arguments>` with pipes for its output (as cron or a log shipper does)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    return Ran(done.returncode, done.stdout, done.stderr)
