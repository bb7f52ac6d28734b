"""The readers on their own: encodings, delimiters, line numbers, JSON streams (no database)."""

from __future__ import annotations

import codecs
import io

import pytest

from bulkadmin.operations.imports.formats import format_of
from bulkadmin.operations.imports.readers import CsvReader, JsonReader, NdjsonReader, sniff_delimiter
from bulkadmin.operations.imports.sources import ImportFileError, detect_encoding, open_source


def source_of(data: bytes):
    return open_source(io.BytesIO(data))


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + b"name\nAda\n", "utf-8-sig"),
        ("name\nZoë\n".encode("utf-16"), "utf-16"),
        ("name\nZoë\n".encode("utf-16-le"), "utf_16_le"),
        ("name\nZoë\n".encode(), "utf-8"),
        ("name\nZoë €\n".encode("cp1252"), "cp1252"),
        (b"", "utf-8"),
    ],
)
def test_encoding_detection(data, encoding):
    assert detect_encoding(data, at_eof=True) == encoding


def test_a_multibyte_character_cut_by_the_sample_end_is_still_utf8():
    assert detect_encoding("é".encode()[:1], at_eof=False) == "utf-8"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1,5\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ("just_one_column\nx\n", ","),
        ('a;b\n"x\ny";2\n"unfinished', ";"),
    ],
)
def test_delimiter_sniffing(text, delimiter):
    assert sniff_delimiter(text) == delimiter


def test_line_numbers_count_the_header_blank_lines_and_quoted_newlines():
    data = b'\nname,bio\n\n"Ada","one\ntwo"\nBob,x\n\n"Cy,open quote\nDee,y\n'
    reader = CsvReader(source_of(data), "utf-8", ",")
    assert (reader.header, reader.header_line) == (["name", "bio"], 2)
    records = list(reader)
    assert [(r.number, r.line, r.problem) for r in records[:2]] == [(1, 4, None), (2, 6, None)]
    last = records[2]
    assert (last.number, last.line) == (3, 8)
    assert last.problem == "1 cells, but the header has 2 (the row runs from line 8 to 9: is a quote left open?)"


def test_header_cells_are_trimmed():
    reader = CsvReader(source_of(b" name , email\nA,a@x.io\n"), "utf-8", ",")
    assert reader.header == ["name", "email"]


def test_ndjson_lines():
    data = b'{"a": 1}\n\n{"a": \n[1]\nnull\n'
    records = list(NdjsonReader(source_of(data), "utf-8"))
    assert [(r.number, r.line) for r in records] == [(1, 1), (2, 3), (3, 4), (4, 5)]
    assert records[0].raw == {"a": 1} and records[0].problem is None
    assert records[1].problem.startswith("invalid JSON at column 6: Expecting value")
    assert records[3].problem == "expected a JSON object, got null"


def test_json_arrays_in_utf16_and_with_a_bom():
    text = '[{"name": "Zoë"}, {"name": "Ada"}]'
    for data in (text.encode("utf-16"), codecs.BOM_UTF8 + text.encode()):
        source = source_of(data)
        encoding = detect_encoding(source.sample, source.at_eof)
        assert [r.raw["name"] for r in JsonReader(source, encoding)] == ["Zoë", "Ada"]


def test_json_that_is_not_an_array_or_is_broken():
    with pytest.raises(ImportFileError, match="Expected a JSON array at the top level \\(for one object per line"):
        JsonReader(source_of(b'{"a": 1}\n{"a": 2}\n'), "utf-8")
    reader = JsonReader(source_of(b'[{"a": 1}, {"a": 2}, {"a": ]'), "utf-8")
    found = []
    with pytest.raises(ImportFileError, match="Invalid JSON after item 2"):
        found.extend(reader)
    assert len(found) == 2


def test_format_names():
    assert format_of("x.JSONL", None) == "ndjson"
    assert format_of("x.csv", "tsv") == "tsv"
    with pytest.raises(ImportFileError, match="Unknown format 'xml'"):
        format_of("x.csv", "xml")
