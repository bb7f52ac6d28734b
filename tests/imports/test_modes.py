"""Import modes and options: upsert / merge / delete, dry runs, stop on error, limit, --map,
blanks, error files and the job record."""

from __future__ import annotations

import csv
import tracemalloc

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.jobs.imports import import_file
from bulkadmin.jobs.summaries import summary
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportFileError, ImportOptions
from bulkadmin.operations.imports.errors import KEPT_ERRORS
from project.collections import FileRecord, User
from tests.factories import users
from tests.imports.conftest import counts, user_rows, write_csv

pytestmark = pytest.mark.django_db


def test_merge_sets_only_the_files_fields_and_blanks_become_defaults(db, tmp_path):
    bulk_insert(User, users(3, age=33, tier="gold"))
    path = write_csv(
        tmp_path / "m.csv",
        "email,age,tier",
        ["user0@example.com,40,", "user1@example.com,33,gold", "new@example.com,5,silver"],
    )
    result = import_file(model=User, source=path, mode="merge")
    assert counts(result) == (3, 0, 1, 1, 0, 1, 0)  # new@ has no name: rejected
    assert result.errors[0].field == "name"
    user0 = db.users.find_one({"email": "user0@example.com"})
    assert (user0["name"], user0["age"], user0["tier"]) == ("User 0", 40, None)  # blank tier -> its default


def test_merge_with_ignore_blanks_leaves_fields_alone(db, tmp_path):
    bulk_insert(User, users(1, tier="gold"))
    path = write_csv(tmp_path / "m.csv", "email,age,tier", ["user0@example.com,40,"])
    result = import_file(model=User, source=path, mode="merge", ignore_blanks=True)
    assert counts(result) == (1, 0, 1, 0, 0, 0, 0)
    assert db.users.find_one()["tier"] == "gold"


def test_upsert_replaces_whole_documents_by_key(db, tmp_path):
    bulk_insert(User, users(2, tier="gold"))
    path = write_csv(tmp_path / "u.csv", "name,email", ["Renamed,user0@example.com", "Fresh,fresh@example.com"])
    result = import_file(model=User, source=path, mode="upsert")
    assert counts(result) == (2, 1, 1, 0, 0, 0, 0)
    assert result.details["mode"] == "upsert"
    user0 = db.users.find_one({"email": "user0@example.com"})
    assert (user0["name"], user0["tier"]) == ("Renamed", None)


def test_an_older_jobs_replace_mode_is_read_as_upsert():
    stored = {"source": "u.csv", "mode": "replace", "key_fields": ["email"]}
    assert ImportOptions.from_parameters(stored).mode == "upsert"


def test_delete_by_key_counts_missing_keys_as_not_found(db, tmp_path):
    bulk_insert(User, users(3))
    path = write_csv(tmp_path / "d.csv", "email,name", ["user0@example.com,whatever", "nobody@example.com,x"])
    result = import_file(model=User, source=path, mode="delete")
    assert counts(result) == (2, 0, 0, 1, 1, 0, 0)
    assert "1 not found" in summary(result)
    assert db.users.count_documents({}) == 2


def test_key_option_and_models_without_keys(db, tmp_path):
    path = write_csv(tmp_path / "f.csv", "path,size", ["/a,1"])
    with pytest.raises(InvalidSpec, match="declares no key fields"):
        import_file(model=FileRecord, source=path, mode="merge")
    with pytest.raises(InvalidSpec, match="Only the upsert, merge and delete modes take key fields") as caught:
        import_file(model=FileRecord, source=path, key_fields=["path"])
    assert caught.value.option == "key_fields" and "--" not in str(caught.value)
    bulk_insert(FileRecord, [{"path": "/a", "size": 0}])
    result = import_file(model="file_records", source=path, mode="merge", key_fields=["path"])
    assert counts(result) == (1, 0, 1, 0, 0, 0, 0)
    assert db.file_records.find_one()["size"] == 1
    assert not Job.objects.filter(status=Job.Status.FAILED).exists()  # option errors start no job


