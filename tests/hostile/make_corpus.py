# ruff: noqa: E501 - one file per line reads best
"""The hostile corpus: small files, each with a few bad rows between valid ones, written by
`write_corpus(folder)` with what an import of each into `users` must give.

Run as a script to write the files to a folder: `python -m tests.hostile.make_corpus DIR`.
Every file's valid rows are named `V<n>` with email `v<n>@<file>.org`, so an import in insert
or merge mode creates exactly `imported` documents; `rejected` lists each bad row's position
("line N" or "item N") and the field at fault (None when no field is: a ragged row, broken JSON).
A file that cannot be read at all has `file_error` (a regular expression of the message)."""

from __future__ import annotations

import codecs
import io
import json
import random
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ("name", "email", "age", "last_login", "external_id", "total_spent", "tags", "profile")
DEEP_ARRAY = "[" * 10_000 + "]" * 10_000
LATE, EARLY = "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"


@dataclass(frozen=True)
class Hostile:
    """One hostile file and what importing it must give (the same in insert and merge mode)."""

    name: str
    content: bytes
    imported: int
    rejected: tuple[tuple[str, str | None], ...] = ()
    file_error: str | None = None
    merge: dict = field(default_factory=dict)  # overrides for merge mode: imported / rejected


def deep(levels: int, kind: str = "object") -> str:
    if kind == "array":
        return "[" * levels + "]" * levels
    return '{"a":' * levels + "1" + "}" * levels


# Delimited text -----------------------------------------------------------------------------
def _cells(n: int, stem: str, **values: str) -> list[str]:
    row = {"name": f"V{n}", "email": f"v{n}@{stem}.org"}
    row.update(values)
    return [row.get(column, "") for column in COLUMNS]


