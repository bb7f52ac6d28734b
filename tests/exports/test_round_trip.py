"""Export then `import_csv --mode merge --key` of the same file changes nothing, in every format:
hostile text (formula-like, tabs, newlines, emoji, quotes), "" next to null, floats, big
integers and dates to the millisecond, and every collection of the demo data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management.base import CommandError

from bulkadmin.bulk import bulk_insert
from project.collections import ApplicationLog, FileRecord, User
from project.demo_data import DEMO_MODELS, seed_demo
from tests.exports.conftest import FORMATS, changes, export, merge_back, snapshot

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = [
    "=1+1",
    "+x",
    "-y",
    "@z",
    '=HYPERLINK("http://x","y")',
    "'=already guarded",
    "''+two quotes",
    "O'Brien",
    "'quoted'",
    "'",
    "tab\tinside",
    "new\nline",
    "windows\r\nline",
    "🎉 party 🧪",
    'comma, and "quotes"',
    "[not a list]",
    "{not an object}",
    "null",
    "true",
    "12",
]
MS = dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=dt.UTC)


def hostile_users(fmt: str) -> list[dict]:
    """Users holding hostile text; `external_id` (int | str) holds an integer too, except in CSV and
    TSV, whose cells cannot say whether `7` was a number or a text."""
    ids = ["", None, "-5", "@x", "=1", "\t", "  ", "7" if fmt in ("csv", "tsv") else 7]
    users = []
    for number, name in enumerate(HOSTILE_NAMES):
        if fmt == "xlsx":  # a worksheet reads a carriage return as a line feed: XLSX refuses it (tested below)
            name = name.replace("\r", "")
        users.append(
            {
                "name": name,
                "email": f"user{number}@example.com",
                "age": None if number % 3 == 0 else number,
                "tier": None if number % 2 else "gold",
                "discount": 0.1 + 0.2 if number % 2 else 0.0,
                "total_spent": 1e300 if number == 1 else 12345678.901234567 * number,
                "external_id": ids[number % len(ids)],
                "profile": [None, {"bio": "", "avatar_url": None}, {"bio": "=cmd|' /C calc'!A0", "avatar_url": ""}][
                    number % 3
                ],
                "tags": [[], ["=a", "b,c", ""], ["🎉", "-x"]][number % 3],
                "created_at": MS - dt.timedelta(days=number, milliseconds=number),
                "last_login": None if number % 4 == 0 else MS + dt.timedelta(milliseconds=number),
            }
        )
    return users


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_users_round_trip_unchanged(db, tmp_path, fmt):
    assert bulk_insert(User, hostile_users(fmt), db=db).inserted == len(HOSTILE_NAMES)
    before = snapshot(db, "users")
    path = tmp_path / f"users.{fmt}"
    out, _ = export("users", str(path))
    assert out.startswith(f"users: {len(HOSTILE_NAMES)} documents exported to {path}")

    counts = merge_back(User, path)

    assert changes(before, snapshot(db, "users")) == []
    assert (counts["rows"], counts["inserted"], counts["updated"], counts["unchanged"]) == (
        len(HOSTILE_NAMES),
        0,
        0,
        len(HOSTILE_NAMES),
    )
    assert (counts["rejected"], counts["failed"]) == (0, 0)
    assert changes(before, snapshot(db, "users")) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_text_that_is_not_stripped_round_trips_unchanged(db, tmp_path, fmt):
    texts = [*HOSTILE_NAMES, "\tleading tab", "\rleading cr", "", " ", "  spaced  ", "\n", "'  "]
    if fmt == "xlsx":
        texts = [text for text in texts if "\r" not in text]
    bulk_insert(ApplicationLog, [{"message": text, "created_at": MS} for text in texts], db=db)
    before = snapshot(db, "application_logs")
    path = tmp_path / f"logs.{fmt}"
    export("application_logs", str(path))

    counts = merge_back(ApplicationLog, path)

    assert changes(before, snapshot(db, "application_logs")) == []
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 0, len(texts))


@pytest.mark.parametrize("fmt", FORMATS)
def test_big_integers_round_trip_unchanged(db, tmp_path, fmt):
    sizes = [0, 2**53 + 1, 10**15, 10**15 - 1, 2**63 - 1]
    documents = [{"path": f"=f{n}", "size": size, "file_type": "temporary"} for n, size in enumerate(sizes)]
    bulk_insert(FileRecord, documents, db=db)
    before = snapshot(db, "file_records")
    path = tmp_path / f"files.{fmt}"
    export("file_records", str(path))

    counts = merge_back(FileRecord, path)

    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 0, len(sizes))
    assert snapshot(db, "file_records") == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_demo_collection_round_trips_unchanged(db, tmp_path, fmt):
    seeded = seed_demo(users=60, seed=7, db=db).counts
    for model in DEMO_MODELS:
        before = snapshot(db, model.collection)
        path = tmp_path / f"{model.collection}.{fmt}"
        export(model.collection, str(path))

        counts = merge_back(model, path)

        total = seeded[model.collection]
        assert (counts["rows"], counts["inserted"], counts["updated"], counts["unchanged"]) == (total, 0, 0, total), (
            model
        )
        assert snapshot(db, model.collection) == before, model


def test_xlsx_refuses_a_carriage_return_naming_the_field_and_writes_no_file(db, tmp_path):
    bulk_insert(User, [{"name": "windows\r\nline", "email": "cr@example.com"}], db=db)
    path = tmp_path / "users.xlsx"

    with pytest.raises(CommandError, match=r"profile|name holds a control character or carriage return"):
        export("users", str(path))

    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
