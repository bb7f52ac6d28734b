"""CSV text is read a block at a time: rows, cells, line numbers and refusals are the same
wherever a block ends (inside a line end, a quoted cell or a line too long), and a batch's rows
are shaped together with the same documents and ids as row by row."""

from __future__ import annotations

import codecs
import io
from typing import Any

import pytest
from pydantic import create_model

from bulkadmin.core.documents import MongoModel
from bulkadmin.operations.imports import ImportFileError
from bulkadmin.operations.imports.limits import BLOCK_CHARS, LimitExceeded
from bulkadmin.operations.imports.options import check_import_options
from bulkadmin.operations.imports.pipeline import run_import
from bulkadmin.operations.imports.readers import CsvReader, Record
from bulkadmin.operations.imports.shaping import Shaper
from bulkadmin.operations.imports.sources import open_source
from bulkadmin.operations.imports.state import RunIdentity
from project.collections import User
from tests.imports.conftest import counts

pytestmark = pytest.mark.django_db
IDENTITY = RunIdentity(7, 1_700_000_000, "abcdef")
FIRST, AFTER = ("User 0", "user0@example.com"), ("After", "after@example.com")


def rows_up_to(end: int, newline: str = "\n") -> tuple[str, int]:
    """A header and user rows, `end` characters in all (the last row's name padded to fit), and
    how many rows."""
    text, number = f"name,email{newline}", 0
    while end - len(text) - len(f"User {number},user{number}@example.com{newline}") > 60:
        text += f"User {number},user{number}@example.com{newline}"
        number += 1
    row_end = f",pad@example.com{newline}"
    return text + "P" + "a" * (end - len(text) - 1 - len(row_end)) + row_end, number + 1


def records(data: bytes, encoding: str = "utf-8") -> list[Record]:
    return list(CsvReader(open_source(io.BytesIO(data)), encoding, ","))


def imported(db, path) -> list[tuple[str, str]]:
    result = run_import(model=User, options=check_import_options(User, source=path), identity=IDENTITY, db=db)
    assert counts(result)[5:] == (0, 0)  # nothing rejected, nothing failed
    return [(doc["name"], doc["email"]) for doc in db.users.find().sort("_id", 1)]


def test_a_crlf_line_end_split_by_a_block_end_ends_one_line(db, tmp_path):
    text, rows = rows_up_to(BLOCK_CHARS + 1, "\r\n")
    assert text[BLOCK_CHARS - 1 : BLOCK_CHARS + 1] == "\r\n"
    text += "After,after@example.com\r\n"
    found = records(text.encode())
    assert [(r.number, r.line, r.problem) for r in found[-2:]] == [(rows, rows + 1, None), (rows + 1, rows + 2, None)]
    assert found[-1].raw == ["After", "after@example.com"]
    path = tmp_path / "crlf.csv"
    path.write_bytes(text.encode())
    stored = imported(db, path)
    assert (len(stored), stored[0], stored[-1]) == (rows + 1, FIRST, AFTER)


def test_a_quoted_cell_running_across_a_block_end_keeps_its_line_ends(db, tmp_path):
    text, rows = rows_up_to(BLOCK_CHARS - 6)
    text += '"Ada,\r\nLove",ada@example.com\nAfter,after@example.com\n'
    assert text[BLOCK_CHARS - 1 : BLOCK_CHARS + 1] == "\r\n"
    found = records(text.encode())
    assert [(r.number, r.line, r.raw, r.problem) for r in found[-2:]] == [
        (rows + 1, rows + 2, ["Ada,\r\nLove", "ada@example.com"], None),
        (rows + 2, rows + 4, ["After", "after@example.com"], None),
    ]
    path = tmp_path / "quoted.csv"
    path.write_bytes(text.encode())
    assert imported(db, path)[-2:] == [("Ada,\r\nLove", "ada@example.com"), ("After", "after@example.com")]


