"""One confirmation, one job: the same POST fired four times at once at a live server (separate
HTTP clients sharing the session and CSRF token) creates at most one job, and the data changes
once."""

from __future__ import annotations

import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User as DjangoUser

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs.imports import import_file
from bulkadmin.models import Job
from project.collections import ApplicationLog, User
from tests.factories import users
from tests.web.helpers import cleanup_data, compose_data
from tests.web.test_sync_page import feed  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
TIMES = 4


class Browser:
    """A signed-in staff session on the live server, and posts of one form by several clients at once."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
        login = self.client.get("/admin/login/")
        token = self.hidden(login.text, "csrfmiddlewaretoken")
        answer = self.client.post(
            "/admin/login/?next=/admin/bulk/",
            data={"username": "root", "password": "pw", "csrfmiddlewaretoken": token},
        )
        assert answer.status_code == 302, answer.text[:500]

    @staticmethod
    def hidden(page: str, name: str, default: str | None = None) -> str:
        match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
        if match is None and default is not None:
            return default
        assert match, f"no hidden {name} in the page"
        return html.unescape(match.group(1))

    def post(self, path: str, data: dict | None = None) -> httpx.Response:
        token = self.client.cookies["csrftoken"]
        return self.client.post(path, data={**(data or {}), "csrfmiddlewaretoken": token})

    def fire(self, path: str, data: dict | None = None, times: int = TIMES) -> list[int]:
        """POST the same form `times` times at once, each from its own client with the same cookies."""
        barrier = threading.Barrier(times)
        cookies = dict(self.client.cookies)
        form = {**(data or {}), "csrfmiddlewaretoken": cookies["csrftoken"]}

        def one(_: int) -> int:
            with httpx.Client(base_url=self.url, cookies=cookies, timeout=120) as client:
                barrier.wait()
                return client.post(path, data=form).status_code

        with ThreadPoolExecutor(times) as pool:
            return list(pool.map(one, range(times)))


@pytest.fixture
def browser(live_server, db, settings, tmp_path) -> Browser:
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    DjangoUser.objects.create_superuser("root", "root@example.com", "pw")
    return Browser(live_server.url)


def log_file(tmp_path: Path, rows: int = 50) -> Path:
    path = tmp_path / "logs.csv"
    path.write_text("message,level\n" + "".join(f"line {n},info\n" for n in range(rows)), encoding="utf-8")
    return path


def test_an_import_confirmed_four_times_at_once_runs_once(browser, db, tmp_path):
    dry = import_file(
        model=ApplicationLog,
        source=log_file(tmp_path),
        dry_run=True,
        origin="web",
        user=DjangoUser.objects.get(username="root"),
    )
    statuses = browser.fire(f"/admin/bulk/import/confirm/{dry.job_id}/")
    assert statuses == [302] * TIMES
    imports = Job.objects.filter(kind="import", dry_run=False)
    assert imports.count() == 1 and imports.get().counts["inserted"] == 50
    assert db.application_logs.count_documents({}) == 50
    assert Job.objects.get(pk=dry.job_id).details["confirmed_by"] == imports.get().pk


def compose_confirm(browser: Browser, url: str, **rows) -> dict:
    """The confirm form of a composed update or delete, as the preview page renders it."""
    preview = browser.post(url, compose_data(**rows))
    assert preview.status_code == 200, preview.text[:300]
    count = browser.hidden(preview.text, "expected")
    fields = {name: browser.hidden(preview.text, name, "") for name in ("previewed", "once")}
    return compose_data(action="confirm", **rows) | fields | {"expected": count, "typed": count}


def test_an_update_confirmed_four_times_at_once_applies_its_inc_once(browser, db):
    bulk_insert(User, users(10, total_spent=50), db=db)
    form = compose_confirm(
        browser, "/admin/bulk/update/", filters=[("age", "lt", "25")], updates=[("$inc", "total_spent", "100")]
    )
    assert browser.fire("/admin/bulk/update/", form) == [302] * TIMES
    assert Job.objects.filter(kind="update").count() == 1
    assert sorted({doc["total_spent"] for doc in db.users.find({"age": {"$lt": 25}})}) == [150]
    assert db.users.count_documents({"total_spent": 150}) == 5


def test_a_delete_confirmed_four_times_at_once_is_one_job(browser, db):
    bulk_insert(User, users(10), db=db)
    form = compose_confirm(browser, "/admin/bulk/delete/", filters=[("age", "lt", "25")])
    assert browser.fire("/admin/bulk/delete/", form) == [302] * TIMES
    job = Job.objects.get(kind="delete")
    assert (job.counts["deleted"], db.users.count_documents({})) == (5, 5)


def test_a_cleanup_confirmed_four_times_at_once_is_one_job(browser, db):
    cleanup_data(db)
    asked = browser.post("/admin/bulk/cleanup/", {"action": "run", "rule": "expired_sessions"})
    count = browser.hidden(asked.text, "expected")
    assert count == "3"
    form = {"action": "run", "rules": "expired_sessions", "expected": count, "typed": count}
    form["once"] = browser.hidden(asked.text, "once", "")
    assert browser.fire("/admin/bulk/cleanup/", form) == [302] * TIMES
    job = Job.objects.get(kind="cleanup")
    assert (job.dry_run, job.counts["deleted"], db.user_sessions.count_documents({})) == (False, 3, 2)


def test_a_real_cleanup_does_not_run_without_the_typed_count(browser, db):
    cleanup_data(db)
    asked = browser.post("/admin/bulk/cleanup/", {"action": "run"})
    assert asked.status_code == 200 and 'id="cleanup-confirm"' in asked.text
    count = browser.hidden(asked.text, "expected")
    wrong = browser.post("/admin/bulk/cleanup/", {"action": "run", "expected": count, "typed": int(count) - 1})
    assert wrong.status_code == 400
    assert f"type the number of documents it will touch ({count})" in wrong.text
    assert not Job.objects.exists() and db.user_sessions.count_documents({}) == 5


def test_a_sync_started_four_times_at_once_is_one_job(browser, db, feed):  # noqa: F811
    page = browser.client.get("/admin/bulk/sync/").text
    form = {"source": "demo_users", "action": "run", "once": browser.hidden(page, "once", "")}
    assert browser.fire("/admin/bulk/sync/", form) == [302] * TIMES
    job = Job.objects.get(kind="sync")
    assert (job.counts["created"], db.users.count_documents({})) == (4, 4)


def test_an_undo_posted_four_times_at_once_is_one_undo_job(browser, db):
    bulk_insert(User, users(10, total_spent=50), db=db)
    form = compose_confirm(
        browser, "/admin/bulk/update/", filters=[("age", "lt", "25")], updates=[("$inc", "total_spent", "100")]
    )
    browser.post("/admin/bulk/update/", form)
    update = Job.objects.get(kind="update")
    assert browser.fire(f"/admin/bulk/jobs/{update.pk}/undo/") == [302] * TIMES
    undo = Job.objects.get(kind="undo")
    assert (undo.status, db.users.count_documents({"total_spent": 50})) == ("succeeded", 10)
    update.refresh_from_db()
    assert update.details["undone_by"] == undo.pk


def test_a_resume_posted_four_times_at_once_imports_each_row_once(browser, db, tmp_path):
    path = log_file(tmp_path, rows=60)

    def stop(state):
        if state.rows_this_run >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as raised:
        import_file(model=ApplicationLog, source=path, batch_size=10, progress=stop, origin="web")
    assert browser.fire(f"/admin/bulk/jobs/{raised.value.job_id}/resume/") == [302] * TIMES
    job = Job.objects.get()
    assert (job.status, job.counts["inserted"], job.counts["failed"], job.details["runs"]) == ("succeeded", 60, 0, 2)
    assert db.application_logs.count_documents({}) == 60


def test_a_rerun_posted_four_times_at_once_is_one_new_job(browser, db):
    cleanup_data(db)
    browser.post("/admin/bulk/cleanup/", {"action": "dry_run", "rule": "deleted_users"})
    first = Job.objects.get()
    page = browser.client.get(f"/admin/bulk/jobs/{first.pk}/").text
    form = {"once": browser.hidden(page, "once", "")}
    assert browser.fire(f"/admin/bulk/jobs/{first.pk}/rerun/", form) == [302] * TIMES
    assert Job.objects.count() == 2


def test_a_real_cleanups_rerun_asks_for_the_typed_count(browser, db):
    cleanup_data(db)
    real = Job.objects.create(kind="cleanup", status="succeeded", parameters={"rules": ["expired_sessions"]})
    answer = browser.post(f"/admin/bulk/jobs/{real.pk}/rerun/")
    assert answer.status_code == 302 and answer.headers["location"] == f"/admin/bulk/cleanup/?rerun={real.pk}"
    page = browser.client.get(answer.headers["location"]).text
    assert f"Re-run of job #{real.pk}" in page and browser.hidden(page, "expected") == "3"
    assert Job.objects.count() == 1 and db.user_sessions.count_documents({}) == 5


def test_a_cancel_posted_four_times_at_once_cancels_once(browser, db):
    queued = Job.objects.create(kind="update", collection="users", status="queued")
    assert browser.fire(f"/admin/bulk/jobs/{queued.pk}/cancel/") == [302] * TIMES
    queued.refresh_from_db()
    assert (queued.status, Job.objects.count()) == ("cancelled", 1)
