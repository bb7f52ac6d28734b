"""Benchmark: `manage.py export_data` against a raw pymongo `find` + `csv.writer` on the same server.

    .venv/bin/python benchmarks/export.py [--users 100000 1000000] [--formats csv ndjson xlsx]

Inserts the largest number of demo users (every field of the model) once; for each size, runs
`export_data users FILE --limit N` in a child process per format (its time and peak RSS), and in
this process the baseline: `find` of the same documents in `_id` order written with `csv.writer`
(one cell per field, values as the driver returns them), and for NDJSON `json.dumps` per document.
Runs alternate `--rounds` times (best of each). Prints docs/s (the export job's own time), the
ratio export/baseline (target >= 0.8) and each export's peak RSS, whose growth
from the smallest to the largest size shows whether memory stays flat (target < 20 MB). Uses
MONGODB_URI when set, else a private embedded server; Django's tables go to a throwaway SQLite file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MISSING_DEFAULTS = {
    "external_id": None,
    "is_active": True,
    "profile": None,
    "last_sync": None,
    "external_updated_at": None,
}


def setup_django(database: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(arguments: list[str]) -> None:
    """In a child process: the export command, then its time and peak RSS as JSON on the last line."""
    setup_django(Path(os.environ["BENCH_DJANGO_DB"]))
    from django.core.management import call_command

    from bulkadmin.models import Job

    call_command("export_data", "users", *arguments, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    job = Job.objects.latest("id")
    print(json.dumps({"elapsed": job.counts["elapsed"], "peak_mb": peak_rss_mb()}))


def run_child(arguments: list[str], env: dict[str, str]) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *arguments], env=env, capture_output=True, text=True, check=False
    )
    if output.returncode != 0:
        raise SystemExit(f"export_data failed:\n{output.stdout}\n{output.stderr}")
    result: dict[str, float] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def seed(db: Any, count: int) -> None:
    """`count` demo users with every field of the model, inserted raw (not the timed part)."""
    from project.demo_data import demo_documents

    users = demo_documents(users=count, seed=1)[0][1]
    batch: list[dict[str, Any]] = []
    for user in users:
        batch.append({**MISSING_DEFAULTS, **user})
        if len(batch) == 10_000:
            db.users.insert_many(batch, ordered=False)
            batch = []
    if batch:
        db.users.insert_many(batch, ordered=False)


def baseline(db: Any, path: Path, limit: int, fmt: str, keys: list[str]) -> float:
    """Seconds for a raw `find` in `_id` order written with `csv.writer` (or `json.dumps` lines)."""
    started = time.perf_counter()
    with path.open("w", newline="", encoding="utf-8") as file:
        cursor = db.users.find({}, sort=[("_id", 1)], limit=limit, batch_size=1000)
        if fmt == "ndjson":
            for document in cursor:
                file.write(json.dumps(document, default=str, ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(file)
            writer.writerow(keys)
            for document in cursor:
                writer.writerow([document.get(key) for key in keys])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "ndjson", "xlsx"])
    parser.add_argument(
        "--rounds", type=int, default=3, help="Alternate export and baseline this many times (best of)."
    )
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    database = work / "django.sqlite3"
    setup_django(database)
    from django.core.management import call_command
    from pymongo import MongoClient

    from bulkadmin import devserver
    from project.collections import User

    call_command("migrate", verbosity=0)
    uri = os.environ.get("MONGODB_URI") or devserver.ensure_running(work).uri
    db_name = f"bench_{os.getpid()}"
    client = MongoClient(uri, tz_aware=True)
    db = client[db_name]
    env = {**os.environ, "MONGODB_URI": uri, "MONGODB_DB": db_name, "BENCH_DJANGO_DB": str(database)}
    keys = [info.alias or name for name, info in User.model_fields.items()]
    try:
        started = time.perf_counter()
        seed(db, max(options.users))
        print(f"inserted {max(options.users):,} users in {time.perf_counter() - started:.1f}s")
        peaks: dict[str, list[float]] = {fmt: [] for fmt in options.formats}
        for count in sorted(options.users):
            for fmt in options.formats:
                rounds = options.rounds if fmt in ("csv", "ndjson") else 1
                rates, raws, csv_raws, peak = [], [], [], 0.0
                for _ in range(rounds):  # alternate, so both see the same load on a shared machine
                    exported = run_child([str(work / f"users.{fmt}"), "--limit", str(count)], env)
                    rates.append(count / exported["elapsed"])
                    peak = max(peak, exported["peak_mb"])
                    if fmt in ("csv", "ndjson"):
                        raws.append(count / baseline(db, work / f"raw.{fmt}", count, fmt, keys))
                    if fmt == "ndjson":
                        csv_raws.append(count / baseline(db, work / "raw.csv", count, "csv", keys))
                peaks[fmt].append(peak)
                line = f"{count:,} users, {fmt}: export_data {max(rates):,.0f} docs/s, peak RSS {peak:.0f} MB"
                if raws:
                    raw = max(raws)
                    line += f"; raw find + {'json.dumps' if fmt == 'ndjson' else 'csv.writer'} {raw:,.0f} docs/s"
                    line += f", ratio {max(rates) / raw:.2f}"
                if csv_raws:
                    line += f" (vs find + csv.writer {max(csv_raws):,.0f} docs/s: {max(rates) / max(csv_raws):.2f})"
                print(line + (f" (best of {rounds})" if rounds > 1 else ""), flush=True)
        for fmt, seen in peaks.items():
            if len(seen) > 1:
                sizes = f"{min(options.users):,} -> {max(options.users):,}"
                print(f"{fmt}: peak RSS growth {sizes}: {seen[-1] - seen[0]:+.1f} MB")
    finally:
        client.drop_database(db_name)
        if not os.environ.get("MONGODB_URI"):
            devserver.stop(work)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
