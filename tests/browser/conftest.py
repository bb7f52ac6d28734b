"""A real browser (Debian's Chromium driven by Playwright) against pytest-django's live server.

Screenshots go to `test-artifacts/` (not committed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkadmin.bulk import bulk_insert
from project.collections import User
from tests.factories import users

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

sync_api = pytest.importorskip("playwright.sync_api")


# The one browser of the run. Playwright's sync API keeps its event loop running in this thread
# while the browser is open, so a second `sync_playwright()` here fails ("using Playwright Sync API
# inside the asyncio loop"): a test module that imports these fixtures defines `chromium` again,
# and that definition must get this browser too.
_OPEN: dict[str, object] = {}


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Chromium, started once per run however many times this fixture is defined."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("BULKADMIN_REQUIRE_BROWSER"):
            pytest.fail("Chromium is not installed (apt-get install chromium) and the browser tests are required")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    if "browser" in _OPEN:
        yield _OPEN["browser"]
        return
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        _OPEN["browser"] = browser
        try:
            yield browser
        finally:
            del _OPEN["browser"]
            browser.close()


@pytest.fixture
def page(chromium, live_server, admin_login, db):
    """A logged-in page of a fresh browser context; MongoDB is the test database (`db`)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto("/admin/login/?next=/admin/bulk/")
    tab.fill("#id_username", admin_login[0])
    tab.fill("#id_password", admin_login[1])
    tab.click("input[type=submit]")
    tab.wait_for_url("**/admin/bulk/")
    yield tab
    context.close()


@pytest.fixture
def admin_login(transactional_db) -> tuple[str, str]:
    from django.contrib.auth.models import User as DjangoUser

    DjangoUser.objects.create_superuser("admin", "admin@example.com", "browser-pw")
    return "admin", "browser-pw"


@pytest.fixture
def people(db):
    bulk_insert(User, users(30), db=db)
    return db.users


@pytest.fixture
def shot(page):
    """Save a screenshot of the page under test-artifacts/NAME.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
