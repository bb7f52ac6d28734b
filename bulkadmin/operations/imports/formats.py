"""The import formats: one declaration per format — its name, file extensions, reader, how its
content is recognised and how an upload of it is checked — used by the import, its preview, the
command line (`--format`, detection by extension) and the upload page with its forms.

A new format is a reader (rows as `Record`s) and one `formats.register(ImportFormat(...))` here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Protocol

from bulkadmin.core.exceptions import AlreadyRegistered
from bulkadmin.operations.imports.readers import ReadOptions, Record, open_delimited, open_json, open_ndjson
from bulkadmin.operations.imports.sources import ImportFileError, Source
from bulkadmin.operations.imports.xlsx import check_workbook, is_zip, open_xlsx

SNIFF_BYTES = 8192
TEXT_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")  # UTF-16/32 text has NUL bytes
BINARY_MAGIC = (b"PK\x03\x04", b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"\x7fELF", b"MZ")
STDIN_FORMAT = "csv"  # standard input has no name to tell its format by
TEXT_OPTIONS = frozenset({"encoding"})
DELIMITED_OPTIONS = frozenset({"encoding", "delimiter"})
JSON_OPTIONS = frozenset({"encoding", "extended_json"})


class Reader(Protocol):
    """What every format's reader offers: the rows, and what it detected on the way."""

    header: list[str] | None  # the header row of a tabular format (None: rows are objects, or no rows)
    header_line: int | None
    settings: ReadOptions  # the options as used (detected encoding, sniffed delimiter, chosen sheet)
    sheets: tuple[str, ...]  # the sheets of a workbook, () for other formats

    def __iter__(self) -> Iterator[Record]: ...


@dataclass(frozen=True)
class ImportFormat:
    """One file format an import can read.

    `open` makes its reader from an opened source and the read options; `check_content` raises
    `ImportFileError` for an uploaded file that cannot be of this format; `sniff` recognises its
    content from the first bytes whatever the file's name. `tabular` formats have a header row
    and rows of cells (mapped column by column); the others yield one object per row. `options`
    names the read options that apply; giving another one is an error."""

    name: str
    label: str
    extensions: tuple[str, ...]
    open: Callable[[Source, ReadOptions], Reader]
    check_content: Callable[[Path], None]
    tabular: bool = True
    options: frozenset[str] = TEXT_OPTIONS
    sniff: Callable[[bytes], bool] | None = None
    loose_extensions: tuple[str, ...] = ()  # accepted for upload, but not detected by name (.txt)


class FormatRegistry:
    """The import formats by name, like `admin.site` for collections."""

    def __init__(self) -> None:
        self._formats: dict[str, ImportFormat] = {}

    def register(self, fmt: ImportFormat) -> ImportFormat:
        if fmt.name in self._formats:
            raise AlreadyRegistered(f"The import format {fmt.name!r} is already registered.")
        taken = {ext: other.name for other in self for ext in (*other.extensions, *other.loose_extensions)}
        for extension in (*fmt.extensions, *fmt.loose_extensions):
            if extension in taken:
                raise AlreadyRegistered(f"The extension {extension!r} belongs to the {taken[extension]} format.")
        self._formats[fmt.name] = fmt
        return fmt

    def __iter__(self) -> Iterator[ImportFormat]:
        return iter(self._formats.values())

    def names(self) -> list[str]:
        return list(self._formats)

    def get(self, name: str) -> ImportFormat:
        """The format called `name`, or `ImportFileError` naming the known ones."""
        try:
            return self._formats[name]
        except KeyError:
            raise ImportFileError(f"Unknown format {name!r}; use one of {', '.join(self._formats)}.") from None

    def by_extension(self, filename: str, *, loose: bool = False) -> ImportFormat | None:
        """The format a file name's extension implies (with `loose`, also `.txt` and the like)."""
        suffix = Path(filename).suffix.lower()
        for fmt in self:
            if suffix in fmt.extensions or (loose and suffix in fmt.loose_extensions):
                return fmt
        return None

    def upload_extensions(self) -> tuple[str, ...]:
        """Every extension an uploaded file may have."""
        return tuple(ext for fmt in self for ext in (*fmt.extensions, *fmt.loose_extensions))

    def detect(self, name: str, forced: str | None = None, sample: bytes = b"") -> ImportFormat:
        """The format of a file: `forced` (`--format`), else its extension, else its content
        (`sample`: its first bytes), else CSV for standard input."""
        if forced:
            return self.get(forced)
        found = self.by_extension(name)
        if found is None:
            found = next((fmt for fmt in self if fmt.sniff is not None and fmt.sniff(sample)), None)
        if found is None and name == "<stdin>":
            found = self.get(STDIN_FORMAT)
        if found is None:
            raise ImportFileError(
                f"Cannot tell the format of {PurePath(name).name!r} from its extension or its content; "
                f"choose one of {', '.join(self._formats)}.",
                option="format",
            )
        return found


def open_reader(fmt: ImportFormat, source: Source, options: ReadOptions) -> Reader:
    """The reader of `source` in format `fmt`; an option that does not apply to it is an error."""
    for name in options.given():
        if name not in fmt.options:
            raise ImportFileError(f"The {name.replace('_', ' ')} option does not apply to {fmt.label} files.")
    return fmt.open(source, options)


def format_of(name: str, forced: str | None) -> str:
    """The name of the format of file `name`: `forced`, else from its extension."""
    return formats.detect(name, forced).name


def check_text(path: Path) -> None:
    """Refuse a file whose first bytes are not text (NUL bytes without a UTF-16/32 BOM, or the
    signature of a known binary format)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(BINARY_MAGIC) or (b"\x00" in head and not head.startswith(TEXT_BOMS)):
        raise ImportFileError(f"{path.name} is not a text file (binary content).")


formats = FormatRegistry()
formats.register(
    ImportFormat(
        name="csv",
        label="CSV",
        extensions=(".csv",),
        loose_extensions=(".txt",),
        open=open_delimited(),
        check_content=check_text,
        options=DELIMITED_OPTIONS,
    )
)
formats.register(
    ImportFormat(
        name="tsv",
        label="TSV",
        extensions=(".tsv", ".tab"),
        open=open_delimited("\t"),
        check_content=check_text,
        options=DELIMITED_OPTIONS,
    )
)
formats.register(
    ImportFormat(
        name="json",
        label="JSON",
        extensions=(".json",),
        open=open_json,
        check_content=check_text,
        tabular=False,
        options=JSON_OPTIONS,
    )
)
formats.register(
    ImportFormat(
        name="ndjson",
        label="NDJSON",
        extensions=(".ndjson", ".jsonl"),
        open=open_ndjson,
        check_content=check_text,
        tabular=False,
        options=JSON_OPTIONS,
    )
)
formats.register(
    ImportFormat(
        name="xlsx",
        label="XLSX",
        extensions=(".xlsx",),
        open=open_xlsx,
        check_content=check_workbook,
        options=frozenset({"sheet"}),
        sniff=is_zip,
    )
)
