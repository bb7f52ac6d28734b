"""Against a live server: a composer preview with a catastrophic `$regex` (one MongoDB would
spend half a minute on) is refused at once, while another staff user's dashboard answers."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from bulkadmin.bulk import bulk_insert
from project.collections import User as AppUser
from tests.web.helpers import compose_data

CATASTROPHIC = '{"name": {"$regex": "^\\"(.*)*X"}}'


class Browser:
    """An HTTP client with `user`'s session (cookies sent by hand: the live server is `localhost`)."""

    def __init__(self, live_server, user: User) -> None:
        client = Client()
        client.force_login(user)
        self.base = live_server.url
        self.cookies = {"sessionid": client.cookies["sessionid"].value}

    def open(self, path: str, data: dict | None = None) -> Any:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers={"Cookie": cookie})
        response = urllib.request.urlopen(request, timeout=60)
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response


def timed(call) -> tuple[float, int, str]:
    started = time.perf_counter()
    try:
        response = call()
    except urllib.error.HTTPError as error:  # a refused form answers 400, with its message
        response = error
    with response:
        body = response.read().decode()
        return time.perf_counter() - started, response.status, body


@pytest.mark.django_db(transaction=True)
def test_a_catastrophic_regex_is_refused_quickly_while_another_users_page_answers(live_server, db):
    bulk_insert(AppUser, [{"name": '"' + "a" * 60, "email": f"u{n}@x.org"} for n in range(2000)], db=db)
    deleter = User.objects.create_user("deleter", password="pw", is_staff=True)
    deleter.user_permissions.add(*Permission.objects.filter(codename__in=["delete_users", "view_users"]))
    other = User.objects.create_user("other", password="pw", is_staff=True)
    hostile, neighbour = Browser(live_server, deleter), Browser(live_server, other)
    url = "/admin/bulk/delete/?collection=users"
    form = hostile.open(url).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = compose_data(filter_json=CATASTROPHIC, csrfmiddlewaretoken=token)
    outcome: dict[str, tuple[float, int, str]] = {}

    def preview() -> None:
        outcome["preview"] = timed(lambda: hostile.open(url, data))

    thread = threading.Thread(target=preview)
    thread.start()
    outcome["dashboard"] = timed(lambda: neighbour.open("/admin/bulk/"))
    thread.join(30)
    (preview_seconds, preview_status, preview_page), (page_seconds, page_status, _) = (
        outcome["preview"],
        outcome["dashboard"],
    )
    timings = f"preview {preview_seconds:.2f} s, other user's dashboard {page_seconds:.2f} s"
    assert preview_status == 400 and "this $regex is not allowed" in preview_page, timings
    assert page_status == 200, timings
    assert preview_seconds < 2 and page_seconds < 1, timings
