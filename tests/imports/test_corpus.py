"""The corpus: small files with one difficulty each, imported into `users` with exact counts and
the stored documents checked."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs.imports import import_file
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportFileError
from project.collections import User
from tests.imports.conftest import CORPUS, counts

pytestmark = pytest.mark.django_db


def run(name: str, **options):
    return import_file(model=User, source=CORPUS / name, **options)


def errors(result) -> list[tuple]:
    return [(e.line, e.field, e.outcome) for e in result.errors]


def names(db) -> list[str]:
    return sorted(doc["name"] for doc in db.users.find())


def test_utf8_bom_is_detected_and_not_part_of_the_first_header(db):
    result = run("bom.csv")
    assert counts(result) == (2, 2, 0, 0, 0, 0, 0)
    assert result.details["encoding"] == "utf-8-sig"
    assert db.users.find_one({"email": "ada@example.com"})["name"] == "Ada Lovelace"
    assert result.status == Job.Status.SUCCEEDED


def test_semicolon_delimiter_is_sniffed_and_lists_split(db):
    result = run("semicolon.csv")
    assert counts(result) == (2, 2, 0, 0, 0, 0, 0)
    assert result.details["delimiter"] == ";"
    ada = db.users.find_one({"email": "ada@example.com"})
    assert (ada["tags"], ada["total_spent"]) == (["math", "code"], 12.5)
    assert db.users.find_one({"email": "bob@example.com"})["tags"] == []


def test_latin1_is_detected(db):
    result = run("latin1.csv")
    assert counts(result) == (3, 3, 0, 0, 0, 0, 0)
    assert result.details["encoding"] == "cp1252"
    assert names(db) == ["François", "José Müller", "Zoë Ærø"]


def test_forced_encoding_wins_and_wrong_bytes_are_rejected_rows_not_crashes(db):
    result = run("latin1.csv", encoding="utf-8")
    assert counts(result) == (3, 0, 0, 0, 0, 3, 0)
    assert "not valid utf-8" in result.errors[0].message


def test_utf16_with_tab_delimiter_and_a_comma_in_a_value(db):
    result = run("utf16.csv")
    assert (result.details["encoding"], result.details["delimiter"]) == ("utf-16", "\t")
    assert counts(result) == (1, 1, 0, 0, 0, 0, 0)
    assert names(db) == ["Göran,x"]


def test_quoted_newlines_keep_line_numbers_right(db):
    result = run("quoted_newlines.csv")
    assert counts(result) == (3, 2, 0, 0, 0, 1, 0)
    assert errors(result) == [(6, "email", "rejected")]  # Ada spans lines 2-4, Bob is line 5
    assert db.users.find_one({"email": "ada@example.com"})["profile"]["bio"] == "First line\nsecond line\nthird"
    assert db.users.find_one({"email": "bob@example.com"})["profile"]["bio"] == 'He said "hi"'


def test_ragged_rows_are_rejected_rows(db):
    result = run("ragged.csv")
    assert counts(result) == (4, 2, 0, 0, 0, 2, 0)
    assert [(e.line, e.message) for e in result.errors] == [
        (3, "2 cells, but the header has 3"),
        (4, "4 cells, but the header has 3"),
    ]
    assert names(db) == ["Ada", "Dee"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("duplicate_headers.csv", "line 1: bad header: columns 2 and 4 are both named 'email'"),
        ("missing_header.csv", "line 1: bad header: column 2 has no name"),
        ("missing_required.csv", "line 1: no column for required field(s) name"),
        ("unknown_column.csv", "line 1: column 'shoe_size' is not a field of User"),
    ],
)
def test_header_problems_fail_the_job_before_any_row(db, name, message):
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(name)
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert message in job.message
    assert db.users.count_documents({}) == 0


def test_blank_lines_and_empty_rows_are_skipped(db):
    result = run("blank_lines.csv")
    assert counts(result) == (2, 2, 0, 0, 0, 0, 0)
    assert names(db) == ["Ada", "Bob"]
    assert Job.objects.get().last_committed_row == 2


def test_dotted_headers_build_sub_documents(db):
    result = run("dotted.csv")
    assert counts(result) == (2, 2, 0, 0, 0, 0, 0)
    ada = db.users.find_one({"email": "ada@example.com"})
    assert ada["profile"] == {"bio": "Pioneer", "avatar_url": "https://example.com/ada.png"}
    assert db.users.find_one({"email": "bob@example.com"})["profile"] is None  # blank cells: left out


def test_formula_looking_values_are_stored_as_text_and_neutralised_in_the_error_file(db, tmp_path):
    result = run("formulas.csv", errors_path=tmp_path / "bad.csv")
    assert counts(result) == (3, 1, 0, 0, 0, 2, 0)
    assert db.users.find_one()["name"] == "+cmd"
    with (tmp_path / "bad.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["error", "name", "email", "age"]
    assert rows[1][1:] == ['\'=HYPERLINK("http://evil")', "formula@example.com", "'-1"]
    assert rows[1][0].startswith("line 2: age: Input should be greater than or equal to 0")
    assert rows[2][1:] == ["'@SUM(A1)", "at@example.com", "'+2x"]


def test_wrong_types_are_rejected_naming_every_field(db):
    result = run("wrong_types.csv")
    assert counts(result) == (4, 1, 0, 0, 0, 3, 0)
    assert errors(result) == [(2, "age", "rejected"), (3, "is_active", "rejected"), (4, "status", "rejected")]
    assert all(field in result.errors[2].message for field in ("discount", "last_login", "status"))
    dee = db.users.find_one()
    assert (dee["name"], dee["is_active"], dee["discount"], dee["status"]) == ("Dee", True, 0.0, "young")
    assert dee["last_login"] == dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC)


def test_duplicate_keys_in_the_file_and_in_the_collection_fail_on_insert(db):
    bulk_insert(User, [{"name": "Old", "email": "old@example.com"}])
    result = run("duplicate_keys.csv")
    assert counts(result) == (4, 2, 0, 0, 0, 0, 2)
    assert errors(result) == [(3, None, "failed"), (4, None, "failed")]
    assert "duplicate key (email)" in result.errors[0].message
    assert db.users.count_documents({}) == 3
    assert result.status == Job.Status.PARTIAL


def test_duplicate_keys_upsert_in_file_order(db):
    bulk_insert(User, [{"name": "Old", "email": "old@example.com"}])
    result = run("duplicate_keys.csv", mode="upsert")
    assert counts(result) == (4, 2, 2, 0, 0, 0, 0)
    assert db.users.find_one({"email": "ada@example.com"})["name"] == "Ada Again"
    assert db.users.find_one({"email": "old@example.com"})["name"] == "Existing"
    assert db.users.count_documents({}) == 3


@pytest.mark.parametrize("name", ["empty.csv", "header_only.csv"])
def test_empty_and_header_only_files_import_nothing(db, name):
    result = run(name)
    assert counts(result) == (0, 0, 0, 0, 0, 0, 0)
    assert result.ok
    assert result.status == Job.Status.SUCCEEDED


def test_json_array_is_streamed_with_items_located_by_number(db):
    result = run("people.json")
    assert counts(result) == (4, 2, 0, 0, 0, 2, 0)
    assert [(e.line, e.row, e.field) for e in result.errors] == [(None, 2, "age"), (None, 4, None)]
    assert str(result.errors[1]) == "item 4: expected a JSON object, got int"
    ada = db.users.find_one({"email": "ada@example.com"})
    assert (ada["tags"], ada["profile"]["bio"]) == (["math"], "Pioneer")
    cy = db.users.find_one({"email": "cy@example.com"})
    assert (cy["profile"]["bio"], cy["is_active"]) == ("dotted", False)


def test_ndjson_broken_lines_are_rejected_rows(db):
    result = run("people.ndjson")
    assert counts(result) == (5, 2, 0, 0, 0, 3, 0)
    assert errors(result) == [(3, None, "rejected"), (4, "unknown", "rejected"), (5, None, "rejected")]
    assert result.errors[0].message.startswith("invalid JSON at column")
    assert result.errors[2].message == "expected a JSON object, got list"
    dee = db.users.find_one({"email": "dee@example.com"})
    assert dee["last_login"] == dt.datetime(2026, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


def test_date_format_with_iso_still_accepted(db):
    result = run("dates.csv", date_format="%d/%m/%Y")
    assert counts(result) == (3, 2, 0, 0, 0, 1, 0)
    logins = {doc["email"]: doc["last_login"] for doc in db.users.find()}
    assert logins["ada@example.com"] == dt.datetime(2025, 12, 31, tzinfo=dt.UTC)
    assert logins["bob@example.com"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert result.errors[0].field == "last_login"
    assert "matches neither the date format '%d/%m/%Y' nor ISO 8601" in result.errors[0].message


def test_without_date_format_day_first_dates_are_rejected(db):
    assert counts(run("dates.csv")) == (3, 1, 0, 0, 0, 2, 0)


def test_format_from_extension_or_forced(db):
    assert run("people.tsv").details["delimiter"] == "\t"
    with pytest.raises(ImportFileError, match="Cannot tell the format of"):
        run("pipe.txt")
    result = run("pipe.txt", format="csv")
    assert (result.details["delimiter"], result.counts.inserted) == ("|", 1)
