"""Several "machines" for the multi-worker tests: `manage.py` processes, each in a working
directory of its own (with its own temporary folder), sharing only the Django database, MongoDB
and the job files' storage location."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.processes import fetch_one

ROOT = Path(__file__).resolve().parents[2]
MANAGE = str(ROOT / "manage.py")
HEARTBEAT_SECONDS = 1
STALE_SECONDS = 3
LEASE_SECONDS = 3

QUEUE_IMPORT = """
import os
from pathlib import Path
from django.core.files import File
from bulkadmin.jobs import files
from bulkadmin.operations.imports import check_import_options
from bulkadmin.web.launch import launch
from project.collections import User
local = Path(os.environ["UPLOAD"])
with local.open("rb") as handle:  # what the Import page does with an upload
    name = files.storage().save(f"uploads/{os.getpid()}/{local.name}", File(handle))
checked = check_import_options(User, source=str(local), batch_size=int(os.environ["BATCH"]))
parameters = {**checked.to_parameters(), "source": files.stored_source(name)}
print(launch(kind="import", collection="users", parameters=parameters, user=None).pk)
"""


def machine_timings() -> dict[str, str]:
    """The heartbeat, staleness and lease settings that make the tests' workers notice a dead one quickly."""
    return {
        "BULKADMIN_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "BULKADMIN_JOB_STALE_SECONDS": str(STALE_SECONDS),
        "BULKADMIN_LEASE_SECONDS": str(LEASE_SECONDS),
    }


@dataclass
class Machine:
    """One machine: a working directory and the environment its processes get."""

    folder: Path
    env: dict[str, str]
    workers: list[subprocess.Popen] = field(default_factory=list)

    def manage(self, *arguments: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, MANAGE, *arguments],
            cwd=self.folder,
            env={**self.env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=180,
        )

    def start(self, *arguments: str) -> subprocess.Popen:
        log = (self.folder / f"{arguments[0]}-{len(self.workers)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, MANAGE, *arguments], cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.workers.append(process)
        return process

    def start_worker(self) -> subprocess.Popen:
        return self.start("db_worker", "--no-reload", "--interval", "0.1", "--no-startup-delay")

    def queue_import(self, path: Path, batch_size: int) -> int:
        """Upload `path` to the storage and queue its import, as the web does; the local copy is
        removed, so only the storage has it."""
        done = self.manage("shell", "-c", QUEUE_IMPORT, extra={"UPLOAD": str(path), "BATCH": str(batch_size)})
        assert done.returncode == 0, done.stderr
        path.unlink()
        return int(done.stdout.strip().splitlines()[-1])

    def logs(self) -> str:
        return "\n".join(log.read_text() for log in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def make_machines(base: Path, count: int, env: dict[str, str]) -> list[Machine]:
    machines = []
    for number in range(1, count + 1):
        folder = base / f"machine-{number}"
        (folder / "tmp").mkdir(parents=True)
        machines.append(Machine(folder, {**env, "TMPDIR": str(folder / "tmp")}))
    return machines


def job(url: str, job_id: int) -> dict[str, Any]:
    """The job row's fields the tests look at, read from the processes' database."""
    columns = (
        "status",
        "worker_pid",
        "resume_attempts",
        "rows_done",
        "last_committed_row",
        "counts",
        "details",
        "message",
    )
    row = fetch_one(url, f"SELECT {', '.join(columns)} FROM bulkadmin_job WHERE id = {int(job_id)}")
    assert row is not None, f"no job {job_id}"
    found = dict(zip(columns, row, strict=True))
    for name in ("counts", "details"):
        if isinstance(found[name], str):
            found[name] = json.loads(found[name])
    return found


def lease(url: str, name: str) -> tuple[str, int] | None:
    """(host, pid) of the lease `name`, or None."""
    row = fetch_one(url, f"SELECT host, pid FROM bulkadmin_lease WHERE name = '{name}'")
    return (row[0], int(row[1])) if row else None


def lease_expiry(url: str, name: str) -> dt.datetime:
    """When the lease `name` expires (an aware datetime)."""
    row = fetch_one(url, f"SELECT expires_at FROM bulkadmin_lease WHERE name = '{name}'")
    assert row is not None, f"no lease {name}"
    value = row[0]
    if isinstance(value, str):  # SQLite
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
