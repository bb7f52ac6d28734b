"""Many small imports in one process: short runs leave the garbage collector as it is, so what
they drop is collected without an explicit full collection (frozen heaps kept it for good)."""

from __future__ import annotations

import gc

import pytest

from bulkadmin.operations.imports import check_import_options, run_import
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db


def test_the_garbage_of_many_small_imports_is_collected_without_an_explicit_collection(db, tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    path = write_csv(tmp_path / "small.csv", "name,email,age", user_rows(3))
    options = check_import_options(User, source=path, dry_run=True)
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(2_000):
        run_import(model=User, options=options, db=db, error_file=tmp_path / "errors.csv")
    grown = len(gc.get_objects()) - before
    gc.collect()
    garbage = len(gc.get_objects()) - before
    assert grown - garbage < 10_000, (grown, garbage)  # 2,000 imports left ~50,000 collectable objects behind
