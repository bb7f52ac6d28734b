"""`import_csv --extended-json` reads back what `export_data --extended-json` and mongoexport write:
every BSON type (ObjectId, dates to the millisecond, Decimal128, Int64, binary, nested documents
and arrays), stored keys (`_id`, aliases) mapped to the model's fields, each bad value rejecting
only its own row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bson
import pytest
from bson import Binary, Decimal128, Int64, ObjectId, json_util
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from django.core.management import call_command
from django.core.management.base import CommandError
from pydantic import BaseModel, Field

from bulkadmin.bulk import bulk_insert
from bulkadmin.core.documents import MongoModel, PyObjectId
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.registry import site
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportOptions, check_import_options
from tests.bson_types import INT32, INT64, type_codes
from tests.exports.conftest import CODEC, changes, export, snapshot

pytestmark = pytest.mark.django_db


class Entry(BaseModel):
    """A sub-document of a declared model."""

    label: str
    at: dt.datetime | None = None


class Ledger(MongoModel):
    """Typed fields, an aliased one (`kind` stored as `type`) and free-form data for the other BSON types."""

    collection = "xjson_ledger"
    key_fields = ("code",)

    code: str
    kind: str = Field(default="plain", alias="type")
    owner: PyObjectId | None = None
    at: dt.datetime
    count: int = 0
    entry: Entry | None = None
    entries: list[Entry] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


MS = dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=dt.UTC)
OWNER = ObjectId("65f0c0ffee0123456789abcd")


def ledger_rows() -> list[dict[str, Any]]:
    """Documents holding every type: dates before 1970 and in year 9999, 64-bit integers (small ones
    too, in a field typed `int` and in free-form data), decimals, binary of four subtypes,
    ObjectIds and documents inside arrays inside documents."""
    return [
        {
            "_id": ObjectId(),
            "code": f"c{number}",
            "type": ["plain", "special"][number % 2],
            "owner": OWNER if number % 2 else None,
            "at": [
                MS,
                dt.datetime(1969, 7, 20, 20, 17, 40, 123000, tzinfo=dt.UTC),
                dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=dt.UTC),
            ][number % 3],
            "count": [2**40 + number, -(2**62), 7, Int64(number), Int64(2**31 - 1), Int64(-(2**31))][number % 6],
            "entry": None if number % 2 else {"label": f"e{number}", "at": MS - dt.timedelta(milliseconds=number)},
            "entries": [{"label": "x", "at": None}, {"label": "y", "at": MS}][: number % 3],
            "tags": ["a", "b"][: number % 3],
            "data": {
                "price": Decimal128("12.30"),
                "tiny": Decimal128("-1E-6176"),
                "big": Int64(2**40),
                "small": Int64(5),
                "longs": [Int64(0), 1, Int64(-1)],
                "double": 0.1 + 0.2,
                "negative_zero": -0.0,
                "raw": b"\x00\xffbytes",
                "uuid": uuid.UUID("30313233-3435-3637-3839-616263646566"),
                "md5": Binary(b"0123456789abcdef", 5),
                "custom": Binary(b"\x01\x02", 0x80),
                "nested": {
                    "ids": [OWNER, ObjectId()],
                    "when": [MS, None],
                    "deep": {"d": Decimal128("1E+10"), "n": Int64(-(2**40)), "m": Int64(7)},
                },
                "text": '🎉 "quoted" $not an operator',
            },
        }
        for number in range(12)
    ]


@pytest.fixture
def ledger(db) -> Iterator[list[bytes]]:
    """The ledger collection, registered and filled; its snapshot."""
    site.register(Ledger)
    try:
        result = bulk_insert(Ledger, ledger_rows(), db=db)
        assert result.inserted == 12
        yield snapshot(db, Ledger.collection)
    finally:
        site.unregister(Ledger)


def import_back(path: Path, *arguments: str) -> dict[str, Any]:
    """`import_csv xjson_ledger PATH --extended-json ARGUMENTS`; the import job's counts."""
    call_command("import_csv", Ledger.collection, str(path), "--extended-json", *arguments, stdout=io.StringIO())
    counts: dict[str, Any] = Job.objects.filter(kind=Job.Kind.IMPORT).order_by("-id").first().counts  # type: ignore[union-attr]
    return counts


