"""The embedded development MongoDB server (nx-27017 on SQLite), shared by the project's processes.

Its pid and port are recorded in `<var>/mongo.json`; a lock file holding a pid stops two
processes on this machine from starting two servers, and a dead server is started again on next use.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bulkadmin.core.exceptions import EmbeddedServerError
from bulkadmin.core.processes import pid_exists, pid_lock

STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class ServerState:
    """Where a running embedded server listens."""

    pid: int
    port: int
    data_dir: str

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"


def ensure_running(var_dir: Path) -> ServerState:
    """Return the running server under `var_dir`, starting one if none is alive."""
    var_dir.mkdir(parents=True, exist_ok=True)
    with _locked(var_dir):
        state = _read_state(var_dir)
        if state and is_alive(state):
            return state
        state = _start(var_dir)
        print(
            f"bulkadmin: started the embedded development MongoDB server at {state.uri} "
            f"(data in {state.data_dir}); production sets MONGODB_URI.",
            file=sys.stderr,
        )
        return state


def status(var_dir: Path) -> ServerState | None:
    """Return the server under `var_dir` when it is alive, else None."""
    state = _read_state(var_dir)
    return state if state and is_alive(state) else None


def stop(var_dir: Path) -> bool:
    """Stop the server under `var_dir`; return whether one was running."""
    with _locked(var_dir):
        state = _read_state(var_dir)
        (var_dir / "mongo.json").unlink(missing_ok=True)
        if not state or not pid_exists(state.pid):
            return False
        os.kill(state.pid, signal.SIGTERM)
        _wait_for_exit(state.pid, timeout=10.0)
        return True


def is_alive(state: ServerState) -> bool:
    """True when the recorded process exists and accepts connections on its port."""
    return pid_exists(state.pid) and _port_open(state.port)


def _start(var_dir: Path) -> ServerState:
    data_dir = var_dir / "mongo"
    data_dir.mkdir(parents=True, exist_ok=True)
    # Under the lock no server of ours is alive: a pid file left by one that died (killed, or
    # crashed) would name a process that may be another's now, and stop the server starting.
    (var_dir / "mongo-server.pid").unlink(missing_ok=True)
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "bulkadmin.devserver",
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
    ]
    command += ["-p", str(port), "--pid-file", str(var_dir / "mongo-server.pid")]
    with open(var_dir / "mongo.log", "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=Path(__file__).resolve().parents[2],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    state = ServerState(pid=process.pid, port=port, data_dir=str(data_dir))
    _wait_until_listening(process, state, var_dir / "mongo.log")
    (var_dir / "mongo.json").write_text(json.dumps(asdict(state)))
    return state


def _wait_until_listening(process: subprocess.Popen[bytes], state: ServerState, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise EmbeddedServerError(f"The embedded MongoDB server exited at startup:\n{tail}")
        if _port_open(state.port):
            return
        time.sleep(0.1)
    process.kill()
    raise EmbeddedServerError(f"The embedded MongoDB server did not listen within {STARTUP_TIMEOUT}s.")


@contextlib.contextmanager
def _locked(var_dir: Path) -> Iterator[None]:
    with pid_lock(var_dir / "mongo.lock"):
        yield


def _read_state(var_dir: Path) -> ServerState | None:
    try:
        return ServerState(**json.loads((var_dir / "mongo.json").read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_exit(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while pid_exists(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if pid_exists(pid):
        os.kill(pid, signal.SIGKILL)
