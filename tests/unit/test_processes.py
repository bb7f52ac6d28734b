"""The embedded server's lock file: one process on this machine at a time, freed when its holder dies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bulkadmin.core.processes import pid_lock

pytestmark = pytest.mark.subprocess
ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from pathlib import Path
from bulkadmin.core.processes import pid_lock
with pid_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(1)
    Path(sys.argv[2]).write_text("done")  # the last thing the holder does with the lock
"""


def test_a_lock_left_by_a_dead_process_is_taken_and_removed_after(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = tmp_path / "mongo.lock"
    lock.write_text(dead.stdout.strip())
    with pid_lock(lock):
        assert lock.read_text() == str(os.getpid())
    assert not lock.exists() and list(tmp_path.iterdir()) == []


def test_a_second_process_waits_until_the_holder_lets_go(tmp_path):
    lock = tmp_path / "mongo.lock"
    done = tmp_path / "done"
    command = [sys.executable, "-c", HOLD, str(lock), str(done)]
    holder = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pid_lock(lock):
            assert done.read_text() == "done"  # the holder had finished before we got in
    finally:
        holder.wait(timeout=30)


def test_a_file_from_an_older_version_does_not_block(tmp_path):
    lock = tmp_path / "mongo.lock"
    lock.write_text("")
    with pid_lock(lock):
        assert lock.read_text() == str(os.getpid())