def _quote(cell: str, delimiter: str) -> str:
    if any(c in cell for c in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def delimited(
    name: str, bad: list[dict[str, str]], fields: list[str | None], *, delimiter: str = ",", encoding: str = "utf-8"
) -> Hostile:
    """Valid rows around each bad row (a dict of cells for that row, name/email made unique)."""
    stem = name.split(".")[0]
    rows = [_cells(0, stem)]
    for index, values in enumerate(bad, start=1):
        rows.append(_cells(1000 + index, stem, **values))
        rows.append(_cells(index, stem))
    lines = [delimiter.join(COLUMNS)] + [delimiter.join(_quote(c, delimiter) for c in row) for row in rows]
    content = ("\n".join(lines) + "\n").encode(encoding, "surrogatepass")
    rejected = tuple((f"line {2 * i + 1}", f) for i, f in enumerate(fields, start=1))
    return Hostile(name, content, len(bad) + 1, rejected)


def raw_lines(name: str, lines: list[bytes], imported: int, rejected: list[tuple[str, str | None]], **kw) -> Hostile:
    header = ",".join(COLUMNS).encode()
    return Hostile(name, b"\n".join([header, *lines]) + b"\n", imported, tuple(rejected), **kw)


def _row(n: int, stem: str, **values: str) -> bytes:
    return ",".join(_quote(c, ",") for c in _cells(n, stem, **values)).encode()


# JSON ---------------------------------------------------------------------------------------
def _object(n: int, stem: str) -> str:
    return json.dumps({"name": f"V{n}", "email": f"v{n}@{stem}.org"})


def _bad_object(n: int, stem: str, extra: str) -> str:
    """A JSON object text for a bad row: `extra` is raw JSON text of more members."""
    return f'{{"name": "B{n}", "email": "b{n}@{stem}.org", {extra}}}'


def json_like(name: str, extras: list[str], fields: list[str | None], **kw) -> Hostile:
    """A JSON array (.json) or NDJSON (.ndjson) file: valid objects around each bad one."""
    stem = name.split(".")[0]
    items = [_object(0, stem)]
    for index, extra in enumerate(extras, start=1):
        items.append(_bad_object(index, stem, extra))
        items.append(_object(index, stem))
    if name.endswith(".ndjson"):
        content = "\n".join(items) + "\n"
        where = "line"
    else:
        content = "[\n" + ",\n".join(items) + "\n]\n"
        where = "item"
    rejected = tuple((f"{where} {2 * i}", f) for i, f in enumerate(fields, start=1))
    return Hostile(name, content.encode("utf-8", "surrogatepass"), len(extras) + 1, rejected, **kw)


# XLSX ---------------------------------------------------------------------------------------
def xlsx(name: str, rows: list[list], imported: int, rejected: list[tuple[str, str | None]], **kw) -> Hostile:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("people")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return Hostile(name, out.getvalue(), imported, tuple(rejected), **kw)


def xlsx_rows(name: str, bad: list[dict], fields: list[str | None], header: list[str] | None = None) -> Hostile:
    stem = name.split(".")[0]
    rows: list[list] = [list(header or COLUMNS)]

    def row(n: int, **values) -> list:
        cells = {"name": f"V{n}", "email": f"v{n}@{stem}.org", **values}
        return [cells.get(column) for column in COLUMNS]

    rows.append(row(0))
    for index, values in enumerate(bad, start=1):
        rows.append(row(1000 + index, **values))
        rows.append(row(index))
    rejected = [(f"line {2 * i + 1}", f) for i, f in enumerate(fields, start=1)]
    return xlsx(name, rows, len(bad) + 1, rejected)


def _zip_bombish() -> bytes:
    """A valid workbook whose one bad cell is 4 MB of one letter: compressed to a few kB."""
    base = xlsx_rows("bomb.xlsx", [{"name": "PLACEHOLDER"}], ["name"]).content
    source, out = zipfile.ZipFile(io.BytesIO(base)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if b"PLACEHOLDER" in data:
                data = data.replace(b"PLACEHOLDER", b"A" * 4_000_000)
            target.writestr(info.filename, data)
    return out.getvalue()


# Bombs: small files that expand to gigabytes, each written to a path while it is built -------
MB = 1024 * 1024
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{_PKG}/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets><sheet name="people" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
}


SST = f'<sst xmlns="{_MAIN}">'.encode()


def _write_workbook(path: Path, sheet: Iterable[bytes], strings: Iterable[bytes]) -> Path:
    """A workbook of one sheet, its XML and its shared strings' XML streamed into the archive."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        for name, chunks in (("xl/sharedStrings.xml", strings), ("xl/worksheets/sheet1.xml", sheet)):
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
    return path


def _sheet(rows: Iterable[bytes]) -> Iterator[bytes]:
    yield f'<worksheet xmlns="{_MAIN}"><sheetData>'.encode()
    yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="B1" t="inlineStr"><is><t>email</t></is></c></row>'
    yield from rows
    yield b"</sheetData></worksheet>"


def _strings(*sizes: int) -> Iterator[bytes]:
    """Shared strings of `sizes` bytes of one letter each, written a MiB at a time."""
    yield SST
    for size in sizes:
        yield b"<si><t>"
        for start in range(0, size, MB):
            yield b"A" * min(MB, size - start)
        yield b"</t></si>"
    yield b"</sst>"


def long_shared_string(path: Path, size: int = 400 * MB) -> Path:
    """One shared string of `size` bytes (400 MB: a file of about 400 kB), used by one row."""
    row = b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    return _write_workbook(path, _sheet([row]), _strings(size))


def rows_sharing_a_string(path: Path, rows: int = 20, cells: int = 1, size: int = 100 * MB) -> Path:
    """`rows` rows of `cells` cells, all referring to one shared string of `size` bytes."""

    def row(n: int) -> bytes:
        return f'<row r="{n}">'.encode() + b'<c t="s"><v>0</v></c>' * cells + b"</row>"

    return _write_workbook(path, _sheet(row(n) for n in range(2, rows + 2)), _strings(size))


def wide_xlsx_row(path: Path, cells: int = 4_000_000) -> Path:
    """A row of `cells` cells (4,000,000: a file of about 200 kB)."""

    def row() -> Iterator[bytes]:
        yield b'<row r="2">'
        for start in range(0, cells, 100_000):
            yield b"<c><v>1</v></c>" * min(100_000, cells - start)
        yield b"</row>"

    return _write_workbook(path, _sheet(row()), _strings())


def far_xlsx_cell(path: Path, column: str = "ZZZ") -> Path:
    """One cell far to the right (column ZZZ is 18,278): a few hundred bytes."""
    return _write_workbook(path, _sheet([f'<row r="2"><c r="{column}2"><v>1</v></c></row>'.encode()]), _strings())


def many_entries_xlsx(path: Path, entries: int = 20_000) -> Path:
    """A workbook whose zip archive holds `entries` files more than it needs."""
    _write_workbook(path, _sheet([]), _strings())
    with zipfile.ZipFile(path, "a") as archive:
        for n in range(entries):
            archive.writestr(f"xl/extra/{n}.xml", b"")
    return path


def wide_csv(path: Path, columns: int = 40_000) -> Path:
    """A header of `columns` columns (40,000: 270 kB; 3,000,000: 23 MB) and one row."""
    with path.open("w") as out:
        out.write(",".join(f"c{n}" for n in range(columns)) + "\n")
        out.write(",".join("x" for _ in range(columns)) + "\n")
    return path


def wide_csv_row(path: Path, columns: int = 3_000_000) -> Path:
    """A valid header and a data row of `columns` cells."""
    with path.open("w") as out:
        out.write(",".join(COLUMNS) + "\n" + "V0,v0@wide.org\n")
        out.write("," * columns + "\n")
    return path


def quoted_csv_field(path: Path, size: int = 17 * MB) -> Path:
    """A quoted field of `size` bytes (17 MiB: past the 16 MiB cell limit) on line 3, between
    valid rows, written a MiB at a time."""
    with path.open("w") as out:
        out.write('name,email\nV0,v0@quoted.org\n"')
        for start in range(0, size, MB):
            out.write("x" * min(MB, size - start))
        out.write('",b1@quoted.org\nV2,v2@quoted.org\n')
    return path


BOMBS: dict[str, Callable[[Path], Path]] = {
    "shared_string_400mb.xlsx": long_shared_string,
    "rows_sharing_100mb.xlsx": rows_sharing_a_string,
    "row_4m_cells.xlsx": wide_xlsx_row,
    "far_cell.xlsx": far_xlsx_cell,
    "entries_20k.xlsx": many_entries_xlsx,
    "columns_40k.csv": wide_csv,
    "columns_3m.csv": lambda path: wide_csv(path, 3_000_000),
    "row_3m_cells.csv": wide_csv_row,
    "quoted_17mib.csv": quoted_csv_field,
}


# Typed into the web admin: names and JSON -----------------------------------------------------
def long_name(length: int = 300, suffix: str = ".csv") -> str:
    """An upload's name of `length` characters (past the 255 bytes file systems allow)."""
    return "n" * (length - len(suffix)) + suffix


# Composer JSON nested past MongoDB's 100 levels: refused before it is parsed.
COMPOSER_DEEP = {
    "objects 500": deep(500),
    "arrays 10,000": '{"a":' + deep(10_000, "array") + "}",
    "objects 10,000": deep(10_000),
    "unclosed 10,000": "[" * 10_000,
}
# A filter or update typed into the composer, and the words of its refusal (a form error).
COMPOSER_FILTERS = {
    '{"$where": "sleep(1000)"}': "Operator $where is not allowed in a filter.",
    '{"$expr": {"$function": {"body": "x", "args": [], "lang": "js"}}}': "Operator $expr is not allowed",
    '{"age": {"$function": {"body": "x", "args": [], "lang": "js"}}}': "Operator $function is not allowed",
    '{"$accumulator": 1}': "Operator $accumulator is not allowed",
    '{"_id": {"$oid": "zz"}}': "Operator $oid is not allowed",
    '{"name": {"$gt": {"$where": "1"}}}': "name: Input should be a valid string",
    '{"age": NaN}': "age: nan cannot be stored; use a finite number.",
    '{"age": 1e400}': "age: inf cannot be stored; use a finite number.",
    '{"age": 99999999999999999999999}': "is outside the 64-bit integer range.",
    '{"\\udc80": 1}': "has a character MongoDB cannot store.",
    '{"nope": 1}': "Unknown field 'nope' for User.",
    '{"": 1}': "A field path must be a non-empty string",
    '{"$or": []}': "$or needs a non-empty list of filters.",
    '{"age": {"$in": 5}}': "age: $in needs a list.",
    "[]": "The filter JSON must be an object",
    '{"a": 1': "The filter JSON is not valid",
}
COMPOSER_UPDATES = {
    '{"$set": {"_id": 1}}': "the id of a document cannot be changed.",
    '{"$rename": {"age": "$where"}}': "Operator $rename is not allowed",
    '{"$where": 1}': "Operator $where is not allowed",
    '{"age": 1}': "Update key 'age' is not an operator",
    '{"$set": {"$where": 1}}': "a field name cannot start with $.",
    '{"$set": {"age": "old"}}': "age: Input should be a valid integer",
    '{"$set": {"age": NaN}}': "age: nan cannot be stored; use a finite number.",
    '{"$inc": {"age": 1e400}}': "age: inf cannot be stored; use a finite number.",
    '{"$set": {"name": "\\udc80"}}': "the text has an unpaired surrogate character.",
    '{"$unset": {"email": ""}}': "'email' is a required field.",
    '{"$set": {"age": 1}, "$inc": {"age": 1}}': "touch the same field",
    '{"$push": {"tags": {"$each": 5}}}': "$each needs a list.",
    '{"$set": {"profile.$[]": 1}}': "the positional $[] only goes into a list field.",
    "{}": "An update must be a non-empty object of operators",
}


# The corpus ---------------------------------------------------------------------------------
def _delimited_files() -> list[Hostile]:
    files = [
        delimited("date_late.csv", [{"last_login": LATE}], ["last_login"]),
        delimited("date_early.csv", [{"last_login": EARLY}], ["last_login"]),
        delimited("dates_both.tsv", [{"last_login": LATE}, {"last_login": EARLY}], ["last_login"] * 2, delimiter="\t"),
        delimited("age_huge.csv", [{"age": str(2**64)}, {"age": str(-(2**64))}], ["age", "age"]),
        delimited("deep_tags_5k.csv", [{"tags": deep(5_000, "array")}], ["tags"]),
        delimited("deep_tags_10k.csv", [{"tags": DEEP_ARRAY}], ["tags"]),
        delimited("deep_profile_5k.csv", [{"profile": deep(5_000)}], ["profile"]),
        delimited("deep_profile_10k.csv", [{"profile": deep(10_000)}], ["profile"]),
        delimited("deep_profile_10k.tsv", [{"profile": deep(10_000)}], ["profile"], delimiter="\t"),
        delimited("deep_tags_150.csv", [{"tags": deep(150, "array")}], ["tags"]),
        delimited("nan.csv", [{"total_spent": "NaN"}, {"total_spent": "nan"}], ["total_spent"] * 2),
        delimited("infinity.csv", [{"total_spent": "Infinity"}, {"total_spent": "inf"}], ["total_spent"] * 2),
        delimited("neg_infinity.csv", [{"total_spent": "-Infinity"}], ["total_spent"]),
        delimited("huge_cell.csv", [{"name": "x" * 1_000_000}], ["name"]),
        delimited("formulas.csv", [{"age": "=1+1"}, {"age": "@SUM(A1)"}], ["age", "age"]),
        delimited("bad_email.csv", [{"email": "not-an-email"}], ["email"]),
        delimited("bad_json_tags.csv", [{"tags": "[1, 2"}], ["tags"]),
        delimited("profile_extra.csv", [{"profile": '{"bio": "x", "$where": "1"}'}], ["profile"]),
        delimited("long_line.csv", [{"tags": ",".join(["t"] * 100_000), "age": "x"}], ["age"]),
        delimited("latin1_name.tsv", [{"age": "-3"}], ["age"], delimiter="\t", encoding="cp1252"),
    ]
    stem = "stray_byte"
    files.append(
        raw_lines(
            "stray_byte.csv",
            [_row(0, stem, name="Jörg"), _row(1, stem).replace(b"V1", b"J\xc3rg"), _row(2, stem, name="Jörg")],
            2,
            [("line 3", "name")],
        )
    )
    stem = "utf8_surrogate"
    files.append(
        raw_lines(
            "utf8_surrogate.csv",
            [_row(0, stem, name="Zoë"), _row(1, stem).replace(b"V1", b"\xed\xb2\x80"), _row(2, stem)],
            2,
            [("line 3", "name")],
        )
    )
    stem = "nul"
    files.append(raw_lines("nul.csv", [_row(0, stem), _row(1, stem, name="a\x00b"), _row(2, stem)], 3, []))
    stem = "ragged"
    files.append(
        raw_lines(
            "ragged.csv",
            [_row(0, stem), b"R1,r1@ragged.org", _row(1, stem), _row(9, stem) + b",extra,cells", _row(2, stem)],
            3,
            [("line 3", None), ("line 5", None)],
        )
    )
    stem = "quotes"
    files.append(
        raw_lines(
            "quotes.csv",
            [_row(0, stem), _row(1, stem).replace(b"V1", b'V"1'), b'"B"2,b2@quotes.org,x', _row(2, stem)],
            3,
            [("line 4", None)],
        )
    )
    stem = "open_quote"
    files.append(
        raw_lines(
            "open_quote_last.csv",
            [_row(0, stem), _row(1, stem), b'"Open,o@open_quote.org,1\nstill,open,'],
            2,
            [("line 4", None)],
        )
    )
    stem = "crlf"
    body = b"\r\n".join([_row(0, stem), _row(1, stem)]) + b"\r" + _row(2, stem) + b"\n" + _row(3, stem) + b"\r\n"
    files.append(Hostile("crlf_cr_mix.csv", ",".join(COLUMNS).encode() + b"\r\n" + body, 4))
    stem = "bom_mix"
    files.append(
        Hostile(
            "bom_mix.csv",
            codecs.BOM_UTF8 + ",".join(COLUMNS).encode() + b"\n" + _row(0, stem) + b"\n" + _row(1, stem, name="\ufeffV1")
            + b"\n" + _row(2, stem).replace(b"v2@", b"\xef\xbb\xbfv2@") + b"\n",
            3,
        )
    )  # fmt: skip
    stem = "utf16_nobom"
    text = ",".join(COLUMNS) + "\n" + "\n".join(_row(n, stem, name=f"Jörg{n}").decode() for n in range(3)) + "\n"
    files.append(Hostile("utf16_nobom.csv", text.encode("utf-16-le"), 3))
    files.append(Hostile("utf16_bom.tsv", text.replace(",", "\t").encode("utf-16"), 3))
    files.append(Hostile("empty.csv", b"", 0))
    files.append(Hostile("header_only.csv", ",".join(COLUMNS).encode() + b"\n", 0))
    files.append(Hostile("duplicate_headers.csv", b"name,email,name\nA,a@x.org,B\n", 0, file_error="both named 'name'"))
    files.append(Hostile("empty_header.csv", b"name,,email\nA,x,a@x.org\n", 0, file_error="column 2 has no name"))
    files.append(
        Hostile("binary_garbage.csv", random.Random(7).randbytes(3000), 0, file_error=r".")
    )  # the rows, if any, are all rejected: the test checks nothing is stored
    stem = "objectid"
    header = ("_id," + ",".join(COLUMNS)).encode()
    good = "6571a7a1f1e2d3c4b5a69788"
    ids = [good[:-1] + str(n) for n in range(3)]
    files.append(
        Hostile(
            "bad_objectid.csv",
            b"\n".join([
                header,
                ids[0].encode() + b"," + _row(0, stem),
                b"zzz," + _row(1001, stem),
                ids[1].encode() + b"," + _row(1, stem),
                b"12345678901234567890123456," + _row(1002, stem),
                ids[2].encode() + b"," + _row(2, stem),
            ]) + b"\n",
            3,
            (("line 3", "id"), ("line 5", "id")),
        )
    )  # fmt: skip
    return files


def _json_files() -> list[Hostile]:
    files: list[Hostile] = []
    for ext in ("json", "ndjson"):

        def deep_at(name: str) -> str:
            return name  # the path down to the limit starts with the field (NDJSON: from the line's tokens)

        files += [
            json_like(f"date_late.{ext}", [f'"last_login": "{LATE}"'], ["last_login"]),
            json_like(f"date_early.{ext}", [f'"last_login": "{EARLY}"'], ["last_login"]),
            json_like(f"int_big.{ext}", [f'"external_id": {2**63}', f'"external_id": {2**80}'], ["external_id"] * 2),
            json_like(f"int_small.{ext}", [f'"external_id": {-(2**63) - 1}'], ["external_id"]),
            json_like(f"deep_5k.{ext}", [f'"profile": {deep(5_000)}'], [deep_at("profile")]),
            json_like(f"deep_10k.{ext}", [f'"tags": {DEEP_ARRAY}'], [deep_at("tags")]),
            json_like(f"deep_free_10k.{ext}", [f'"nothing": {deep(10_000)}'], [deep_at("nothing")]),
            json_like(f"surrogate.{ext}", ['"name": "\\udc80"', '"tags": ["ok", "\\ud800"]'], ["name", "tags"]),
            json_like(f"surrogate_key.{ext}", ['"\\udc80": 1'], ["\\udc80"]),
            json_like(f"dollar_keys.{ext}", ['"$set": {"age": 1}', '"na.me": 1', '"a\\u0000b": 1'], ["$set", "na", "a\x00b"]),
            json_like(f"wrong_types.{ext}", ['"age": "old"', '"tags": "x"', '"profile": [1]'], ["age", "tags", "profile"]),
            json_like(f"infinity_float.{ext}", [f'"total_spent": {10**400}'], ["total_spent"]),
        ]  # fmt: skip
    # NaN / Infinity literals: JSON has none; NDJSON lines are read by Python's json (which takes
    # them, and the value is refused), a JSON array by ijson (which refuses them: a broken item).
    files.append(
        json_like("nan.ndjson", ['"total_spent": NaN', '"total_spent": Infinity', '"discount": -Infinity'], ["total_spent", "total_spent", "discount"])
    )  # fmt: skip
    stem = "broken_lines"
    lines = [
        _object(0, stem),
        '{"name": "B1", ',
        _object(1, stem),
        "[1, 2]",
        _object(2, stem),
        "\x00\x01",
        _object(3, stem),
    ]
    files.append(Hostile("broken_lines.ndjson", ("\n".join(lines) + "\n").encode(), 4, (("line 2", None), ("line 4", None), ("line 6", None))))  # fmt: skip
    stem = "stray"
    lines = [json.dumps({"name": f"Jörg {n}", "email": f"j{n}@{stem}.org"}, ensure_ascii=False) for n in range(20)]
    lines[1] = '{"name": "J\udcc3rg", "email": "j@stray.org"}'
    files.append(Hostile("stray_byte.ndjson", "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n", 19, (("line 2", None),)))  # fmt: skip
    stem = "items"
    items = [_object(0, stem), "1", _object(1, stem), '"text"', _object(2, stem), "null", _object(3, stem)]
    files.append(Hostile("not_objects.json", ("[" + ",".join(items) + "]").encode(), 4, (("item 2", None), ("item 4", None), ("item 6", None))))  # fmt: skip
    files.append(Hostile("empty_array.json", b"[]", 0))
    files.append(Hostile("empty.json", b"", 0))
    files.append(Hostile("top_object.json", b'{"name": "x"}', 0, file_error="Expected a JSON array"))
    stem = "truncated"
    files.append(Hostile("truncated.json", f"[{_object(0, stem)}, {_object(1, stem)}, {{\"name\": ".encode(), 2, file_error="Invalid JSON after item 2"))  # fmt: skip
    return files


def _xlsx_files() -> list[Hostile]:
    files = [
        xlsx_rows("date_late.xlsx", [{"last_login": LATE}], ["last_login"]),
        xlsx_rows("int_big.xlsx", [{"age": 2**64}], ["age"]),
        xlsx_rows("deep_cell.xlsx", [{"profile": deep(10_000)}], ["profile"]),
        xlsx(
            "formula_cells.xlsx",
            [list(COLUMNS), ["V0", "v0@f.org", "=1+1"], ["V1", "v1@f.org", '=HYPERLINK("x")']],
            2,
            [],
        ),
        xlsx_rows("nan_text.xlsx", [{"total_spent": "NaN"}], ["total_spent"]),
        xlsx_rows("huge_text.xlsx", [{"name": "y" * 30_000}], ["name"]),
    ]
    files.append(xlsx("duplicate_headers.xlsx", [["name", "email", "name"], ["A", "a@x.org", "B"]], 0, [], file_error="both named 'name'"))  # fmt: skip
    files.append(xlsx("header_only.xlsx", [list(COLUMNS)], 0, []))
    # 4 MB of one letter in a few kB: refused as a zip bomb when the sheet is read (after its first row)
    files.append(Hostile("bomb.xlsx", _zip_bombish(), 1, file_error="BULKADMIN_XLSX_MAX_RATIO"))
    files.append(Hostile("not_a_zip.xlsx", b"PK\x03\x04" + random.Random(3).randbytes(500), 0, file_error=r"."))
    return files


BUILDERS: tuple[Callable[[], list[Hostile]], ...] = (_delimited_files, _json_files, _xlsx_files)


def corpus() -> list[Hostile]:
    return [item for build in BUILDERS for item in build()]


def write_corpus(folder: Path) -> list[tuple[Hostile, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for item in corpus():
        path = folder / item.name
        path.write_bytes(item.content)
        written.append((item, path))
    return written


if __name__ == "__main__":
    for item, path in write_corpus(Path(sys.argv[1])):
        print(f"{path}  {len(item.content):>9,} bytes")
    for name, build in BOMBS.items():
        path = build(Path(sys.argv[1]) / name)
        print(f"{path}  {path.stat().st_size:>9,} bytes")
