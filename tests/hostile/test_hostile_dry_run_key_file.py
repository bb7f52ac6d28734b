"""An insert-mode dry run keeps the file's keys in a private temporary SQLite database whose file
no folder shows and which is closed (and so deleted) however the run ends: finished, stopped by
its progress callback (an error, or Ctrl-C), or by a file that breaks midway; two dry runs at
once in one process each have their own; long keys take a digest's room in it."""

from __future__ import annotations

import gc
import json
import threading

import pytest

from bulkadmin.core import scratch
from bulkadmin.operations.imports import check_import_options, run_import
from bulkadmin.operations.imports.sources import ImportFileError
from project.collections import User
from tests.imports.conftest import key_files, user_rows, write_csv

pytestmark = pytest.mark.django_db
WAIT = 30  # seconds a thread may wait for the other before the test fails instead of hanging


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


def dry_run(path, db, progress=None, **options):
    checked = check_import_options(User, source=path, dry_run=True, **options)
    errors = path.with_name(f"{path.stem}-errors.csv")
    return run_import(model=User, options=checked, db=db, progress=progress, error_file=errors)


def stop_at(call: int, error: BaseException, seen: list[tuple[int, int]]):
    """A progress callback noting the rows done and the key files open, raising `error` at its
    `call`th call."""
    before = len(key_files())

    def progress(done) -> None:
        seen.append((done.rows, len(key_files()) - before))
        if len(seen) == call:
            raise error

    return progress


@pytest.mark.parametrize("error", [RuntimeError("stop"), KeyboardInterrupt()], ids=["error", "ctrl_c"])
def test_a_dry_run_stopped_by_its_progress_callback_closes_its_key_file(db, tmp_path, monkeypatch, error):
    monkeypatch.setattr(scratch, "CACHE_KIB", 64)  # keys past 64 KiB on disk
    rows = [f"U{n},{'u' * 40}{n}@example.com,{n % 90}" for n in range(3_000)]  # text keys, under 64 characters
    path = write_csv(tmp_path / "rows.csv", "name,email,age", rows)
    before, seen = key_files(), []
    with pytest.raises(type(error)):
        dry_run(path, db, stop_at(4, error, seen), batch_size=1_000)
    assert seen == [(0, 0), (1_000, 1), (2_000, 1), (3_000, 1)]  # on disk from the first batch
    assert key_files() == before
    assert gc.get_freeze_count() == 0


def test_a_dry_run_of_a_file_that_breaks_midway_closes_its_key_file(db, tmp_path):
    rows = [{"name": f"U{n}", "email": f"u{n}@example.com", "age": 1} for n in range(50)]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(rows)[:-1] + ', {"name": broken', encoding="utf-8")
    before = key_files()
    with pytest.raises(ImportFileError, match="Invalid JSON after item 50"):
        dry_run(path, db, batch_size=10)
    assert key_files() == before
    assert gc.get_freeze_count() == 0


def test_two_dry_runs_at_once_each_keep_their_keys_apart(db, tmp_path):
    paths = []
    for number in range(2):
        rows = user_rows(3_000, start=number * 10)
        rows[2_500] = f"Again,user{number * 10 + 5}@example.com,3"  # repeats row 6 of its own file
        paths.append(write_csv(tmp_path / f"file{number}.csv", "name,email,age", rows))
    both_running = threading.Barrier(2, timeout=WAIT)
    before = key_files()
    results: dict[int, tuple[int, int, list[int]]] = {}

    def run(number: int) -> None:
        def progress(done) -> None:
            if done.rows == 1_000:
                both_running.wait()

        result = dry_run(paths[number], db, progress, batch_size=500)
        results[number] = (result.counts["inserted"], result.counts["failed"], [e.row for e in result.errors])

    threads = [threading.Thread(target=run, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert results == {0: (2_999, 1, [2_501]), 1: (2_999, 1, [2_501])}  # no key crossed from the other file
    assert key_files() == before
    assert gc.get_freeze_count() == 0


def test_long_keys_take_their_digest_s_room_in_the_key_file(db, tmp_path, monkeypatch):
    """40,000 emails of 1,000 characters (40 MB of keys), with a page cache of 64 KiB: the file
    keeps 16 bytes a key."""
    monkeypatch.setattr(scratch, "CACHE_KIB", 64)
    rows = [f"U{n},{'u' * 1_000}{n}@example.com,{n % 90}" for n in range(40_000)]
    rows[30_000] = f"Again,{'u' * 1_000}7@example.com,1"
    path = write_csv(tmp_path / "long.csv", "name,email,age", rows)
    before, sizes = key_files(), []

    def progress(done) -> None:
        sizes.extend(set(key_files()) - set(before))

    result = dry_run(path, db, progress, batch_size=1_000)
    assert (result.counts["inserted"], result.counts["failed"], [e.row for e in result.errors]) == (39_999, 1, [30_001])
    assert sizes and max(sizes) < 4 * 1024 * 1024
    assert key_files() == before
