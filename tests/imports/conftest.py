"""Fixtures for the import tests: the corpus, job files in a temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    """Job files (error files) go to a temporary folder."""
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def user_rows(count: int, start: int = 0) -> list[str]:
    return [f"User {n},user{n}@example.com,{20 + n % 50}" for n in range(start, start + count)]


def write_xlsx(path: Path, rows: list[list], sheet: str = "people", **other_sheets: list[list]) -> Path:
    """A workbook written by openpyxl (write-only mode): `rows` on sheet `sheet` (the first),
    then each of `other_sheets`. A row `[]` is a blank row."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, content in {sheet: rows, **other_sheets}.items():
        worksheet = workbook.create_sheet(title)
        for row in content:
            worksheet.append(row)
    workbook.save(path)
    return path


def write_xlsx_shared(path: Path, rows: Iterable[list]) -> Path:
    """A one-sheet workbook laid out as Excel writes it: every text in the shared-strings table
    (openpyxl's write-only mode writes texts inline). Cells are texts or integers."""
    import zipfile
    from xml.sax.saxutils import escape

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    strings: list[str] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="people" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<worksheet xmlns="{main}"><sheetData>'.encode())
            for number, row in enumerate(rows, start=1):
                cells = []
                for column, value in enumerate(row):
                    ref = f"{chr(65 + column)}{number}"
                    if isinstance(value, str):
                        strings.append(value)
                        cells.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}"><v>{value}</v></c>')
                sheet.write(f'<row r="{number}">{"".join(cells)}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w") as table:
            table.write(f'<sst xmlns="{main}" count="{len(strings)}" uniqueCount="{len(strings)}">'.encode())
            for text in strings:
                table.write(f"<si><t>{escape(text)}</t></si>".encode())
            table.write(b"</sst>")
    return path


def counts(result) -> tuple[int, ...]:
    """An import's rows read, inserted, updated, unchanged, deleted, rejected and failed (checked
    to add up)."""
    numbers = (
        result.counts.inserted,
        result.counts.updated,
        result.counts.unchanged,
        result.counts.deleted,
        result.counts.rejected,
        result.failed,
    )
    assert result.rows == sum(numbers)
    return (result.rows, *numbers)


def key_files() -> list[int]:
    """The sizes of the temporary SQLite files this process holds open: a dry run's key file,
    which SQLite removes from its folder as it opens it (past the page cache) and which is gone
    once its connection closes."""
    sizes = []
    for descriptor in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{descriptor}")
            if "etilqs_" in target:  # SQLite's temporary files
                sizes.append(os.stat(f"/proc/self/fd/{descriptor}").st_size)
        except OSError:  # closed meanwhile
            continue
    return sizes
