"""`/healthz`: no sign-in; 200 when Django's database and MongoDB answer, 503 naming what failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.production.conftest import ROOT

pytestmark = [pytest.mark.django_db, pytest.mark.subprocess]


def test_healthy_when_the_database_and_mongodb_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "mongodb": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_unavailable_naming_mongodb_when_it_does_not_answer(client, settings, closed_port):
    settings.MONGODB_URI = f"mongodb://127.0.0.1:{closed_port}/"
    settings.BULKADMIN_HEALTH_TIMEOUT = 0.5
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "mongodb": "failed"}


def test_unavailable_naming_the_database_when_it_does_not_answer(mongo_uri, closed_port):
    """A real process whose DATABASE_URL names a PostgreSQL server that is not there."""
    script = (
        "import django, json; django.setup(); from django.test import Client;"
        " r = Client().get('/healthz'); print(json.dumps([r.status_code, r.json()]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{closed_port}/nothing",
        "MONGODB_URI": mongo_uri,
    }
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [503, {"database": "failed", "mongodb": "ok"}]


def test_the_health_endpoint_answers_only_get(client, db):
    assert client.post("/healthz").status_code == 405
