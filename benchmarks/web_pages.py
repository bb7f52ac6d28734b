"""Benchmark: every page of the web admin, timed through the real server at two data sizes.

    .venv/bin/python benchmarks/web_pages.py [--users 100000 1000000] [--repeat 3] [--var-dir DIR]

For each size N: a private embedded MongoDB server in a temporary directory (or `--var-dir`,
kept and reused when it already holds N users) is seeded with N users and the demo's other
collections in proportion (`project.demo_data` documents written with raw `insert_many` in big
batches, about 8 documents per user), then gunicorn serves the project against it as in production
(one worker, threads; Django's tables in SQLite, tasks queued and not run). Not `runserver`: it
writes a response's status line, headers and body in separate small sends and leaves Nagle's
algorithm on, so on a kept-alive connection each response waits for the client's delayed ACK,
about 40 ms, whatever the page (gunicorn sets TCP_NODELAY). A staff user logs in and each
page is fetched `--repeat` times; the table gives each page's median time (request sent to
response read, on 127.0.0.1) per size and the ratio of the largest size to the smallest. Each
collection is browsed at page 1, page 1,000 (the same depth at every size) and its middle page
(deeper as the collection grows: read from the page marks, which its first view takes; a second
table gives each browse page's first view besides the median).
Targets: every page under 300 ms at 1M users, no ratio above 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
INSERT_BATCH = 20_000
DEEP_PAGE = 1_000  # the same depth at every size: what a page costs as the collection grows
TARGET_MS, TARGET_RATIO = 300, 1.5
NAME_WIDTH = 52
PASSWORD = "bench-password"
GUNICORN_OPTIONS = ("--workers", "1", "--threads", "4", "--timeout", "600")  # one process: one cache of page marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sizes = [100_000, 1_000_000]
    parser.add_argument("--users", type=int, nargs="+", default=sizes, help="sizes (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="fetches per page, the median is shown (default: 3)")
    parser.add_argument("--var-dir", type=Path, help="keep the seeded server here (one subdirectory per size)")
    parser.add_argument("--seed-only", action="store_true", help="seed (into --var-dir) and stop")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child is not None:
        return child(options.child, options.var_dir, options.repeat, options.seed_only)
    results = {}
    for users in options.users:
        base = options.var_dir or Path(tempfile.mkdtemp(prefix="bulkadmin-web-bench-"))
        var_dir = base / f"users-{users}"
        command = [sys.executable, __file__, "--child", str(users), "--var-dir", str(var_dir)]
        command += ["--repeat", str(options.repeat)] + (["--seed-only"] if options.seed_only else [])
        output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
        results[users] = json.loads(output.strip().splitlines()[-1])
    if not options.seed_only:
        print_table(results)
        print_first_views(results)


def print_table(results: dict[int, dict[str, list[float]]]) -> None:
    sizes = sorted(results)
    pages = list(results[sizes[0]])
    header = f"{'page':{NAME_WIDTH}}" + "".join(f"{f'{size:,} users':>16}" for size in sizes)
    print(header + (f"{'ratio':>8}" if len(sizes) > 1 else ""))
    worst_ms, worst_ratio = 0.0, 0.0
    for name in pages:
        medians = [results[size].get(name, [float("nan"), 0])[0] * 1000 for size in sizes]
        statuses = [results[size].get(name, [0, "?"])[1] for size in sizes]
        pairs = zip(medians, statuses, strict=True)
        shown = [f"{ms:.0f} ms" + ("" if code in (200, 302) else f" ({code})") for ms, code in pairs]
        cells = "".join(f"{cell:>16}" for cell in shown)
        line = f"{name:{NAME_WIDTH}}{cells}"
        if len(sizes) > 1:
            ratio = medians[-1] / max(medians[0], 1.0)
            worst_ratio = max(worst_ratio, ratio)
            line += f"{ratio:8.2f}"
        worst_ms = max(worst_ms, medians[-1])
        print(line)
    print(f"slowest page at {sizes[-1]:,} users: {worst_ms:.0f} ms (target < {TARGET_MS} ms)", end="")
    print(f"; largest ratio {worst_ratio:.2f} (target <= {TARGET_RATIO})" if len(sizes) > 1 else "")


def print_first_views(results: dict[int, dict[str, list[Any]]]) -> None:
    """The first fetch of each browse page per size: a deep page's first view takes its page marks."""
    sizes = sorted(results)
    print("\nfirst view of each browse page (the median above is of all views)")
    for name in (name for name in results[sizes[0]] if name.startswith("browse ")):
        cells = "".join(f"{results[size][name][2] * 1000:>13.0f} ms" for size in sizes if len(results[size][name]) > 2)
        print(f"{name:{NAME_WIDTH}}{cells}")


