"""Benchmark: does background work hold other users? Pages timed while the server is busy.

    .venv/bin/python benchmarks/busy_pages.py [--users 200000] [--var-dir DIR] [--rounds 3]

Seeds N demo users (as `benchmarks/web_pages.py` does; `--var-dir` keeps and reuses them), then
serves the project with gunicorn and runs a `db_worker`. Each round, one staff user:

1. posts a compose preview (users with `age < A`, `$set tier=gold`, A drawn at random so the
   count is not one cached by an earlier round) and times the POST, then polls its count until the worker's background
   count arrives, and times that;
2. searches users for a name matching nothing, and for a name prefix (`Ada`), and searches
   `application_logs` (no index on its text) for text matching nothing;

while a second staff user reads a 50-document users page over and over. Prints each figure's
median and the second user's slowest page during each kind of work. Targets (issue "The
embedded default"): small page < 1 s while counting or searching, search < 2.5 s, prefix
search < 300 ms, compose preview POST < 300 ms, its background count < 10 s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNT_WAIT = 120  # seconds a background count may take before the run stops, naming it
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import web_pages  # noqa: E402  (the seeding, login and form helpers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--var-dir", type=Path, help="where the seeded server is kept (reused when it holds N users)")
    options = parser.parse_args()
    base = options.var_dir or Path(tempfile.mkdtemp(prefix="bulkadmin-busy-bench-"))
    var_dir = base / f"users-{options.users}"
    var_dir.mkdir(parents=True, exist_ok=True)
    from bulkadmin import devserver

    uri = devserver.ensure_running(var_dir / "embedded").uri
    try:
        with served(options.users, var_dir, uri) as url:
            run_rounds(url, options.rounds)
    finally:
        devserver.stop(var_dir / "embedded")


@contextmanager
def served(users: int, var_dir: Path, uri: str) -> Iterator[str]:
    """The seeded project behind gunicorn, with one `db_worker`; yields the base URL."""
    web_pages.set_up_project(users, var_dir, uri)
    web_pages.prepare_jobs()
    port = web_pages.free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "project.wsgi", "--bind", f"127.0.0.1:{port}"]
    processes = [
        start([*gunicorn, *web_pages.GUNICORN_OPTIONS]),
        start([sys.executable, "manage.py", "db_worker"]),
    ]
    try:
        drain_queue()
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def drain_queue() -> None:
    """Wait until the worker has run what earlier runs left queued (counts queued by
    `web_pages.py`, which runs no worker), so each round's count waits only for itself."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    while left := DBTaskResult.objects.filter(status=TaskResultStatus.READY).count():
        web_pages.log(f"the worker has {left} queued tasks from earlier runs to run first")
        time.sleep(5)


def start(command: list[str]) -> subprocess.Popen:
    quiet = subprocess.DEVNULL
    return subprocess.Popen(
        command, cwd=ROOT, env=os.environ.copy(), stdout=quiet, stderr=quiet, start_new_session=True
    )


def run_rounds(url: str, rounds: int) -> None:
    import httpx

    with httpx.Client(base_url=url, timeout=600) as busy, httpx.Client(base_url=url, timeout=600) as reader:
        for client in (busy, reader):
            web_pages.wait_until_up(client)
            web_pages.log_in(client)
        figures: dict[str, list[float]] = {}
        for number in range(rounds):
            for name, work in busy_work(busy, url).items():
                seconds, slowest = while_reading(reader, work)
                figures.setdefault(name, []).append(seconds)
                figures.setdefault(f"slowest small page during: {name}", []).append(slowest)
                web_pages.log(
                    f"round {number + 1}: {name} {seconds * 1000:.0f} ms; small page at most {slowest * 1000:.0f} ms"
                )
    print(f"{'figure':72}{'median':>10}{'max':>10}")
    for name, values in figures.items():
        print(f"{name:72}{statistics.median(values) * 1000:>8.0f} ms{max(values) * 1000:>8.0f} ms")


def busy_work(client, url: str) -> dict[str, Callable[[], None]]:
    """Name -> the work the busy user does (each returns when it has its answer)."""
    form = web_pages.compose_form()
    form["filter-0-value"] = str(random.randint(18, 87))  # a count not cached by an earlier round (or run)
    count_url: list[str] = []

    def preview() -> None:
        data = {**form, "csrfmiddlewaretoken": client.cookies["csrftoken"]}
        page = client.post("/admin/bulk/update/", data=data, headers={"Referer": url + "/admin/bulk/update/"})
        found = re.search(r'data-count-url="([^"]+)"', page.text)
        count_url[:] = [found.group(1)] if found else []

    def count_arrives() -> None:
        deadline = time.monotonic() + COUNT_WAIT
        while count_url and not client.get(count_url[0]).json().get("ready"):
            if time.monotonic() > deadline:
                raise SystemExit(f"the background count {count_url[0]} did not arrive within {COUNT_WAIT} s")
            time.sleep(0.2)

    browse, logs = "/admin/bulk/collections/users/", "/admin/bulk/collections/application_logs/"
    return {
        "compose preview POST (age < A, $set tier)": preview,
        "its background count arrives": count_arrives,
        "users search matching nothing": lambda: client.get(f"{browse}?q=nobody+like+this").raise_for_status(),
        "users name prefix search q=Ada": lambda: client.get(f"{browse}?q=Ada").raise_for_status(),
        "application_logs search matching nothing": lambda: client.get(f"{logs}?q=nobody+like+this").raise_for_status(),
    }


def while_reading(reader, work: Callable[[], None]) -> tuple[float, float]:
    """How long `work` took, and the slowest 50-document page another user read meanwhile."""
    done = threading.Event()
    pages: list[float] = []

    def read() -> None:
        while not done.is_set():
            started = time.perf_counter()
            reader.get("/admin/bulk/collections/users/?page=3").raise_for_status()
            pages.append(time.perf_counter() - started)

    thread = threading.Thread(target=read)
    thread.start()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    done.set()
    thread.join()
    return seconds, max(pages, default=0.0)


if __name__ == "__main__":
    main()
