"""An insert-mode dry run reports what a real run would refuse as duplicate keys (already stored,
or earlier in the file), so its counts equal the real run's on the same data."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import files
from bulkadmin.jobs.imports import import_file
from bulkadmin.models import Job
from project.collections import User
from tests.factories import users
from tests.imports.conftest import user_rows, write_csv

pytestmark = pytest.mark.django_db
COUNTED = ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed")


def counts(result) -> dict[str, int]:
    return {name: result.counts[name] for name in COUNTED}


def mixed_file(tmp_path):
    """10,000 rows: 987 emails already stored, 40 repeating earlier rows of the file, 5 invalid."""
    rows = user_rows(10_000)
    for number in range(40):
        rows[9_000 + number] = f"Again {number},user{5_000 + number}@example.com,30"
    for number in range(5):
        rows[100 + number] = f"Bad {number},bad{number}@example.com,x"
    return write_csv(tmp_path / "mixed.csv", "name,email,age", rows)


def test_a_dry_run_insert_counts_exactly_what_the_real_run_does(db, tmp_path):
    bulk_insert(User, users(987, start=2_000), db=db)
    path = mixed_file(tmp_path)

    dry = import_file(model=User, source=path, dry_run=True, batch_size=700)
    out = io.StringIO()
    with pytest.raises(CommandError, match="failed"):
        call_command("import_csv", "users", str(path), "--dry-run", "--batch-size", "300", stdout=out, stderr=out)
    command = Job.objects.latest("pk")
    real = import_file(model=User, source=path, batch_size=1000)

    expected = {"rows": 10_000, "inserted": 8_968, "rejected": 5, "failed": 1_027}
    assert counts(dry) == counts(real) == {**dict.fromkeys(COUNTED, 0), **expected}
    assert {name: command.counts[name] for name in COUNTED} == counts(real)
    assert db.users.count_documents({}) == 987 + 8_968
    assert [e.outcome for e in dry.errors[:6]] == ["rejected"] * 5 + ["failed"]
    assert dry.errors[5].message == "duplicate key (email): already in the collection"
    with files.storage().open(command.error_file, "rb") as stored:
        error_file = stored.read().decode("utf-8")
    assert error_file.count("duplicate key (email): earlier in the file") == 40
    assert error_file.count("duplicate key (email): already in the collection") == 987


def test_a_dry_run_flags_a_files_own_id_already_stored_and_repeated(db, tmp_path):
    stored = bulk_insert(User, users(1), db=db)
    assert stored.inserted == 1
    known = db.users.find_one()["_id"]
    rows = [f"{known},A,a@example.com,1", "65a000000000000000000001,B,b@example.com,2"]
    rows.append("65a000000000000000000001,C,c@example.com,3")
    path = write_csv(tmp_path / "ids.csv", "_id,name,email,age", rows)
    dry = import_file(model=User, source=path, dry_run=True)
    real = import_file(model=User, source=path)
    assert counts(dry) == counts(real)
    assert (dry.counts.inserted, dry.failed) == (1, 2)
    assert [e.message for e in dry.errors] == [
        "duplicate key (id): already in the collection",
        "duplicate key (id): earlier in the file",
    ]
