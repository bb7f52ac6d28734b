"""An import's dry run is said in one place, its job's `dry_run` column: not in its parameters."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from bulkadmin.jobs.imports import import_file
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportOptions
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("bulkadmin.migrations.0010_import_parameters_without_dry_run")


def test_a_dry_run_import_is_a_dry_run_by_its_job_column_alone(db, tmp_path):
    path = write_csv(tmp_path / "u.csv", "name,email,age", user_rows(3))
    result = import_file(model=User, source=path, dry_run=True)
    job = Job.objects.get()
    assert (result.dry_run, result.counts.inserted, job.dry_run) == (True, 3, True)
    assert "dry_run" not in job.parameters
    assert db.users.count_documents({}) == 0


def test_options_read_from_a_job_follow_its_column_not_an_older_parameter():
    stored = {"source": "u.csv", "mode": "insert", "dry_run": True}
    assert ImportOptions.from_parameters(stored, dry_run=False).dry_run is False
    assert ImportOptions.from_parameters({"source": "u.csv"}, dry_run=True).dry_run is True
    assert "dry_run" not in ImportOptions(source="u.csv", dry_run=True).to_parameters()


def test_the_migration_removes_the_copy_older_import_jobs_kept():
    older = Job.objects.create(kind="import", dry_run=True, parameters={"source": "u.csv", "dry_run": True})
    sync = Job.objects.create(kind="sync", parameters={"source": "demo", "dry_run": True})
    MIGRATION.drop_dry_run_parameter(apps, None)
    older.refresh_from_db()
    sync.refresh_from_db()
    assert (older.parameters, older.dry_run) == ({"source": "u.csv"}, True)
    assert sync.parameters == {"source": "demo", "dry_run": True}