def test_a_line_too_long_across_a_block_end_is_refused_after_the_rows_before_it(db, tmp_path, settings):
    settings.BULKADMIN_IMPORT_MAX_CELL_BYTES = 1000
    text, rows = rows_up_to(BLOCK_CHARS - 10)
    path = tmp_path / "long.csv"
    path.write_text(text + "x" * 5000 + ",long@example.com\nAfter,after@example.com\n")
    refusal = f"line {rows + 2} holds more text than a cell may: the limit is 1,000 (BULKADMIN_IMPORT_MAX_CELL_BYTES)."
    with pytest.raises(LimitExceeded) as refused:
        run_import(model=User, options=check_import_options(User, source=path), identity=IDENTITY, db=db)
    assert str(refused.value) == refusal
    assert db.users.count_documents({}) == rows
    assert db.users.find_one({"email": "pad@example.com"})["_id"] == IDENTITY.row_id(rows)


def test_a_row_of_too_many_cells_after_the_first_blocks_is_refused_after_the_rows_before_it(db, tmp_path, settings):
    settings.BULKADMIN_IMPORT_MAX_COLUMNS = 10
    text, rows = rows_up_to(3 * BLOCK_CHARS + 100)
    path = tmp_path / "wide.csv"
    path.write_text(text + "Wide,wide@example.com" + ",x" * 12 + "\nAfter,after@example.com\n")
    with pytest.raises(LimitExceeded) as refused:
        run_import(model=User, options=check_import_options(User, source=path), identity=IDENTITY, db=db)
    limit = "the limit is 10 (BULKADMIN_IMPORT_MAX_COLUMNS)"
    assert str(refused.value) == f"line {rows + 2} has more than 10 cells: {limit}."
    assert db.users.count_documents({}) == rows


def test_blank_lines_at_a_block_end_in_a_file_with_a_bom_are_not_rows(db, tmp_path):
    text, rows = rows_up_to(BLOCK_CHARS)
    text += "\n , \r\n\rAfter,after@example.com\n"
    data = codecs.BOM_UTF8 + text.encode()
    found = records(data, "utf-8-sig")
    assert [(r.number, r.line, r.raw[1]) for r in found[-2:]] == [
        (rows, rows + 1, "pad@example.com"),
        (rows + 1, rows + 5, "after@example.com"),
    ]
    path = tmp_path / "bom.csv"
    path.write_bytes(data)
    stored = imported(db, path)
    assert (len(stored), stored[0], stored[-1]) == (rows + 1, FIRST, AFTER)


def test_quoted_cells_holding_delimiters_in_every_block_are_read(db, tmp_path):
    lines = ["name,email", *(f'"Last, First {n}",user{n}@example.com' for n in range(8000))]
    path = tmp_path / "quoted_names.csv"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > 4 * BLOCK_CHARS
    stored = imported(db, path)
    assert stored == [(f"Last, First {n}", f"user{n}@example.com") for n in range(8000)]


def test_a_header_name_that_did_not_decode_is_named_once():
    with pytest.raises(ImportFileError) as refused:
        CsvReader(open_source(io.BytesIO(b"name,\xffmail\nAda,ada@example.com\n")), "utf-8", ",")
    assert str(refused.value) == "line 1: bad header: column 2 header is not valid utf-8; choose the file's encoding."


def test_a_batch_of_guarded_blank_and_plain_rows_gives_the_documents_row_by_row_shaping_gives(db, tmp_path):
    path = tmp_path / "mixed.csv"
    lines = ["name,email,age", *(f"User {n},user{n}@example.com,{n}" for n in range(6))]
    lines[2] = "'=1+1,user1@example.com,1"  # the formula guard an export wrote
    lines[4] = "O'Brien,user3@example.com,"  # an apostrophe that is no guard, a blank age
    path.write_text("\n".join(lines) + "\n")
    run_import(model=User, options=check_import_options(User, source=path), identity=IDENTITY, db=db)
    stored = [(doc["_id"], doc["name"], doc["age"]) for doc in db.users.find().sort("_id", 1)]
    names = ["User 0", "=1+1", "User 2", "O'Brien", "User 4", "User 5"]
    ages = [0, 1, 2, None, 4, 5]
    assert stored == [(IDENTITY.row_id(n + 1), names[n], ages[n]) for n in range(6)]


