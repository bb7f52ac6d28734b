"""The embedded server: started on first use, shared through its state file, restarted when dead,
managed with `manage.py mongo_server`."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pymongo import MongoClient

from bulkadmin import devserver

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def var_dir(tmp_path, settings):
    settings.MONGODB_URI = ""
    settings.BULKADMIN_EMBEDDED_DIR = tmp_path
    yield tmp_path
    devserver.stop(tmp_path)


def _call(*arguments: str) -> str:
    out = io.StringIO()
    call_command("mongo_server", *arguments, stdout=out)
    return out.getvalue().strip()


def test_mongo_server_start_status_stop(var_dir):
    assert _call("status") == "not running"
    started = _call("start")
    assert started.startswith("running: pid")
    state = devserver.status(var_dir)
    assert state is not None
    assert MongoClient(state.uri).admin.command("ping")["ok"] == 1
    assert _call("start") == started  # the same server, not a second one
    assert _call("stop") == "stopped"
    assert _call("status") == "not running"


def test_other_processes_share_the_server_and_a_dead_one_is_restarted(var_dir):
    state = devserver.ensure_running(var_dir)
    code = (
        "import pathlib, sys; from bulkadmin import devserver as e; "
        "print(e.ensure_running(pathlib.Path(sys.argv[1])).pid)"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, str(var_dir)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert int(other.stdout) == state.pid
    os.kill(state.pid, signal.SIGKILL)
    devserver.process._wait_for_exit(state.pid, timeout=5)
    restarted = devserver.ensure_running(var_dir)
    assert restarted.pid != state.pid
    assert MongoClient(restarted.uri).admin.command("ping")["ok"] == 1


def test_a_server_that_died_leaving_its_pid_file_naming_a_live_process_is_started_again(var_dir):
    state = devserver.ensure_running(var_dir)
    os.kill(state.pid, signal.SIGKILL)
    devserver.process._wait_for_exit(state.pid, timeout=5)
    (var_dir / "mongo-server.pid").write_text(str(os.getpid()))  # the pid reused by another process
    restarted = devserver.ensure_running(var_dir)
    assert MongoClient(restarted.uri).admin.command("ping")["ok"] == 1


def test_embedded_server_keeps_datetimes_written_by_set(var_dir):
    client = MongoClient(devserver.ensure_running(var_dir).uri, tz_aware=True)
    when = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
    client.t.x.insert_one({"_id": 1})
    client.t.x.update_many({"_id": 1}, {"$set": {"at": when}, "$max": {"latest": when}})
    assert client.t.x.find_one() == {"_id": 1, "at": when, "latest": when}


def test_start_refuses_when_mongodb_uri_is_set(settings):
    settings.MONGODB_URI = "mongodb://db.example.com:27017/"
    with pytest.raises(CommandError, match="MONGODB_URI is set"):
        call_command("mongo_server", "start")


def test_ensure_indexes_command_names_unknown_collections(db):
    out = io.StringIO()
    call_command("ensure_indexes", stdout=out)
    assert "users: bulkadmin_key" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown collection 'usrs'"):
        call_command("ensure_indexes", "usrs")