def failing_import(path: Path, *arguments: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An import with bad rows: its counts and its errors as kept on the job."""
    with pytest.raises(CommandError):
        import_back(path, *arguments)
    job = Job.objects.filter(kind=Job.Kind.IMPORT).order_by("-id").first()
    return job.counts, job.errors  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_an_extended_json_export_merges_back_unchanged(db, tmp_path, ledger, fmt):
    path = tmp_path / f"ledger.{fmt}"
    export(Ledger.collection, str(path), "--extended-json")
    assert '"$numberDecimal": "12.30"' in path.read_text() and '"_id": {"$oid": ' in path.read_text()

    counts = import_back(path, "--mode", "merge", "--key", "code")

    assert (counts["rows"], counts["unchanged"], counts["updated"], counts["rejected"]) == (12, 12, 0, 0)
    assert changes(ledger, snapshot(db, Ledger.collection)) == []


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_an_extended_json_export_recreates_the_same_documents_in_an_empty_collection(db, tmp_path, ledger, fmt):
    path = tmp_path / f"ledger.{fmt}"
    export(Ledger.collection, str(path), "--extended-json")
    db[Ledger.collection].delete_many({})

    counts = import_back(path, "--mode", "insert")

    assert (counts["rows"], counts["inserted"], counts["rejected"]) == (12, 12, 0)
    after = snapshot(db, Ledger.collection)
    assert changes(ledger, after) == []
    assert after == ledger  # the same `_id`s, values, types and key order


@pytest.mark.parametrize("mode", ["merge", "upsert"])
def test_an_extended_json_export_matched_on_id_is_unchanged(db, tmp_path, ledger, mode):
    """`--key id` (a collection without key fields) matches the file's stored `_id`."""
    path = tmp_path / "ledger.ndjson"
    export(Ledger.collection, str(path), "--extended-json")

    counts = import_back(path, "--mode", mode, "--key", "id")

    assert (counts["unchanged"], counts["updated"], counts["inserted"], counts["rejected"]) == (12, 0, 0, 0)
    assert changes(ledger, snapshot(db, Ledger.collection)) == []


def test_small_int64_values_are_stored_as_int64_by_insert_and_merge(db, tmp_path):
    """`{"$numberLong": "5"}` is stored as a 64-bit integer (BSON 0x12), in a field typed `int` and
    in free-form data, by an insert into an empty collection and by a merge that changes it;
    `{"$numberInt": ...}` stays 32-bit; the export then holds exactly the stored bytes."""
    at = {"$date": "2024-01-01T00:00:00Z"}
    first = {"code": "a", "at": at, "count": {"$numberLong": "5"}, "data": {"n": {"$numberLong": "-3"}, "i": 4}}
    rows = [first, {"code": "b", "at": at, "count": {"$numberInt": "6"}, "data": {"n": [{"$numberLong": "0"}, 1]}}]
    changed = [first, {"code": "b", "at": at, "count": {"$numberLong": "2147483647"}}]
    (tmp_path / "rows.ndjson").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (tmp_path / "changed.ndjson").write_text("".join(json.dumps(row) + "\n" for row in changed))
    site.register(Ledger)
    try:
        assert import_back(tmp_path / "rows.ndjson", "--mode", "insert")["inserted"] == 2
        assert [stored_types(document) for document in raw_documents(db)] == [
            ("a", INT64, {"n": INT64, "i": INT32}),
            ("b", INT32, {"n": [INT64, INT32]}),
        ]
        assert exported_bytes(tmp_path) == [document.raw for document in raw_documents(db)]

        counts = import_back(tmp_path / "changed.ndjson", "--mode", "merge", "--key", "code")

        assert (counts["unchanged"], counts["updated"], counts["rejected"]) == (1, 1, 0)
        assert [stored_types(document) for document in raw_documents(db)] == [
            ("a", INT64, {"n": INT64, "i": INT32}),
            ("b", INT64, {"n": [INT64, INT32]}),
        ]
        assert raw_documents(db)[1]["count"] == 2**31 - 1
        assert exported_bytes(tmp_path) == [document.raw for document in raw_documents(db)]
    finally:
        site.unregister(Ledger)


def test_the_python_api_stores_a_small_int64_given_to_an_int_field_as_int64(db, ledger):
    codes = [type_codes(document)["count"] for document in ledger]
    assert codes == [INT64, INT64, INT32, INT64, INT64, INT64] * 2  # 2**40 + n, -(2**62), 7, then Int64s


def raw_documents(db) -> list[RawBSONDocument]:
    """The ledger's documents in `code` order, as the server's raw BSON."""
    options = CodecOptions(document_class=RawBSONDocument)
    return list(db.get_collection(Ledger.collection, codec_options=options).find().sort("code", 1))


def stored_types(document: RawBSONDocument) -> tuple[str, int, dict[str, Any]]:
    codes = type_codes(document.raw)
    return document["code"], codes["count"], codes["data"]


def exported_bytes(tmp_path: Path) -> list[bytes]:
    """`export_data --extended-json` of the ledger, each document read back and encoded as BSON."""
    path = tmp_path / "export.ndjson"
    export(Ledger.collection, str(path), "--extended-json", "--sort", "code")
    options = json_util.CANONICAL_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)
    return [bson.encode(json_util.loads(line, json_options=options)) for line in path.read_text().splitlines()]