def child(users: int, var_dir: Path, repeat: int, seed_only: bool) -> None:
    """Seed (when needed), serve and time, for one size; print the timings as JSON on the last line."""
    var_dir.mkdir(parents=True, exist_ok=True)
    from bulkadmin import devserver

    uri = devserver.ensure_running(var_dir / "embedded").uri
    try:
        serve_and_time(users, var_dir, uri, repeat, seed_only)
    finally:
        devserver.stop(var_dir / "embedded")


def set_up_project(users: int, var_dir: Path, uri: str) -> None:
    """Django set up against `uri` with its tables in `var_dir`, migrated, and `users` users seeded."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        MONGODB_URI=uri,
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
        BULKADMIN_JOBS_DIR=str(var_dir / "jobs"),
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(users)


def serve_and_time(users: int, var_dir: Path, uri: str, repeat: int, seed_only: bool) -> None:
    set_up_project(users, var_dir, uri)
    if seed_only:
        print(json.dumps({}))
        return
    prepare_jobs()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "project.wsgi", "--bind", f"127.0.0.1:{port}", *GUNICORN_OPTIONS],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        timings = time_pages(f"http://127.0.0.1:{port}", repeat)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(json.dumps(timings))


def seed(users: int) -> None:
    """Write the demo collections with raw `insert_many` unless `users` users are there already."""
    from bulkadmin.core.mongo import get_db
    from bulkadmin.core.registry import ensure_indexes, site
    from project.demo_data import demo_documents

    db = get_db()
    if db.users.estimated_document_count() == users:
        return
    for model in site:
        db[model.collection].drop()
    started = time.perf_counter()
    for model, documents in demo_documents(users=users):
        written = 0
        batch: list[dict[str, Any]] = []
        for document in documents:
            batch.append(document)
            if len(batch) == INSERT_BATCH:
                written += len(db[model.collection].insert_many(batch, ordered=False).inserted_ids)
                batch = []
        if batch:
            written += len(db[model.collection].insert_many(batch, ordered=False).inserted_ids)
        ensure_indexes(model, db)
        log(f"{model.collection}: {written:,} documents ({time.perf_counter() - started:.0f} s so far)")


def prepare_jobs() -> None:
    """The staff user, and jobs for the lists: a finished update and an import with 100,000 errors."""
    from django.contrib.auth.models import User as DjangoUser

    from bulkadmin.models import Job

    if not DjangoUser.objects.filter(username="bench").exists():
        DjangoUser.objects.create_superuser("bench", "bench@example.com", PASSWORD)
    if Job.objects.filter(kind=Job.Kind.IMPORT, error_count=100_000).exists():
        return
    Job.objects.create(kind=Job.Kind.UPDATE, collection="users", status=Job.Status.SUCCEEDED, counts={"modified": 10})
    message = "age: Input should be a valid integer"
    errors = [{"row": n, "line": n + 1, "field": "age", "message": message, "kind": "rejected"} for n in range(1, 101)]
    job = Job.objects.create(
        kind=Job.Kind.IMPORT,
        collection="users",
        status=Job.Status.PARTIAL,
        counts={"rows": 200_000, "inserted": 100_000, "rejected": 100_000},
        errors=errors,
        error_count=100_000,
    )
    write_error_file(job)


def write_error_file(job: Any) -> None:
    from django.conf import settings

    path = Path(settings.BULKADMIN_JOBS_DIR) / str(job.pk) / "errors.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("error,name,email,age\r\n")  # as an import writes it: the error, then the row's cells
        for row in range(1, 100_001):
            handle.write(
                f"line {row + 1}: age: Input should be a valid integer,User {row},user{row}@example.com,old\r\n"
            )
    job.error_file = str(path)
    job.save(update_fields=["error_file"])


def pages(users: int) -> dict[str, tuple[str, str, dict[str, str] | None]]:
    """Name -> (method, path, form) of every page timed."""
    from bulkadmin.core.mongo import get_db
    from bulkadmin.core.registry import site
    from bulkadmin.models import Job

    db = get_db()
    listed: dict[str, tuple[str, str, dict[str, str] | None]] = {
        "health check (no page: the cost of a request)": ("GET", "/healthz", None),
        "dashboard": ("GET", "/admin/bulk/", None),
    }
    for model in site:
        name = model.collection
        pages_there = max(1, db[name].estimated_document_count() // 50)
        url = f"/admin/bulk/collections/{name}/"
        listed[f"browse {name}"] = ("GET", url, None)
        deep = min(DEEP_PAGE, pages_there)
        listed[f"browse {name}, page {DEEP_PAGE:,} (or last)"] = ("GET", f"{url}?page={deep}", None)
        listed[f"browse {name}, middle page"] = ("GET", f"{url}?page={max(1, pages_there // 2)}", None)
    some = db.users.find_one({}, sort=[("_id", 1)], skip=users // 2)
    browse, logs = "/admin/bulk/collections/users/", "/admin/bulk/collections/application_logs/"
    listed.update(
        {
            "browse users, search q=ada": ("GET", f"{browse}?q=ada", None),
            "browse users, name prefix q=Ada": ("GET", f"{browse}?q=Ada", None),
            "browse users, email prefix q=ada.lovelace.1": ("GET", f"{browse}?q=ada.lovelace.1", None),
            "browse users, search matching nothing": ("GET", f"{browse}?q=nobody+like+this", None),
            "browse application_logs, search (scan) q=timeout": ("GET", f"{logs}?q=timeout", None),
            "browse application_logs, search matching nothing": ("GET", f"{logs}?q=nobody+like+this", None),
            "browse users, status+tier filter": ("GET", f"{browse}?status=active&tier=gold", None),
            "browse users, sorted by last_login": ("GET", f"{browse}?sort=-last_login", None),
            "browse users, jump to an email": ("GET", f"{browse}?go={some['email']}", None),
            "document view": ("GET", f"{browse}documents/{some['_id']}/", None),
            "compose update (blank)": ("GET", "/admin/bulk/update/?collection=users", None),
            "compose update preview": ("POST", "/admin/bulk/update/", compose_form()),
            "compose delete preview": ("POST", "/admin/bulk/delete/", compose_form(update=False)),
            "cleanup": ("GET", "/admin/bulk/cleanup/", None),
            "jobs list": ("GET", "/admin/bulk/jobs/", None),
        }
    )
    job = Job.objects.filter(error_count=100_000).first()
    listed["job with 100,000 errors"] = ("GET", f"/admin/bulk/jobs/{job.pk}/", None)
    listed["job with 100,000 errors, page 4,000"] = ("GET", f"/admin/bulk/jobs/{job.pk}/?errors_page=4000", None)
    return listed


def compose_form(update: bool = True) -> dict[str, str]:
    form = {"collection": "users", "action": "preview", "batch_size": "500", "filter_json": "", "update_json": ""}
    form.update({"filter-TOTAL_FORMS": "1", "filter-INITIAL_FORMS": "0"})
    form.update({"filter-0-field": "age", "filter-0-operator": "lt", "filter-0-value": "30"})
    form.update({"update-TOTAL_FORMS": "1", "update-INITIAL_FORMS": "0"})
    if update:
        form.update({"update-0-operator": "$set", "update-0-field": "tier", "update-0-value": "gold"})
    return form


def time_pages(base: str, repeat: int) -> dict[str, tuple[float, int, float]]:
    import httpx

    from bulkadmin.core.mongo import get_db

    users = get_db().users.estimated_document_count()
    with httpx.Client(base_url=base, timeout=600, follow_redirects=False) as client:
        wait_until_up(client)
        log_in(client)
        timings = {}
        for name, (method, path, form) in pages(users).items():
            seconds, status = [], 0
            for _ in range(repeat):
                data = {**form, "csrfmiddlewaretoken": client.cookies["csrftoken"]} if form else None
                started = time.perf_counter()
                response = client.request(method, path, data=data, headers={"Referer": base + path})
                seconds.append(time.perf_counter() - started)
                status = response.status_code
            timings[name] = (statistics.median(seconds), status, seconds[0])
            log(f"{name}: {timings[name][0] * 1000:.0f} ms ({status}; first {seconds[0] * 1000:.0f} ms)")
    return timings


def wait_until_up(client: Any) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            client.get("/admin/login/")
            return
        except httpx.TransportError:  # still starting
            time.sleep(0.3)
    raise SystemExit("runserver did not answer within 60 s")


def log_in(client: Any) -> None:
    page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/admin/bulk/"}
    response = client.post("/admin/login/", data=form, headers={"Referer": str(client.base_url) + "/admin/login/"})
    if response.status_code != 302:
        raise SystemExit(f"log in failed: {response.status_code}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
