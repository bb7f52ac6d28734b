"""A merge dry run's memory stays flat whatever the file's size: ten times the rows (200,000
against 20,000, each with a 200-character name, every key written twice: created, then updated)
leave the process's peak RSS where it was, the would-be documents going to the run's temporary
database instead of a dict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]
ROOT = Path(__file__).resolve().parents[2]
MAX_GROWTH_KB = 30 * 1024  # the would-be database's page cache is 16 MB

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

path, rows = sys.argv[1], int(sys.argv[2])
name = "n" * 200
with open(path, "w", encoding="utf-8") as file:
    file.write("name,email,age\\n")
    file.writelines(f"{name},user{n % (rows // 2)}@example.com,{n * 2 // rows}\\n" for n in range(rows))
options = check_import_options(User, source=path, mode="merge", key_fields=["email"], dry_run=True, batch_size=1000)
result = run_import(model=User, options=options, error_file=path + ".errors.csv")
counts = {name: result.counts[name] for name in ("inserted", "updated", "unchanged", "failed")}
print(json.dumps({"peak_kb": peak_kb(), **counts}))
"""


def dry_run_peak(tmp_path: Path, rows: int, mongo_uri: str, database: str, django_url: str) -> dict[str, int]:
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
        [sys.executable, "-c", CHILD, str(path), str(rows)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    path.unlink()
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_merge_dry_run_of_ten_times_the_rows_peaks_at_the_same_memory(db, tmp_path, mongo_uri, process_database_url):
    small = dry_run_peak(tmp_path, 20_000, mongo_uri, db.name, process_database_url)
    large = dry_run_peak(tmp_path, 200_000, mongo_uri, db.name, process_database_url)
    for run, half in ((small, 10_000), (large, 100_000)):
        assert run | {"peak_kb": 0} == {"peak_kb": 0, "inserted": half, "updated": half, "unchanged": 0, "failed": 0}
    assert large["peak_kb"] - small["peak_kb"] < MAX_GROWTH_KB, (small, large)
    assert db.users.count_documents({}) == 0