def test_an_extended_json_export_deletes_by_id(db, tmp_path, ledger):
    path = tmp_path / "ledger.json"
    export(Ledger.collection, str(path), "--extended-json", "--filter", '{"type": "special"}')

    counts = import_back(path, "--mode", "delete", "--key", "id")

    assert (counts["deleted"], counts["rejected"]) == (6, 0)
    assert sorted(doc["code"] for doc in db[Ledger.collection].find()) == [f"c{n}" for n in (0, 10, 2, 4, 6, 8)]


@pytest.mark.parametrize("mode", ["relaxed", "canonical", "legacy"])
def test_mongoexport_output_in_each_mode_is_read(db, tmp_path, ledger, mode):
    """mongoexport writes one document per line (relaxed by default, canonical with
    `--jsonFormat canonical`; versions before 4.2 the legacy form), stored keys included. Relaxed
    and legacy write an Int64 as a plain number, which reads back as a 32-bit integer when it
    fits (as mongoimport reads it): what is stored is exactly what the file says."""
    options = {
        "relaxed": json_util.RELAXED_JSON_OPTIONS,
        "canonical": json_util.CANONICAL_JSON_OPTIONS,
        "legacy": json_util.LEGACY_JSON_OPTIONS,
    }[mode].with_options(uuid_representation=UuidRepresentation.STANDARD)
    stored = list(db[Ledger.collection].find().sort("_id", 1))
    lines = [json_util.dumps(document, json_options=options) for document in stored]
    path = tmp_path / "mongoexport.json"
    path.write_text("".join(line + "\n" for line in lines))
    db[Ledger.collection].delete_many({})

    counts = import_back(path, "--format", "ndjson")

    assert (counts["inserted"], counts["rejected"]) == (12, 0)
    as_written = [bson.encode(json_util.loads(line, json_options=options), codec_options=CODEC) for line in lines]
    assert changes(as_written, snapshot(db, Ledger.collection)) == []
    assert (as_written == ledger) is (mode == "canonical")


def test_mongoexport_relaxed_text_as_written_is_read(db, tmp_path):
    """A line as mongoexport 100.x writes it by default (relaxed: plain numbers, ISO dates, a date
    before 1970 as milliseconds), and a `--jsonArray` file of the same."""
    line = (
        '{"_id":{"$oid":"65f0c0ffee0123456789abce"},"code":"m1","type":"special","owner":{"$oid":"65f0c0ffee0123456789abcd"},'
        '"at":{"$date":"2024-02-29T23:59:59.999Z"},"count":1099511627776,"entry":{"label":"e","at":{"$date":{"$numberLong":"-14182940000"}}},'
        '"entries":[],"tags":["a"],"data":{"price":{"$numberDecimal":"12.30"},"raw":{"$binary":{"base64":"AP8=","subType":"00"}},'
        '"ratio":0.5,"small":7}}'
    )
    site.register(Ledger)
    try:
        (tmp_path / "lines.json").write_text(line + "\n")
        assert import_back(tmp_path / "lines.json", "--format", "ndjson")["inserted"] == 1
        stored = db[Ledger.collection].find_one({"code": "m1"})
        assert stored == {
            "_id": ObjectId("65f0c0ffee0123456789abce"),
            "code": "m1",
            "type": "special",
            "owner": OWNER,
            "at": MS,
            "count": 2**40,
            "entry": {"label": "e", "at": dt.datetime(1969, 7, 20, 20, 17, 40, tzinfo=dt.UTC)},
            "entries": [],
            "tags": ["a"],
            "data": {"price": Decimal128("12.30"), "raw": b"\x00\xff", "ratio": 0.5, "small": 7},
        }
        assert type(stored["count"]) is Int64 and type(stored["data"]["small"]) is int

        db[Ledger.collection].delete_many({})
        (tmp_path / "array.json").write_text("[" + line + "]")
        assert import_back(tmp_path / "array.json")["inserted"] == 1
        assert db[Ledger.collection].find_one({"code": "m1"}) == stored
    finally:
        site.unregister(Ledger)


