"""Test settings: the project's settings with a throwaway Django database.

With `DATABASE_URL` set (as `make test` does, pointing at a throwaway PostgreSQL cluster) the tests
use that server, where pytest-django creates and drops a `test_` database; otherwise SQLite in
memory."""

import os

from .settings import *  # noqa: F403
from .settings import env

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run in the request that enqueues them; tests that need the worker override this.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
