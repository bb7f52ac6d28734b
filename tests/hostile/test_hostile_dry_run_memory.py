"""A dry run's memory stays flat whatever the file's size, measured as peak RSS in a child
process: an insert-mode dry run of ten times the rows of long keys (2,000,000 against 200,000,
each key over 200 characters, 440 MB of them) keeps its keys in its temporary database; a merge
dry run of ten times the rows (200,000 against 20,000, 200-character names, each key created
then updated) keeps the documents it would leave there, not in a dict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]
ROOT = Path(__file__).resolve().parents[2]
MAX_GROWTH_KB = 30 * 1024  # the database's page cache is 16 MB

CHILD = """
import json, sys
import django
django.setup()
from bulkadmin.operations.imports import check_import_options, run_import
from project.collections import User

def peak_kb():
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

path, rows, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pad = "k" * 200
with open(path, "w", encoding="utf-8") as file:
    file.write("name,email,age\\n")
    if mode == "insert":  # a long key per row
        file.writelines(f"U{n},{pad}{n}@example.com,{n % 90}\\n" for n in range(rows))
    else:  # each key twice: created, then updated
        file.writelines(f"{pad},user{n % (rows // 2)}@example.com,{n * 2 // rows}\\n" for n in range(rows))
keys = ["email"] if mode == "merge" else []
options = check_import_options(User, source=path, mode=mode, key_fields=keys, dry_run=True, batch_size=1000)
result = run_import(model=User, options=options, error_file=path + ".errors.csv")
counts = {name: result.counts[name] for name in ("inserted", "updated", "unchanged", "failed")}
print(json.dumps({"peak_kb": peak_kb(), **counts}))
"""


def dry_run_peak(tmp_path: Path, rows: int, mode: str, mongo_uri: str, database: str, django_url: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": django_url,
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": database,
        "BULKADMIN_ALLOW_EMBEDDED": "true",
    }
    path = tmp_path / f"rows-{rows}.csv"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(rows), mode], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    path.unlink()
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_insert_dry_run_of_ten_times_the_rows_of_long_keys_peaks_at_the_same_memory(
    db, tmp_path, mongo_uri, process_database_url
):
    small = dry_run_peak(tmp_path, 200_000, "insert", mongo_uri, db.name, process_database_url)
    large = dry_run_peak(tmp_path, 2_000_000, "insert", mongo_uri, db.name, process_database_url)
    assert (small["inserted"], small["failed"]) == (200_000, 0)
    assert (large["inserted"], large["failed"]) == (2_000_000, 0)
    assert large["peak_kb"] - small["peak_kb"] < MAX_GROWTH_KB, (small, large)


def test_a_merge_dry_run_of_ten_times_the_rows_peaks_at_the_same_memory(db, tmp_path, mongo_uri, process_database_url):
    small = dry_run_peak(tmp_path, 20_000, "merge", mongo_uri, db.name, process_database_url)
    large = dry_run_peak(tmp_path, 200_000, "merge", mongo_uri, db.name, process_database_url)
    for run, half in ((small, 10_000), (large, 100_000)):
        assert run | {"peak_kb": 0} == {"peak_kb": 0, "inserted": half, "updated": half, "unchanged": 0, "failed": 0}
    assert large["peak_kb"] - small["peak_kb"] < MAX_GROWTH_KB, (small, large)
    assert db.users.count_documents({}) == 0