BAD_VALUES = {
    "a date that is not one": ('"at": {"$date": "not a date"}', "at", "time data 'not a date'"),
    "an ObjectId of bad hex": ('"owner": {"$oid": "zz"}', "owner", "'zz' is not a valid ObjectId"),
    "a decimal of words, nested": ('"data": {"deep": [{"d": {"$numberDecimal": "words"}}]}', "data.deep.0.d", ""),
    "a date type with an extra key": (
        '"entry": {"label": "e", "at": {"$date": "2024-01-01T00:00:00Z", "x": 1}}',
        "entry.at",
        "extra field",
    ),
}


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
@pytest.mark.parametrize("case", BAD_VALUES, ids=list(BAD_VALUES))
def test_a_value_json_util_cannot_read_rejects_only_its_row_naming_the_field(db, tmp_path, fmt, case):
    value, field, said = BAD_VALUES[case]
    rows = [f'{{"code": "r{number}", "at": {{"$date": "2024-01-0{number}T00:00:00Z"}}}}' for number in (1, 2, 3)]
    rows[1] = (
        '{"code": "r2", ' + (value if field == "at" else f'"at": {{"$date": "2024-01-02T00:00:00Z"}}, {value}') + "}"
    )
    path = tmp_path / f"bad.{fmt}"
    path.write_text("[" + ",\n".join(rows) + "]" if fmt == "json" else "\n".join(rows) + "\n")
    site.register(Ledger)
    try:
        counts, errors = failing_import(path)
        assert (counts["rows"], counts["inserted"], counts["rejected"]) == (3, 2, 1)
        [error] = errors
        assert (error["index"] + 1, error["field"]) == (2, field)
        assert error["message"].startswith(f"{field}: not valid Extended JSON (")
        assert said in error["message"]
        assert sorted(doc["code"] for doc in db[Ledger.collection].find()) == ["r1", "r3"]
    finally:
        site.unregister(Ledger)


def test_the_model_still_validates_extended_json_values(db, tmp_path):
    """A well-formed Extended JSON value of the wrong type for its field is the model's rejection."""
    path = tmp_path / "typed.ndjson"
    rows = [
        {"code": "ok", "at": {"$date": "2024-01-01T00:00:00Z"}},
        {"code": {"$oid": "65f0c0ffee0123456789abcd"}, "at": {"$date": "2024-01-01T00:00:00Z"}},
        {"code": "late", "at": {"$date": "2024-01-01T00:00:00Z"}, "count": {"$numberDecimal": "1.5"}},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    site.register(Ledger)
    try:
        counts, errors = failing_import(path, "--errors", str(tmp_path / "errors.csv"))
        assert (counts["inserted"], counts["rejected"]) == (1, 2)
        assert [(error["index"] + 1, error["field"]) for error in errors] == [(2, "code"), (3, "count")]
        # The error file holds each row as Extended JSON again, to be fixed and imported with --extended-json.
        written = list(csv.reader((tmp_path / "errors.csv").open(encoding="utf-8")))
        assert [json.loads(row[1]) for row in written[1:]] == [
            {"code": {"$oid": "65f0c0ffee0123456789abcd"}, "at": {"$date": "2024-01-01T00:00:00Z"}},
            {"code": "late", "at": {"$date": "2024-01-01T00:00:00Z"}, "count": {"$numberDecimal": "1.5"}},
        ]
    finally:
        site.unregister(Ledger)


def test_extended_json_is_refused_for_a_tabular_format_naming_the_option(tmp_path):
    with pytest.raises(InvalidSpec) as raised:
        check_import_options(Ledger, source=tmp_path / "x.csv", format="csv", extended_json=True)
    assert raised.value.option == "extended_json"
    assert str(raised.value) == "Extended JSON applies to the JSON and NDJSON formats, not CSV."


def test_a_csv_file_named_with_extended_json_is_refused(db, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("name,email\nAda,ada@example.com\n")
    with pytest.raises(CommandError, match="The extended json option does not apply to CSV files"):
        call_command("import_csv", "users", str(path), "--extended-json", stdout=io.StringIO())
    assert db.users.count_documents({}) == 0


def test_a_resumed_import_reads_extended_json_again(tmp_path):
    checked = check_import_options(Ledger, source=tmp_path / "x.ndjson", extended_json=True)
    assert checked.to_parameters()["extended_json"] is True
    assert ImportOptions.from_parameters(checked.to_parameters()).extended_json is True
