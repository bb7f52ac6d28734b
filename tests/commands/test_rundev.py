"""`manage.py rundev` as a real process: a busy port is refused before anything is printed or
started, and SIGTERM stops every process it started (the worker's reloaded grandchild too, which
is asked to stop, not killed by its parent and left to init), and waits until they have ended."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.subprocess]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Every process under `pid` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def exists(pid: int) -> bool:
    """Whether `pid` is still in the process table: running, or ended and not yet reaped (a
    process killed and left to init is the latter for a while)."""
    return Path(f"/proc/{pid}").exists()


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return "?"


def test_a_busy_port_is_refused_before_anything_is_printed(manage_env, busy_port):
    done = subprocess.run(
        [sys.executable, "manage.py", "rundev", "--port", str(busy_port)],
        cwd=ROOT,
        env=manage_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"Port {busy_port} on 127.0.0.1 is already in use; choose another with --port" in done.stderr
    assert "Log in as" not in done.stderr


def test_sigterm_stops_the_worker_and_the_web_server_with_everything_they_started(manage_env):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "rundev", "--port", str(port)],
        cwd=ROOT,
        env={**manage_env, "DEBUG": "true"},  # the worker runs under its autoreloader, in a grandchild
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        started = wait_for_children(process, port)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    left = [f"{pid}: {command_line(pid)}" for pid in started if exists(pid)]
    assert left == [], output
    assert process.returncode == 0, output
    assert f"bulkadmin is running at http://127.0.0.1:{port}/admin/" in output


def wait_for_children(process: subprocess.Popen, port: int) -> list[int]:
    """rundev's processes once the web server answers and the worker runs in its reloaded grandchild."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"rundev ended: {process.communicate()[0]}")
        found = descendants(process.pid)
        workers = [pid for pid in found if "db_worker" in command_line(pid)]
        if len(workers) >= 2 and answers(port):  # the autoreloader and the worker it runs
            return found
        time.sleep(0.2)
    process.kill()
    pytest.fail("rundev did not start its worker and web server within 90 s")


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_child_that_stops_stops_rundev_with_a_non_zero_exit(manage_env):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "rundev", "--port", str(port), "--no-worker"],
        cwd=ROOT,
        env=manage_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not answers(port) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        (web,) = [pid for pid in descendants(process.pid) if "runserver_nodelay" in command_line(pid)]
        os.kill(web, signal.SIGKILL)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, output
    assert "CommandError: The web server stopped (exit status -9), so rundev stopped everything." in output


def test_a_port_out_of_range_is_a_usage_error(manage_env):
    done = subprocess.run(
        [sys.executable, "manage.py", "rundev", "--port", "70000"],
        cwd=ROOT,
        env=manage_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "argument --port: '70000' is not a port number (1 to 65535)" in done.stderr
