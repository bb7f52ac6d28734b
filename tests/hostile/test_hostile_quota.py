"""The upload quota holds against a hostile uploader: eight uploads at once against a live server
never hold more than the quota together, a POST of several file parts keeps nothing, and the
records of a file's checks are the system's, not counted against the uploader."""

from __future__ import annotations

import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.contrib.auth.models import User as DjangoUser

from bulkadmin.jobs.uploads import stored_uploads, used_bytes
from tests.web.import_helpers import IMPORT_URL, upload, upload_file

MB = 1024 * 1024
QUOTA = 10 * MB
FILE = 3 * MB  # three fit in the quota, a fourth does not
AT_ONCE = 8


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings) -> Path:
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    settings.BULKADMIN_UPLOAD_QUOTA_BYTES = QUOTA
    return settings.BULKADMIN_JOBS_DIR


def folders(jobs_dir: Path) -> list[Path]:
    root = jobs_dir / "uploads"
    return sorted(root.iterdir()) if root.is_dir() else []


def big_csv(size: int) -> bytes:
    """A CSV of `size` bytes exactly."""
    header = b"name,email,age\n"
    row = b"Ann,ann@example.com,31\n"
    body = row * ((size - len(header)) // len(row))
    return header + body + b"#" * (size - len(header) - len(body))


def signed_in(url: str) -> dict[str, str]:
    """The cookies of a session of the user `ann` on the live server."""
    with httpx.Client(base_url=url, timeout=60) as client:
        page = client.get("/admin/login/")
        token = html.unescape(re.search(r'name="csrfmiddlewaretoken" value="([^"]*)"', page.text).group(1))
        answer = client.post("/admin/login/", data={"username": "ann", "password": "pw", "csrfmiddlewaretoken": token})
        assert answer.status_code == 302, answer.text[:500]
        return dict(client.cookies)


def upload_at_once(url: str, cookies: dict[str, str], content: bytes, times: int) -> list[httpx.Response]:
    barrier = threading.Barrier(times)
    form = {"collection": "users", "mode": "insert", "csrfmiddlewaretoken": cookies["csrftoken"]}

    def one(number: int) -> httpx.Response:
        with httpx.Client(base_url=url, cookies=cookies, timeout=120) as client:
            barrier.wait()
            return client.post(IMPORT_URL, data=form, files={"file": (f"people-{number}.csv", content, "text/csv")})

    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(one, range(times)))


@pytest.mark.django_db(transaction=True)
def test_eight_uploads_at_once_never_hold_more_than_the_quota(live_server, jobs_dir):
    user = DjangoUser.objects.create_user("ann", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["import_users", "view_users"]))
    answers = upload_at_once(live_server.url, signed_in(live_server.url), big_csv(FILE), AT_ONCE)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [302] * 3 + [400] * 5
    refused = [answer.text for answer in answers if answer.status_code == 400]
    assert all("more than your quota of 10 MB" in text for text in refused)
    kept = list(stored_uploads())
    assert [(upload.user, upload.size, upload.finished) for upload in kept] == [(user.pk, FILE, True)] * 3
    assert len(folders(jobs_dir)) == 3  # nothing left of the refused ones
    assert sum(path.stat().st_size for folder in folders(jobs_dir) for path in folder.glob("*.csv")) <= QUOTA
    assert used_bytes(user.pk) == 3 * FILE


@pytest.mark.django_db
def test_a_post_of_several_file_parts_is_refused_and_keeps_nothing(login, jobs_dir):
    client = login("import_users", "view_users")
    parts = [upload_file(f"part-{number}.csv", big_csv(MB)) for number in range(8)]
    answer = client.post(IMPORT_URL, {"collection": "users", "mode": "insert", "file": parts})
    assert answer.status_code == 400
    assert "Send one file per upload: this request carried more than one." in answer.content.decode()
    assert folders(jobs_dir) == []
    assert upload(client, big_csv(MB)).status_code == 302  # one file is welcome
    assert len(folders(jobs_dir)) == 1


@pytest.mark.django_db
def test_the_records_of_a_files_checks_are_not_counted_against_its_uploader(login, jobs_dir, settings):
    client = login("import_users", "view_users")
    rows = "".join(f"P{n},not-an-email-{n},{n % 90}\n" for n in range(20_000))
    content = ("name,email,age\n" + rows).encode()
    uploaded = upload(client, content)
    assert uploaded.status_code == 302
    assert client.get(uploaded["Location"]).status_code == 200  # the preview starts the whole-file check
    (folder,) = folders(jobs_dir)
    records = list(folder.glob("scan-*.json"))
    assert len(records) == 1 and records[0].stat().st_size > 1000
    user = DjangoUser.objects.get(username="staff")
    assert used_bytes(user.pk) == len(content)
    settings.BULKADMIN_UPLOAD_QUOTA_BYTES = 2 * len(content) + 500  # the request's few hundred bytes of form
    assert upload(client, content).status_code == 302  # exactly the room the file itself left
    assert used_bytes(user.pk) == 2 * len(content)