def test_dry_run_insert_validates_without_touching_mongodb(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", [*user_rows(3), "Bad,bad@example.com,x"])
    result = import_file(model=User, source=path, dry_run=True)
    assert counts(result) == (4, 3, 0, 0, 0, 1, 0)
    assert "(dry run: nothing written)" in summary(result)
    assert "users" not in db.list_collection_names() or db.users.count_documents({}) == 0
    assert Job.objects.get().dry_run


def test_dry_run_merge_reports_what_would_change(db, tmp_path):
    bulk_insert(User, users(2))
    path = write_csv(
        tmp_path / "p.csv", "name,email,age", ["User 0,user0@example.com,99", *user_rows(1, 1), "N,n@x.io,1"]
    )
    result = import_file(model=User, source=path, mode="merge", dry_run=True)
    assert counts(result) == (3, 1, 1, 1, 0, 0, 0)
    assert db.users.find_one({"email": "user0@example.com"})["age"] == 20
    assert db.users.count_documents({}) == 2


def test_stop_on_error_stops_at_the_first_bad_row(db, tmp_path):
    rows = user_rows(5)
    rows[2] = "Bad,bad@example.com,x"
    path = write_csv(tmp_path / "s.csv", "name,email,age", rows)
    result = import_file(model=User, source=path, stop_on_error=True, batch_size=2)
    assert counts(result) == (3, 2, 0, 0, 0, 1, 0)
    assert str(result.details["stopped_at"]).startswith("line 4: age:")
    assert db.users.count_documents({}) == 2
    job = Job.objects.get()
    assert job.details["stopped_at"]["line"] == 4
    assert job.message.startswith("Stopped at line 4")


def test_stop_on_error_also_stops_at_a_failed_write(db, tmp_path):
    bulk_insert(User, users(1, start=3))
    path = write_csv(tmp_path / "s.csv", "name,email,age", user_rows(6))
    result = import_file(model=User, source=path, stop_on_error=True, batch_size=10)
    assert counts(result) == (4, 3, 0, 0, 0, 0, 1)
    assert result.details["stopped_at"].outcome == "failed"


def test_limit_reads_only_the_first_rows(db, tmp_path):
    path = write_csv(tmp_path / "l.csv", "name,email,age", user_rows(10))
    assert counts(import_file(model=User, source=path, limit=4, batch_size=3)) == (4, 4, 0, 0, 0, 0, 0)


def test_map_renames_and_drops_columns(db, tmp_path):
    path = write_csv(tmp_path / "m.csv", "Full Name,Mail,Bio,Notes", ["Ada,ada@example.com,Pioneer,ignore me"])
    result = import_file(model=User, source=path, mapping=["Full Name=name", "Mail=email", "Bio=profile.bio", "Notes="])
    assert counts(result) == (1, 1, 0, 0, 0, 0, 0)
    ada = db.users.find_one()
    assert (ada["name"], ada["profile"]["bio"]) == ("Ada", "Pioneer")
    with pytest.raises(ImportFileError, match="The mapping names no column: 'Nope'") as caught:
        import_file(model=User, source=path, mapping=["Nope=name"])
    assert caught.value.option == "mapping"
    with pytest.raises(ImportFileError, match="write HEADER=FIELD"):
        import_file(model=User, source=path, mapping=["Full Name"])


def test_errors_go_to_the_jobs_folder_and_the_first_ones_to_the_job(db, tmp_path, jobs_dir):
    rows = [f"User {n},user{n}@example.com,{'x' if n % 2 else n % 100}" for n in range(2 * KEPT_ERRORS + 20)]
    path = write_csv(tmp_path / "e.csv", "name,email,age", rows)
    result = import_file(model=User, source=path, batch_size=50)
    assert counts(result) == (len(rows), KEPT_ERRORS + 10, 0, 0, 0, KEPT_ERRORS + 10, 0)
    job = Job.objects.get()
    assert (
        result.details["error_file"] == f"{job.pk}/errors.csv" == job.error_file
    )  # its name in the job files' storage
    assert (job.error_count, len(job.errors)) == (KEPT_ERRORS + 10, KEPT_ERRORS)
    problem = "Input should be a valid integer, unable to parse string as an integer"
    assert job.errors[0] == {
        "index": 1,
        "line": 3,
        "field": "age",
        "message": f"age: {problem}",
        "code": 121,
        "kind": "validation",
        "field_errors": [{"field": "age", "message": problem}],
    }
    with open(jobs_dir / str(job.pk) / "errors.csv", newline="", encoding="utf-8") as file:
        written = list(csv.reader(file))
    assert len(written) == KEPT_ERRORS + 11
    assert written[1][1:] == ["User 1", "user1@example.com", "x"]
    assert job.status == Job.Status.PARTIAL
    assert job.counts["rows"] == len(rows)
    assert job.last_committed_row == len(rows)
    assert sum(rows for rows, _ in job.batches) == len(rows)


def test_a_clean_import_writes_no_error_file_unless_one_is_named(db, tmp_path, jobs_dir):
    path = write_csv(tmp_path / "ok.csv", "name,email,age", user_rows(2))
    result = import_file(model=User, source=path)
    assert (result.details["error_file"], result.status) == ("", Job.Status.SUCCEEDED)
    assert not jobs_dir.exists()
    named = tmp_path / "errors.csv"
    named.write_text("stale\n")
    result = import_file(model=User, source=path, errors_path=named, mode="merge")
    assert named.read_text() == "error,name,email,age\n"


def test_a_missing_file_fails_the_job(db, tmp_path):
    with pytest.raises(ImportFileError, match="Cannot open"):
        import_file(model=User, source=tmp_path / "nope.csv")
    assert Job.objects.get().status == Job.Status.FAILED


@pytest.mark.slow
def test_a_100k_row_file_streams_in_flat_memory(db, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write("name,email,age\n")
        for n in range(100_000):
            file.write(f"User {n},user{n}@example.com,{n % 90}\n")
    tracemalloc.start()
    try:
        result = import_file(model=User, source=path, dry_run=True, batch_size=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts(result) == (100_000, 100_000, 0, 0, 0, 0, 0)
    assert peak < 15 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB: rows are being kept"


def test_the_error_file_can_be_fixed_and_imported_again(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,email,age", ["Ada,ada@example.com,x", *user_rows(2)])
    errors = tmp_path / "errors.csv"
    assert import_file(model=User, source=path, errors_path=errors).counts.rejected == 1
    errors.write_text(errors.read_text().replace(",x\n", ",36\n"), encoding="utf-8")
    result = import_file(model=User, source=errors, mapping=["error="])
    assert counts(result) == (1, 1, 0, 0, 0, 0, 0)
    assert db.users.find_one({"email": "ada@example.com"})["age"] == 36


def test_merge_of_a_dotted_column_keeps_the_other_sub_fields(db, tmp_path):
    bulk_insert(User, [{**users(1)[0], "profile": {"bio": "old", "avatar_url": "https://example.com/a.png"}}])
    path = write_csv(tmp_path / "bios.csv", "email,profile.bio", ["user0@example.com,new bio"])
    result = import_file(model=User, source=str(path), mode="merge")
    assert counts(result) == (1, 0, 1, 0, 0, 0, 0)
    assert db.users.find_one()["profile"] == {"bio": "new bio", "avatar_url": "https://example.com/a.png"}
