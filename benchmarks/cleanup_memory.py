"""Memory of a cleanup: peak RSS growth of a delete rule over N documents, for each N given.

Each N runs in its own process: seed N old log lines (raw `insert_many`), then run a cleanup
rule deleting them all and report how much the process's peak RSS (`ru_maxrss`) grew during
the cleanup, and the peak of Python allocations (tracemalloc, with `--tracemalloc`).

    python benchmarks/cleanup_memory.py [--docs 100000 1000000] [--batch-size 1000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

SEED_BATCH = 5_000


def measure(docs: int, batch_size: int, trace: bool) -> dict[str, float]:
    """Seed `docs` documents, run the cleanup and return its figures (in this process)."""
    import django

    django.setup()
    from django.conf import settings

    from bulkadmin.core.mongo import get_db
    from bulkadmin.operations.cleanup import Rule, ago, run_cleanup
    from project.collections import ApplicationLog

    settings.MONGODB_DB = f"bench_{uuid.uuid4().hex[:8]}"
    db = get_db()
    try:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
        for start in range(0, docs, SEED_BATCH):
            rows = [
                {"level": "info", "message": f"m{i}", "created_at": old}
                for i in range(start, min(docs, start + SEED_BATCH))
            ]
            db[ApplicationLog.collection].insert_many(rows, ordered=False)
        rule = Rule("old-logs", ApplicationLog, {"created_at": {"$lt": ago(days=30)}}, "delete")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        result = run_cleanup(rules=[rule], batch_size=batch_size, db=db)
        seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] if trace else 0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {
            "docs": docs,
            "deleted": result.counts.deleted,
            "seconds": seconds,
            "rss_growth_mb": (rss_after - rss_before) / 1024,
            "peak_rss_mb": rss_after / 1024,
            "traced_peak_mb": traced / 2**20,
        }
    finally:
        db.client.drop_database(db.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[100_000, 1_000_000], help="document counts")
    parser.add_argument("--batch-size", type=int, default=1000, help="cleanup batch size (default: %(default)s)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # run one measurement in this process
    options = parser.parse_args()
    if options.one is not None:
        print(json.dumps(measure(options.one, options.batch_size, options.tracemalloc)))
        return
    figures = []
    for docs in options.docs:
        command = [sys.executable, __file__, "--one", str(docs), "--batch-size", str(options.batch_size)]
        output = subprocess.run(
            command + (["--tracemalloc"] if options.tracemalloc else []), check=True, capture_output=True, text=True
        )
        figure = json.loads(output.stdout.strip().splitlines()[-1])
        figures.append(figure)
        print(
            f"{figure['docs']:>9} docs: deleted {figure['deleted']:>9} in {figure['seconds']:7.1f} s, "
            f"peak RSS grew {figure['rss_growth_mb']:6.1f} MB (peak {figure['peak_rss_mb']:.1f} MB), "
            f"traced peak {figure['traced_peak_mb']:6.1f} MB",
            flush=True,
        )
    if len(figures) > 1:
        growth = figures[-1]["rss_growth_mb"] - figures[0]["rss_growth_mb"]
        print(f"peak RSS growth, {figures[-1]['docs']} vs {figures[0]['docs']} docs: {growth:+.1f} MB")


if __name__ == "__main__":
    main()
