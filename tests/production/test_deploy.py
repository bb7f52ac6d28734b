"""Production settings pass `check --deploy`, and gunicorn serves the admin with its static files
at DEBUG=false."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import process_database
from tests.production.conftest import ROOT, documented_production_env, free_port

pytestmark = pytest.mark.subprocess

HOST = "bulkadmin.example.com"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy sends


def manage(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def process_env(variables: dict[str, str]) -> dict[str, str]:
    """This process's environment without its Django settings (nor test-only switches such as
    DJANGO_ALLOW_ASYNC_UNSAFE, which the browser tests set), plus `variables`."""
    ours = documented_production_env()
    inherited = {name: value for name, value in os.environ.items() if name not in ours and "DJANGO_" not in name}
    return {**inherited, "DJANGO_SETTINGS_MODULE": "project.settings", **variables}


def test_check_deploy_reports_no_issues_with_the_documented_production_variables(production_env):
    done = manage(process_env(production_env), "check", "--deploy")
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_a_secret_key_is_taken_as_written(production_env):
    """A key that starts with "$" is not read as the name of another variable."""
    production_env["SECRET_KEY"] = "$" + production_env["SECRET_KEY"]
    code = (
        "import django, os; django.setup(); from django.conf import settings as s;"
        " print(s.SECRET_KEY == os.environ['SECRET_KEY'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=process_env(production_env), capture_output=True, text=True
    )
    assert (done.returncode, done.stdout.strip()) == (0, "True"), done.stderr


def test_check_deploy_warns_without_them():
    bare = {"DEBUG": "false", "SECRET_KEY": documented_production_env()["SECRET_KEY"], "ALLOWED_HOSTS": HOST}
    done = manage(process_env(bare), "check", "--deploy")
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr


@pytest.fixture(scope="module")
def gunicorn(mongo_uri, tmp_path_factory) -> Iterator[str]:
    """gunicorn serving project.wsgi with the production variables, after collectstatic; its URL."""
    folder = tmp_path_factory.mktemp("gunicorn")
    with process_database(folder) as database_url:
        yield from serve(mongo_uri, folder, database_url)


def serve(mongo_uri: str, folder: Path, database_url: str) -> Iterator[str]:
    env = process_env(
        {
            **documented_production_env(),
            "STATIC_ROOT": str(folder / "static"),
            "BULKADMIN_JOBS_DIR": str(folder / "jobs"),
            "MONGODB_URI": mongo_uri,
            "DATABASE_URL": database_url,
        }
    )
    collected = manage(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "project.wsgi", "--bind", f"127.0.0.1:{port}", "--threads", "2"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"gunicorn exited: {server.stdout.read()}"
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not start listening within 60 s"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_gunicorn_serves_the_sign_in_page_and_the_admin_css_at_debug_false(gunicorn):
    page = httpx.get(f"{gunicorn}/admin/login/", headers=HTTPS)
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="csrfmiddlewaretoken"' in page.text
    assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert "secure" in page.headers["set-cookie"].lower()  # the CSRF cookie
    css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page.text)
    assert css, "the page links the admin's CSS by its hashed name"

    stylesheet = httpx.get(f"{gunicorn}{css.group(1)}", headers=HTTPS)
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert "max-age=315360000" in stylesheet.headers["cache-control"]
    assert "#header" in stylesheet.text


def test_gunicorn_redirects_plain_http_except_the_health_endpoint(gunicorn):
    plain = httpx.get(f"{gunicorn}/admin/login/", headers={"Host": HOST})
    assert plain.status_code == 301 and plain.headers["location"] == f"https://{HOST}/admin/login/"
    health = httpx.get(f"{gunicorn}/healthz", headers={"Host": HOST})
    assert health.status_code == 200 and health.json() == {"database": "ok", "mongodb": "ok"}
    assert httpx.get(f"{gunicorn}/healthz", headers={"Host": "elsewhere.example.net"}).status_code == 400


def test_debug_false_without_a_mongodb_uri_refuses_to_start_the_embedded_server(tmp_path):
    variables = {**documented_production_env(), "MONGODB_URI": "", "VAR_DIR": str(tmp_path)}
    code = "from bulkadmin.core.mongo import get_db; get_db()"
    done = manage(process_env(variables), "shell", "-c", code)
    assert done.returncode != 0
    assert "MONGODB_URI is not set and DEBUG is false" in done.stderr
    assert not (tmp_path / "mongo.json").exists()  # no server was started
    allowed = manage(process_env({**variables, "BULKADMIN_ALLOW_EMBEDDED": "true"}), "shell", "-c", code)
    assert allowed.returncode == 0, allowed.stderr
    manage(process_env({**variables, "BULKADMIN_ALLOW_EMBEDDED": "true"}), "mongo_server", "stop")
