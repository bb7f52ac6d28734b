"""Background work shared fairly: a newer whole-file check of an upload replaces the older ones
(waiting or running), one user has at most `SCANS_PER_USER` checks and `COUNTS_PER_USER` counts
waiting (the oldest gives way), and what gave way is skipped by the worker, never another user's."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from bulkadmin.jobs import counts, scans
from tests.jobs.machines import wait_for

pytestmark = pytest.mark.django_db

ANN, BOB = 1, 2


@pytest.fixture(autouse=True)
def no_worker(settings):
    """Queued work waits: no worker runs it until the test does."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def upload(root: Path, token: str, rows: int = 3) -> Path:
    folder = root / "uploads" / token
    folder.mkdir(parents=True)
    body = "".join(f"P{n},p{n}@example.com,{n % 90}\n" for n in range(rows))
    (folder / "people.csv").write_text("name,email,age\n" + body)
    return folder


def check(folder: Path, user: int, delimiter: str = ",") -> str:
    """Ask for the whole-file check the preview asks for; its key."""
    read = {"mode": "insert", "format": "csv", "delimiter": delimiter, "mapping": None}
    return scans.request_scan(folder, file="people.csv", collection="users", read=read, user=user)[0]


def states(*checks: tuple[Path, str]) -> list[str]:
    return [scans.read_scan(folder, key)["state"] for folder, key in checks]


def test_a_newer_check_replaces_the_uploads_older_ones_and_a_user_keeps_two_waiting(tmp_path):
    a, b, c, d = (upload(tmp_path, token) for token in ("a" * 32, "b" * 32, "c" * 32, "d" * 32))
    a1, a2, a3 = ((a, check(a, ANN, delimiter)) for delimiter in (",", ";", "\t"))
    assert states(a1, a2, a3) == ["replaced", "replaced", "queued"]
    bob = (d, check(d, BOB))
    b1 = (b, check(b, ANN))
    c1 = (c, check(c, ANN))
    assert states(a3, b1, c1, bob) == ["replaced", "queued", "queued", "queued"]  # Ann's oldest gave way

    skipped = scans.run_scan(*a3)  # what the worker does with a check that gave way: nothing
    assert skipped["state"] == "replaced" and "result" not in skipped
    assert "result" not in scans.read_scan(*a3)
    assert scans.run_scan(*b1)["state"] == "done"

    assert check(a, ANN, "\t") == a3[1]  # the preview shown again asks for it again
    assert states(a3, b1, c1, bob) == ["queued", "done", "queued", "queued"]
    assert check(b, ANN, ";") and states(a3, c1, bob) == ["queued", "replaced", "queued"]  # c1 was older


@pytest.mark.django_db(transaction=True)
def test_a_running_check_replaced_by_a_newer_one_stops_between_reports(tmp_path):
    folder = upload(tmp_path, "e" * 32, rows=300_000)
    first = check(folder, ANN)

    def newer() -> None:
        wait_for(lambda: scans.read_scan(folder, first)["state"] == "running", 60, "the first check to run")
        check(folder, ANN, ";")
        connection.close()

    thread = threading.Thread(target=newer)
    thread.start()
    stopped = scans.run_scan(folder, first)
    thread.join(timeout=60)
    assert stopped["state"] == "replaced"
    record = scans.read_scan(folder, first)
    assert record["state"] == "replaced" and 0 < record["result"]["rows"] < 300_000


def test_a_user_keeps_at_most_ten_counts_waiting_and_the_worker_skips_those_that_gave_way(db, settings):
    settings.BULKADMIN_INLINE_COUNT_LIMIT = 1
    db.users.insert_many([{"name": f"U{n}", "email": f"u{n}@example.com", "age": n} for n in range(5)])
    bobs = counts.counted(collection="users", filter={"age": {"$lt": 100}}, user=BOB)
    anns = [counts.counted(collection="users", filter={"age": {"$gte": n}}, user=ANN) for n in range(12)]
    now = [counts.lookup(count.key, db=db) for count in anns]
    assert [count.pending for count in now] == [False] * 2 + [True] * 10
    assert counts.lookup(bobs.key, db=db).pending
    assert counts.compute(anns[0].key) is None  # gave way: not counted
    assert counts.lookup(anns[0].key, db=db).value is None
    assert counts.compute(anns[11].key) == 0
    assert counts.compute(anns[2].key) == 3
    assert counts.compute(bobs.key) == 5
    assert db.bulkadmin_counts.count_documents({"requested_by": ANN, "waiting": True}) == 8
