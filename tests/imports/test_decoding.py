"""Decoding never silently changes text: a mostly-UTF-8 file stays UTF-8 and its undecodable lines
are rejected rows; only a file that is not UTF-8 is re-read in another encoding; encodings a user
names must be text encodings."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bulkadmin.jobs import import_file
from bulkadmin.operations.imports import ImportFileError
from bulkadmin.operations.imports.preview import preview_file
from bulkadmin.operations.imports.readers import CsvReader
from bulkadmin.operations.imports.sources import (
    SAMPLE_SIZE,
    UnknownEncoding,
    check_encoding,
    detect,
    open_source,
)
from project.collections import User
from tests.processes import manage_environment

NOT_TEXT_ENCODINGS = ("zlib_codec", "base64", "hex", "uu", "bz2", "rot13", "idna", "punycode", "undefined")
ROOT = Path(__file__).resolve().parents[2]
SPECIAL_CODECS = ("unicode_escape", "raw_unicode_escape", "charmap")


def joerg_file(path: Path, rows: int = 300, bad_row: int = 150) -> Path:
    """`rows` users named Jörg (UTF-8); row `bad_row` (1-based) holds a stray \\xc3 byte."""
    lines = [b"name,email"]
    for n in range(1, rows + 1):
        name = b"J\xc3rg" if n == bad_row else "Jörg".encode()
        lines.append(name + f",user{n}@example.com".encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def call(*arguments: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_csv", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_one_stray_byte_in_a_utf8_file_rejects_its_line_and_keeps_the_others_intact(db, tmp_path):
    path = joerg_file(tmp_path / "joerg.csv")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"^1 row\(s\) rejected \(job \d+\); first at line 151: ") as raised:
        call_command("import_csv", "users", str(path), stdout=out, stderr=err)
    assert "column 'name': bytes not valid utf-8 at byte 2 (\\xc3)" in str(raised.value)
    assert "300 rows read: 299 inserted, 0 updated, 0 unchanged, 0 deleted, 1 rejected, 0 failed" in out.getvalue()
    assert "read as utf-8 (detected: mostly UTF-8; lines with invalid bytes (first: line 151)" in out.getvalue()
    assert db.users.count_documents({}) == 299
    assert db.users.count_documents({"name": "Jörg"}) == 299
    assert db.users.find_one({"email": "user150@example.com"}) is None


def test_a_file_that_is_not_utf8_is_read_as_cp1252_and_says_why():
    sample = ("name,email\n" + "Jörg,j@example.com\n" * 20).encode("cp1252")
    detected = detect(sample, at_eof=True)
    assert detected.encoding == "cp1252"
    assert detected.reason == "detected: not UTF-8: 20 of 21 sampled lines hold invalid bytes, first line 2"


def test_a_stray_byte_without_any_utf8_text_reads_as_a_single_byte_encoding():
    """No line shows UTF-8 multi-byte characters: the bytes are read as cp1252 text, and said so."""
    sample = b"name\n" + b"Ada\n" * 200 + b"Fran\xe7ois\n"
    assert detect(sample, at_eof=True).encoding == "cp1252"


def test_more_bad_lines_than_utf8_lines_mean_the_file_is_not_utf8():
    sample = ("name\n" + "Jörg\n" * 3).encode() + b"Fran\xe7ois\n" * 4
    assert detect(sample, at_eof=True).encoding == "cp1252"


def test_many_bad_lines_among_more_utf8_lines_are_rejected_not_re_decoded():
    sample = ("name\n" + "Jörg\n" * 100).encode() + b"J\xc3rg\n" * 40
    detected = detect(sample, at_eof=True)
    assert (detected.encoding, detected.notable) == ("utf-8", True)


@pytest.mark.django_db
def test_a_bad_byte_after_the_sample_rejects_its_line_without_re_decoding(db, tmp_path):
    rows = SAMPLE_SIZE // 24  # 27-30 bytes a row: the bad row lies beyond the sample
    path = joerg_file(tmp_path / "late.csv", rows=rows, bad_row=rows - 5)
    assert path.read_bytes().index(b"J\xc3r") > SAMPLE_SIZE
    result = import_file(model=User, source=path)
    assert (result.rows, result.counts.inserted, result.counts.rejected) == (rows, rows - 1, 1)
    assert result.details["encoding"] == "utf-8"
    assert result.errors[0].line == rows - 5 + 1
    assert "bytes not valid utf-8 at byte 2 (\\xc3)" in result.errors[0].message
    assert db.users.count_documents({"name": "Jörg"}) == rows - 1


def test_a_bad_byte_at_line_500000_is_that_lines_problem(tmp_path):
    """The reader alone, on a 500,000-line file: the one undecodable line is a rejected record."""
    path = tmp_path / "big.csv"
    with path.open("wb") as file:
        file.write(b"name,email\n")
        file.writelines(f"J\xf6rg,u{n}@example.com\n".encode() for n in range(2, 500_000))
        file.write(b"J\xc3rg,last@example.com\n")
    source = open_source(path)
    try:
        assert detect(source.sample, source.at_eof).encoding == "utf-8"
        problems = [(r.line, r.problem) for r in CsvReader(source, "utf-8", ",") if r.problem]
    finally:
        source.close()
    assert problems == [
        (500_000, "column 'name': bytes not valid utf-8 at byte 2 (\\xc3); if the file is not utf-8, pass --encoding")
    ]


@pytest.mark.django_db
def test_a_bad_ndjson_line_names_the_byte(db, tmp_path):
    path = tmp_path / "people.ndjson"
    good = [f'{{"name": "Jörg", "email": "u{n}@example.com"}}'.encode() for n in range(20)]
    path.write_bytes(b"\n".join([*good, b'{"name": "J\xc3rg", "email": "bad@example.com"}']) + b"\n")
    result = import_file(model=User, source=path)
    assert (result.rows, result.counts.inserted, result.counts.rejected) == (21, 20, 1)
    assert result.errors[0].line == 21
    assert result.errors[0].message.startswith("bytes not valid utf-8 at byte 12 (\\xc3)")
    assert db.users.count_documents({"name": "Jörg"}) == 20


@pytest.mark.django_db
@pytest.mark.parametrize("name", NOT_TEXT_ENCODINGS + SPECIAL_CODECS)
def test_the_command_refuses_an_encoding_that_is_not_a_text_encoding(db, name):
    with pytest.raises(CommandError, match=f"--encoding: '{name}' is not a text encoding"):
        call("users", str(Path(__file__).parent / "corpus" / "bom.csv"), "--encoding", name)
    assert db.users.count_documents({}) == 0


@pytest.mark.parametrize("name", NOT_TEXT_ENCODINGS + SPECIAL_CODECS)
def test_the_web_forms_check_refuses_them_naming_the_field(name):
    with pytest.raises(UnknownEncoding, match=f"^'{name}' is not a text encoding") as raised:
        check_encoding(name, option="encoding")
    assert (raised.value.option, raised.value.encoding) == ("encoding", name)


@pytest.mark.parametrize("name", NOT_TEXT_ENCODINGS)
def test_the_preview_refuses_them_with_a_message_not_a_crash(name):
    with pytest.raises(ImportFileError, match="is not a text encoding"):
        preview_file(model=User, path=Path(__file__).parent / "corpus" / "bom.csv", encoding=name)


@pytest.mark.parametrize(
    ("name", "codec"),
    [("utf8", "utf-8"), ("UTF-16", "utf-16"), ("latin1", "iso8859-1"), ("cp1252", "cp1252"), ("cp037", "cp037")],
)
def test_text_encodings_are_accepted_by_their_codec_name(name, codec):
    assert check_encoding(name) == codec


def test_an_unknown_encoding_names_the_option():
    with pytest.raises(UnknownEncoding, match="^Unknown encoding 'klingon'") as raised:
        check_encoding("klingon")
    assert raised.value.option == "encoding"


@pytest.mark.django_db
@pytest.mark.subprocess
def test_a_real_process_exits_1_on_the_joerg_file(db, mongo_uri, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'django.sqlite3'}"
    env = manage_environment(
        mongo_uri=mongo_uri, database=db.name, database_url=database_url, jobs_dir=tmp_path / "jobs"
    )
    path = joerg_file(tmp_path / "joerg.csv")
    command = [sys.executable, "manage.py", "import_csv", "users", str(path)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "300 rows read: 299 inserted" in done.stdout
    assert "CommandError: 1 row(s) rejected (job 1); first at line 151: " in done.stderr
    assert db.users.count_documents({"name": "Jörg"}) == 299


@pytest.mark.django_db
def test_a_json_array_with_a_stray_byte_fails_as_a_whole_naming_the_item_not_re_decoded(db, tmp_path):
    path = tmp_path / "people.json"
    items = [f'{{"name": "Jörg", "email": "u{n}@example.com"}}'.encode() for n in range(20)]
    path.write_bytes(b"[" + b",\n".join([*items, b'{"name": "J\xc3rg", "email": "bad@example.com"}']) + b"]")
    with pytest.raises(ImportFileError, match=r"^Invalid JSON after item 20: .*invalid bytes in UTF8 string"):
        import_file(model=User, source=path)
    assert db.users.count_documents({"name": {"$ne": "Jörg"}}) == 0
