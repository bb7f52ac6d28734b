"""Test settings: the project's settings with a throwaway Django database.

With `DATABASE_URL` set (as `make test` does, pointing at a throwaway PostgreSQL cluster) the tests
use that server, where pytest-django creates and drops a `test_` database; otherwise the tests'
database is SQLite in a temporary file of this process (a file, not memory, so that each thread of
a live server has its own connection, as in production, and concurrent requests can be tested;
`tests/conftest.py` starts the live server after that database exists)."""

import os
import tempfile

from .settings import *  # noqa: F403
from .settings import env

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "TEST": {"NAME": os.path.join(tempfile.gettempdir(), f"bulkadmin-test-{os.getpid()}.sqlite3")},
            "OPTIONS": {"timeout": 60, "transaction_mode": "IMMEDIATE"},
        }
    }
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run in the request that enqueues them; tests that need the worker override this.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Django's test runner sets DEBUG=false; the tests run on the embedded server when MONGODB_URI is empty.
BULKADMIN_ALLOW_EMBEDDED = True