def test_plain_batches_get_each_rows_id_and_keep_an_id_column(db, tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("name,email\n" + "".join(f"User {n},user{n}@example.com\n" for n in range(2500)))
    run_import(model=User, options=check_import_options(User, source=path), identity=IDENTITY, db=db)
    assert [doc["_id"] for doc in db.users.find().sort("_id", 1)] == [IDENTITY.row_id(n) for n in range(1, 2501)]
    own = tmp_path / "own_ids.csv"
    ids = ["65a000000000000000000001", "", "65a000000000000000000003"]
    own.write_text("_id,name,email\n" + "".join(f"{i},Own {n},own{n}@example.com\n" for n, i in enumerate(ids)))
    other = RunIdentity(8, 1_700_000_000, "fedcba")
    run_import(model=User, options=check_import_options(User, source=own), identity=other, db=db)
    stored = {doc["name"]: str(doc["_id"]) for doc in db.users.find({"name": {"$regex": "^Own"}})}
    assert stored == {"Own 0": ids[0], "Own 1": str(other.row_id(2)), "Own 2": ids[2]}


def test_blank_cells_in_a_batch_without_guards_are_left_out(db, tmp_path):
    path = tmp_path / "blanks.csv"
    path.write_text("name,email,age\nAda,ada@example.com,\nBob,bob@example.com,41\n")
    run_import(model=User, options=check_import_options(User, source=path), identity=IDENTITY, db=db)
    stored = [(doc["_id"], doc["name"], doc["age"]) for doc in db.users.find().sort("_id", 1)]
    assert stored == [(IDENTITY.row_id(1), "Ada", None), (IDENTITY.row_id(2), "Bob", 41)]


def test_a_quoted_cell_left_open_across_a_block_without_quotes_is_one_cell():
    text, rows = rows_up_to(BLOCK_CHARS - 100)
    text += 'Ada,"' + "line\n" * 30_000 + '"\nAfter,after@example.com\n'
    found = records(text.encode())
    assert [(r.number, r.line, r.raw, r.problem) for r in found[-2:]] == [
        (rows + 1, rows + 2, ["Ada", "line\n" * 30_000], None),
        (rows + 2, rows + 30_003, ["After", "after@example.com"], None),
    ]


def test_ragged_blank_and_odd_rows_after_the_first_block_keep_their_numbers_and_lines():
    text, rows = rows_up_to(2 * BLOCK_CHARS)
    text += "Solo\n\n,\rA,a@example.com,extra\nN\x00ul,nul@example.com\r\nLast,last@example.com"
    found = records(text.encode())
    assert [(r.number, r.line, r.raw, r.problem) for r in found[-4:]] == [
        (rows + 1, rows + 2, ["Solo"], "1 cells, but the header has 2"),
        (rows + 2, rows + 5, ["A", "a@example.com", "extra"], "3 cells, but the header has 2"),
        (rows + 3, rows + 6, ["N\x00ul", "nul@example.com"], None),
        (rows + 4, rows + 7, ["Last", "last@example.com"], None),
    ]


@pytest.mark.parametrize("width", [1, 300])
def test_a_batch_of_plain_rows_one_or_hundreds_of_columns_wide_gives_each_row_its_cells(width):
    fields: dict[str, Any] = {f"f{n}": (str | None, None) for n in range(width)}
    wide = create_model(f"Wide{width}", __base__=MongoModel, **fields)
    shaper = Shaper(wide, mode="insert", key_fields=(), mapping={}, ignore_blanks=False, date_format=None)
    shaper.plan_columns(list(fields), 1)
    rows = [[f"r{row}c{n}" for n in range(width)] for row in range(3)]
    expected = [{f"f{n}": f"r{row}c{n}" for n in range(width)} for row in range(3)]
    assert shaper.shape_plain_rows(rows) == expected == [shaper.shape_cells(cells) for cells in rows]
    rows[1][0] = ""  # an empty cell is left out
    del expected[1]["f0"]
    assert shaper.shape_plain_rows(rows) == expected == [shaper.shape_cells(cells) for cells in rows]
