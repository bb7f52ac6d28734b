"""Benchmark: `manage.py import_csv` against raw pymongo `insert_many` on the same server.

    .venv/bin/python benchmarks/import_csv.py [--rows 1000000] [--batch-size 1000]

Generates an N-row, 6-column CSV; runs `import_csv` (insert mode) in a child process and reads its
peak RSS; parses the same file into typed dicts and times raw `insert_many` of them in batches of
the same size into the same, freshly emptied collection with the same indexes (`--rounds R`
alternates the two R times, for a server whose speed drifts); empties the collection again and runs
`import_csv --dry-run` (parse, validate, and find keys stored or repeated in the file, as before a
first import), alternating it with the same run's floor: the file read by `csv.reader` into dicts
and validated by pydantic alone, a batch per call. Prints rows/s for each, the ratios and the peak
RSS (`--dry-run-only` skips the insert rounds; `--dry-run-mode merge` dry-runs a merge by email).
Uses MONGODB_URI when set, else a private embedded
server; Django's own tables go to a throwaway SQLite file. Targets: ratio >= 0.8, peak RSS < 200
MB at 1M rows, dry-run >= 100k rows/s with the same bounded memory.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(database: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    register_bench_model()


def register_bench_model():
    from pydantic import Field

    from bulkadmin.core.documents import MongoModel
    from bulkadmin.core.registry import register, site

    if "bench_rows" in site:
        return site.get("bench_rows")

    @register
    class BenchRow(MongoModel):
        collection = "bench_rows"
        key_fields = ("email",)

        name: str
        email: str
        age: int = Field(ge=0, le=150)
        score: float
        active: bool
        joined: dt.datetime

    return BenchRow


def generate(path: Path, rows: int) -> None:
    start = dt.datetime(2020, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name", "email", "age", "score", "active", "joined"])
        for number in range(rows):
            joined = (start + dt.timedelta(minutes=number)).isoformat()
            age, score, active = 18 + number % 70, number % 1000 / 10, number % 2
            writer.writerow([f"User {number}", f"user{number}@example.com", age, score, active, joined])


def parsed(path: Path) -> list[dict]:
    """The file as typed dicts, parsed outside the timed part of the raw run."""
    rows = []
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            rows.append(
                {
                    "name": row["name"],
                    "email": row["email"],
                    "age": int(row["age"]),
                    "score": float(row["score"]),
                    "active": row["active"] == "1",
                    "joined": dt.datetime.fromisoformat(row["joined"]).replace(tzinfo=dt.UTC),
                }
            )
    return rows


def validation_floor(path: Path, model: type, batch_size: int) -> float:
    """Rows/s of the least a dry run does: read the file into dicts, validate each batch with
    one pydantic call (no shaping, no stored form, no keys)."""
    from pydantic import TypeAdapter

    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
    started, rows = time.perf_counter(), 0
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader)
        batch: list[dict[str, str]] = []
        for cells in reader:
            batch.append(dict(zip(header, cells, strict=True)))
            if len(batch) == batch_size:
                rows += len(adapter.validate_python(batch))
                batch = []
        rows += len(adapter.validate_python(batch))
    return rows / (time.perf_counter() - started)


def child(arguments: list[str]) -> None:
    """Run in a child process: the import command, then its result as JSON on the last line."""
    database = Path(os.environ["BENCH_DJANGO_DB"])
    setup_django(database)
    from django.core.management import call_command

    from bulkadmin.models import Job

    started = time.perf_counter()
    call_command("import_csv", "bench_rows", *arguments, verbosity=0)
    elapsed = time.perf_counter() - started
    job = Job.objects.latest("id")
    print(json.dumps({"elapsed": elapsed, "counts": job.counts, "peak_mb": peak_rss_kb() / 1024}))


def peak_rss_kb() -> int:
    """This process's peak RSS. Not `ru_maxrss`, which Linux carries over from the parent through
    fork and exec (the parent holds the parsed rows)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_child(arguments: list[str], env: dict[str, str]) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *arguments], env=env, capture_output=True, text=True, check=False
    )
    if output.returncode != 0:
        raise SystemExit(f"import_csv failed:\n{output.stdout}\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1, help="Alternate import and raw runs this many times.")
    parser.add_argument("--dry-run-only", action="store_true", help="Time only the dry run and its floor.")
    parser.add_argument(
        "--dry-run-mode", choices=("insert", "merge"), default="insert", help="The dry run's mode (merge: by email)."
    )
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    database = work / "django.sqlite3"
    setup_django(database)
    from django.core.management import call_command
    from pymongo import MongoClient

    from bulkadmin import devserver

    call_command("migrate", verbosity=0)
    uri = os.environ.get("MONGODB_URI") or devserver.ensure_running(work).uri
    db_name = f"bench_{os.getpid()}"
    client = MongoClient(uri, tz_aware=True)
    db = client[db_name]
    model = register_bench_model()
    env = {**os.environ, "MONGODB_URI": uri, "MONGODB_DB": db_name, "BENCH_DJANGO_DB": str(database)}
    try:
        path = work / "bench.csv"
        started = time.perf_counter()
        generate(path, options.rows)
        megabytes, seconds = path.stat().st_size / 1e6, time.perf_counter() - started
        print(f"generated {options.rows:,} rows ({megabytes:.1f} MB) in {seconds:.1f}s")

        if not options.dry_run_only:
            insert_rounds(options, path, db, model, env)
        dry_run_rounds(options, path, db, model, env)
    finally:
        client.drop_database(db_name)
        if not os.environ.get("MONGODB_URI"):
            devserver.stop(work)


def insert_rounds(options: argparse.Namespace, path: Path, db, model, env: dict[str, str]) -> None:
    """`import_csv` against raw `insert_many`, alternated `--rounds` times."""
    from bulkadmin.core.registry import ensure_indexes

    rows = parsed(path)  # for the raw runs, parsed outside their timing
    import_rates, raw_rates, peaks = [], [], []
    for number in range(1, options.rounds + 1):  # alternate, so both see the same server load
        db.drop_collection(model.collection)
        imported = run_child([str(path), "--batch-size", str(options.batch_size)], env)
        assert db[model.collection].count_documents({}) == options.rows, "the import did not store every row"
        import_rates.append(options.rows / imported["counts"]["elapsed"])
        peaks.append(imported["peak_mb"])
        db.drop_collection(model.collection)
        ensure_indexes(model, db)
        collection = db[model.collection]
        batch = [dict(row) for row in rows]
        started = time.perf_counter()
        for start in range(0, len(batch), options.batch_size):
            collection.insert_many(batch[start : start + options.batch_size], ordered=True)
        raw_rates.append(options.rows / (time.perf_counter() - started))
        del batch
        print(
            f"round {number}: import_csv insert {import_rates[-1]:,.0f} rows/s (peak RSS {peaks[-1]:.0f} MB), "
            f"raw insert_many {raw_rates[-1]:,.0f} rows/s, ratio {import_rates[-1] / raw_rates[-1]:.2f}"
        )
    del rows
    print(f"import_csv insert:    {max(import_rates):,.0f} rows/s (best of {options.rounds})")
    print(f"raw insert_many:      {max(raw_rates):,.0f} rows/s (best of {options.rounds})")
    print(f"ratio import/raw:     {max(import_rates) / max(raw_rates):.2f}")
    print(f"peak RSS of import:   {max(peaks):.0f} MB")


def dry_run_rounds(options: argparse.Namespace, path: Path, db, model, env: dict[str, str]) -> None:
    """`import_csv --dry-run` into an empty collection against the validation floor, alternated
    `--rounds` times."""
    from bulkadmin.core.registry import ensure_indexes

    db.drop_collection(model.collection)  # a dry run before a first import: nothing stored yet
    ensure_indexes(model, db)
    dry_rates, floor_rates, peaks = [], [], []
    for number in range(1, options.rounds + 1):
        floor_rates.append(validation_floor(path, model, options.batch_size))
        mode = ["--mode", "merge", "--key", "email"] if options.dry_run_mode == "merge" else []
        dry = run_child([str(path), "--dry-run", *mode, "--batch-size", str(options.batch_size)], env)
        assert dry["counts"]["inserted"] == options.rows, f"the dry run refused rows: {dry['counts']}"
        assert db[model.collection].count_documents({}) == 0, "the dry run stored documents"
        dry_rates.append(options.rows / dry["counts"]["elapsed"])
        peaks.append(dry["peak_mb"])
        print(
            f"round {number}: import_csv --dry-run {dry_rates[-1]:,.0f} rows/s (peak RSS {peaks[-1]:.0f} MB), "
            f"validation floor {floor_rates[-1]:,.0f} rows/s, ratio {dry_rates[-1] / floor_rates[-1]:.2f}"
        )
    best = max(dry_rates)
    print(f"import_csv --dry-run: {best:,.0f} rows/s (best of {options.rounds}; peak RSS {max(peaks):.0f} MB)")
    print(f"validation floor:     {max(floor_rates):,.0f} rows/s (best of {options.rounds})")
    print(f"ratio dry-run/floor:  {max(d / f for d, f in zip(dry_rates, floor_rates, strict=True)):.2f} (best round)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
