"""`manage.py export_data`: filters, fields, sort and limit in the model's vocabulary, errors
naming the option, standard output, Extended JSON, the job row, and formula-safe cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from bson import ObjectId, json_util
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs import figures
from bulkadmin.models import Job
from bulkadmin.operations.cells import FORMULA_STARTS
from project.collections import ApplicationLog, User
from tests.exports.conftest import export

pytestmark = pytest.mark.django_db


def people(count: int = 10) -> list[dict]:
    return [
        {
            "name": f"Person {number}",
            "email": f"p{number}@example.com",
            "age": 20 + number * 5,
            "profile": {"bio": f"bio {number}"},
            "last_login": dt.datetime(2024, 1, 1 + number, tzinfo=dt.UTC),
        }
        for number in range(count)
    ]


def test_a_filtered_export_has_exactly_the_matching_rows_and_the_chosen_columns(db, tmp_path):
    bulk_insert(User, people(), db=db)
    path = tmp_path / "adults.csv"

    out, _ = export("users", str(path), "--filter", '{"age": {"$gte": 40}}', "--fields", "name,email,age")

    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    expected = [[d["name"], d["email"], str(d["age"])] for d in db.users.find({"age": {"$gte": 40}}).sort("_id", 1)]
    assert rows[0] == ["name", "email", "age"]
    assert rows[1:] == expected
    assert len(expected) == 6
    assert out.startswith(f"users: 6 documents exported to {path} (CSV)")


def test_sort_limit_and_sub_document_fields(db, tmp_path):
    bulk_insert(User, people(), db=db)
    path = tmp_path / "latest.tsv"

    export("users", str(path), "--sort", "-last_login", "--limit", "3", "--fields", "email,profile.bio")

    rows = list(csv.reader(path.open(encoding="utf-8", newline=""), delimiter="\t"))
    assert rows == [
        ["email", "profile.bio"],
        ["p9@example.com", "bio 9"],
        ["p8@example.com", "bio 8"],
        ["p7@example.com", "bio 7"],
    ]


def test_standard_output_gets_the_file_and_standard_error_the_summary(db, capfdbinary):
    bulk_insert(User, people(2), db=db)

    out, err = export("users", "-", "--format", "ndjson", "--fields", "email,age")

    written = capfdbinary.readouterr().out.decode()
    assert [json.loads(line) for line in written.splitlines()] == [
        {"email": "p0@example.com", "age": 20},
        {"email": "p1@example.com", "age": 25},
    ]
    assert out == ""
    assert err.startswith("users: 2 documents exported to standard output (NDJSON)")


def test_extended_json_keeps_the_stored_types(db, tmp_path):
    bulk_insert(User, people(2), db=db)
    path = tmp_path / "users.json"

    export("users", str(path), "--extended-json", "--fields", "id,age,last_login,discount")

    aware = json_util.CANONICAL_JSON_OPTIONS.with_options(tz_aware=True)
    items = json_util.loads(path.read_text(encoding="utf-8"), json_options=aware)
    stored = list(db.users.find({}, {"_id": 1, "age": 1, "last_login": 1, "discount": 1}).sort("_id", 1))
    assert items == stored
    text = path.read_text(encoding="utf-8")
    assert '"$oid"' in text and '"$date"' in text and '"$numberInt"' in text and '"$numberDouble"' in text
    assert all(isinstance(item["_id"], ObjectId) for item in items)


def test_the_export_is_a_job_with_its_options_and_count(db, tmp_path):
    bulk_insert(User, people(4), db=db)
    path = tmp_path / "users.xlsx"

    export("users", str(path), "--filter", '{"age": {"$lt": 30}}')

    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert (job.status, job.collection, job.rows_done, job.counts["rows"]) == ("succeeded", "users", 2, 2)
    assert job.parameters == {"file": str(path), "filter": '{"age": {"$lt": 30}}', "batch_size": 1000}
    assert job.message.startswith(f"users: 2 documents exported to {path} (XLSX)")
    assert [(c.label, c.value) for c in figures.counts(job)] == [("documents exported", 2)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--format", "xml"], r"^--format: Unknown format 'xml'; use one of csv, tsv, json, ndjson, xlsx\.$"),
        (["--fields", "name,nope"], r"^--fields: 'nope' is not a field of User \("),
        (["--filter", '{"$where": "sleep(1000)"}'], r"^--filter: .*\$where"),
        (["--filter", "{not json"], r"^--filter: not a JSON object"),
        (["--filter", '{"nope": 1}'], r"^--filter: .*nope"),
        (["--sort", "-nope"], r"^--sort: 'nope' is not a field of User\.$"),
        (["--extended-json"], r"^--extended-json: Extended JSON applies to the JSON and NDJSON formats, not CSV\.$"),
    ],
)
def test_bad_options_are_refused_naming_the_option_before_a_job_starts(db, tmp_path, arguments, message):
    path = tmp_path / "users.csv"

    with pytest.raises(CommandError, match=message):
        export("users", str(path), *arguments)

    assert not path.exists()
    assert not Job.objects.exists()


def test_an_unknown_extension_asks_for_the_format(db, tmp_path):
    with pytest.raises(CommandError, match=r"^--format: Cannot tell the format of '.*users\.txt' from its extension"):
        export("users", str(tmp_path / "users.txt"))


def test_an_unknown_collection_is_named(db, tmp_path):
    with pytest.raises(CommandError, match=r"Unknown collection 'nope'"):
        export("nope", str(tmp_path / "x.csv"))


FORMULAS = ["=1+1", "+x", "-y", "@z", "\tt", "\rr", "'=q"]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx"])
def test_no_text_cell_starts_like_a_formula(db, tmp_path, fmt):
    messages = [text for text in FORMULAS if fmt != "xlsx" or "\r" not in text]
    bulk_insert(ApplicationLog, [{"message": text} for text in messages], db=db)
    path = tmp_path / f"logs.{fmt}"

    export("application_logs", str(path), "--fields", "message")

    if fmt == "xlsx":
        cells = [row[0] for row in load_workbook(path).active.iter_rows(min_row=2, values_only=True)]
    else:
        delimiter = "," if fmt == "csv" else "\t"
        cells = [row[0] for row in list(csv.reader(path.open(encoding="utf-8", newline=""), delimiter=delimiter))[1:]]
    assert cells == ["'" + text for text in messages]
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)


def test_a_read_past_the_user_read_time_limit_stops_the_export_naming_the_filter(db, tmp_path, settings):
    bulk_insert(User, people(), db=db)
    settings.BULKADMIN_USER_READ_MAX_TIME_MS = 1
    path = tmp_path / "users.csv"

    with pytest.raises(
        CommandError, match=r"^--filter: Reading the documents took longer than 0\.001 s and was stopped"
    ):
        export("users", str(path), "--filter", '{"age": {"$gte": 0}}')

    assert not path.exists()
    assert Job.objects.get(kind=Job.Kind.EXPORT).status == Job.Status.FAILED


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_progress_then_the_summary(db, tmp_path):
    bulk_insert(User, people(5), db=db)
    out, err = io.StringIO(), TTY()

    call_command("export_data", "users", str(tmp_path / "users.csv"), "--batch-size", "2", stdout=out, stderr=err)

    assert "\r[" in err.getvalue() and "documents" in err.getvalue() and "docs/s" in err.getvalue()
    assert err.getvalue().endswith("\n")
    assert out.getvalue().startswith("users: 5 documents exported to ")
