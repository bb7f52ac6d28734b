"""Single edits raced at a live server: the same form posted four times at once is one job and
one write; different saves of the same loaded document posted at once: exactly one is written,
the others are refused as stale, and the stored document is the winner's."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.contrib.auth.models import User as DjangoUser
from django.test import Client

from bulkadmin.bulk import bulk_insert
from bulkadmin.models import Job
from project.collections import User
from tests.factories import user
from tests.hostile.test_hostile_edits import form_data
from tests.web.test_exactly_once import Browser

pytestmark = pytest.mark.django_db(transaction=True)
TIMES = 4


@pytest.fixture
def browser(live_server, db) -> Browser:
    DjangoUser.objects.create_superuser("root", "root@example.com", "pw")
    return Browser(live_server.url)


@pytest.fixture
def ada(db) -> dict:
    bulk_insert(User, [user(1, name="Ada", tags=["a"])], db=db)
    return db.users.find_one()


def loaded_form(url: str, **changes: str) -> dict[str, str]:
    """The edit form as rendered to root (its token, its loaded document, the untouched inputs)."""
    client = Client()
    client.force_login(DjangoUser.objects.get(username="root"))
    return form_data(client.get(url), **changes)


def fire_all(browser: Browser, url: str, forms: list[dict[str, str]]) -> list[int]:
    """POST each form at the same moment, each from its own client with the session's cookies."""
    barrier = threading.Barrier(len(forms))
    cookies = dict(browser.client.cookies)

    def one(form: dict[str, str]) -> int:
        with httpx.Client(base_url=browser.url, cookies=cookies, timeout=120) as client:
            barrier.wait()
            return client.post(url, data={**form, "csrfmiddlewaretoken": cookies["csrftoken"]}).status_code

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(one, forms))


def test_the_same_edit_form_posted_four_times_at_once_is_one_job(browser, db, ada):
    url = f"/admin/bulk/collections/users/documents/{ada['_id']}/edit/"
    form = loaded_form(url, age="44")
    assert fire_all(browser, url, [form] * TIMES) == [302] * TIMES
    job = Job.objects.get(kind="edit")
    assert (job.status, job.counts["updated"]) == ("succeeded", 1)
    assert db.bulkadmin_undo.count_documents({"job": job.pk}) == 1
    assert db.users.find_one()["age"] == 44


def test_different_saves_of_one_loaded_document_at_once_write_exactly_one(browser, db, ada):
    url = f"/admin/bulk/collections/users/documents/{ada['_id']}/edit/"
    forms = [loaded_form(url, name=f"Writer {n}") for n in range(TIMES)]
    statuses = fire_all(browser, url, forms)
    assert sorted(statuses) == [200] * (TIMES - 1) + [302]
    jobs = Job.objects.filter(kind="edit")
    assert sorted(jobs.values_list("status", flat=True)) == ["failed"] * (TIMES - 1) + ["succeeded"]
    winner = statuses.index(302)
    assert db.users.find_one()["name"] == f"Writer {winner}"
    assert db.bulkadmin_undo.count_documents({}) == 1
