"""An insert-mode dry run keeps the file's keys in a temporary file of its own, deleted however
the run ends: finished, stopped by its progress callback (an error, or Ctrl-C), or by a file
that breaks midway; two dry runs at once in one process each have their own."""

from __future__ import annotations

import gc
import json
import threading

import pytest

from bulkadmin.operations.imports import check_import_options, run_import
from bulkadmin.operations.imports.sources import ImportFileError
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db
WAIT = 30  # seconds a thread may wait for the other before the test fails instead of hanging


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


@pytest.fixture
def temporary(tmp_path, monkeypatch):
    """The temporary folder the key files go to, empty at first."""
    folder = tmp_path / "temporary"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    return folder


def dry_run(path, db, progress=None, **options):
    checked = check_import_options(User, source=path, dry_run=True, **options)
    errors = path.with_name(f"{path.stem}-errors.csv")
    return run_import(model=User, options=checked, db=db, progress=progress, error_file=errors)


def key_files(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("bulkadmin-keys-"))


def stop_at(call: int, error: BaseException, folder, seen: list[list[str]]):
    def progress(done) -> None:
        seen.append(key_files(folder))
        if len(seen) == call:
            raise error

    return progress


@pytest.mark.parametrize("error", [RuntimeError("stop"), KeyboardInterrupt()], ids=["error", "ctrl_c"])
def test_a_dry_run_stopped_by_its_progress_callback_deletes_its_key_file(db, tmp_path, temporary, error):
    path = write_csv(tmp_path / "rows.csv", "name,email,age", user_rows(100))
    seen: list[list[str]] = []
    with pytest.raises(type(error)):
        dry_run(path, db, stop_at(4, error, temporary, seen), batch_size=10)
    assert [len(names) for names in seen] == [0, 1, 1, 1]  # the file is made by the first batch
    assert list(temporary.iterdir()) == []
    assert gc.get_freeze_count() == 0


def test_a_dry_run_of_a_file_that_breaks_midway_deletes_its_key_file(db, tmp_path, temporary):
    rows = [{"name": f"U{n}", "email": f"u{n}@example.com", "age": 1} for n in range(50)]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(rows)[:-1] + ', {"name": broken', encoding="utf-8")
    with pytest.raises(ImportFileError, match="Invalid JSON after item 50"):
        dry_run(path, db, batch_size=10)
    assert list(temporary.iterdir()) == []
    assert gc.get_freeze_count() == 0


def test_two_dry_runs_at_once_each_keep_their_keys_in_a_file_of_their_own(db, tmp_path, temporary):
    paths = []
    for number in range(2):
        rows = user_rows(3_000, start=number * 10)
        rows[2_500] = f"Again,user{number * 10 + 5}@example.com,3"  # repeats row 6 of its own file
        paths.append(write_csv(tmp_path / f"file{number}.csv", "name,email,age", rows))
    both_running = threading.Barrier(2, timeout=WAIT)
    seen: list[list[str]] = []
    results: dict[int, tuple[int, int, list[int]]] = {}

    def run(number: int) -> None:
        def progress(done) -> None:
            if done.rows == 1_000:
                both_running.wait()
                seen.append(key_files(temporary))
                both_running.wait()

        result = dry_run(paths[number], db, progress, batch_size=500)
        results[number] = (result.counts["inserted"], result.counts["failed"], [e.row for e in result.errors])

    threads = [threading.Thread(target=run, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert results == {0: (2_999, 1, [2_501]), 1: (2_999, 1, [2_501])}  # no key crossed from the other file
    assert [len(names) for names in seen] == [2, 2]
    assert list(temporary.iterdir()) == []
    assert gc.get_freeze_count() == 0


def test_long_keys_take_their_digest_s_room_in_the_key_file(db, tmp_path, temporary):
    """40,000 emails of 1,000 characters (40 MB of keys, past the file's 16 MB page cache): the
    file keeps 16 bytes a key."""
    rows = [f"U{n},{'u' * 1_000}{n}@example.com,{n % 90}" for n in range(40_000)]
    rows[30_000] = f"Again,{'u' * 1_000}7@example.com,1"
    path = write_csv(tmp_path / "long.csv", "name,email,age", rows)
    sizes: list[int] = []

    def progress(done) -> None:
        sizes.extend(path.stat().st_size for path in temporary.iterdir() if path.name.startswith("bulkadmin-keys-"))

    result = dry_run(path, db, progress, batch_size=1_000)
    assert (result.counts["inserted"], result.counts["failed"], [e.row for e in result.errors]) == (39_999, 1, [30_001])
    assert len(sizes) == 40 and max(sizes) < 4 * 1024 * 1024
    assert list(temporary.iterdir()) == []
