"""An import's options: one typed, checked schema, the same from the command line, the web and
Python, stored as a job's parameters so a resumed run reads the file again the same way."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkadmin.bulk.batching import check_batch_size
from bulkadmin.bulk.plans import resolve_key_fields
from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.operations.imports.formats import ImportFormat, formats
from bulkadmin.operations.imports.shaping import parse_mapping
from bulkadmin.operations.imports.sources import check_encoding

# What a user may type, and the mode it means ("replace" is upsert's other name).
MODES = {"insert": "insert", "upsert": "upsert", "replace": "upsert", "merge": "merge", "delete": "delete"}


@dataclass(frozen=True)
class ImportOptions:
    """Checked import options (`check_import_options` builds them). `mode` is insert, upsert
    (replace whole documents by key), merge or delete; empty strings mean "detect" or "none"."""

    source: str
    mode: str = "insert"
    key_fields: tuple[str, ...] = ()
    batch_size: int = DEFAULT_BATCH_SIZE
    dry_run: bool = False
    stop_on_error: bool = False
    errors_path: str = ""
    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    mapping: dict[str, str] = dataclasses.field(default_factory=dict)
    ignore_blanks: bool = False
    limit: int | None = None
    date_format: str = ""
    keep_undo: bool = False
    extended_json: bool = False

    def to_parameters(self) -> dict[str, Any]:
        """JSON-ready, as a job stores them; not `dry_run`, which is the job's own column."""
        parameters = dataclasses.asdict(self)
        parameters["key_fields"] = list(self.key_fields)
        del parameters["dry_run"]
        return parameters

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any], *, dry_run: bool = False) -> ImportOptions:
        """The options a job stored, run as a dry run when its job is one (other entries, such
        as the upload's token, are left out)."""
        names = {item.name for item in dataclasses.fields(cls)} - {"dry_run"}
        given = {name: value for name, value in parameters.items() if name in names}
        given["key_fields"] = tuple(given.get("key_fields") or ())
        if "mode" in given:  # older jobs stored an upsert as "replace"
            given["mode"] = MODES.get(given["mode"], given["mode"])
        return cls(**given, dry_run=dry_run)


def check_import_options(
    model: type[MongoModel],
    *,
    source: str | os.PathLike[str] | Any,
    mode: str = "insert",
    key_fields: list[str] | tuple[str, ...] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    stop_on_error: bool = False,
    errors_path: str | os.PathLike[str] | None = None,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    mapping: list[str] | dict[str, str] | None = None,
    ignore_blanks: bool = False,
    limit: int | None = None,
    date_format: str | None = None,
    keep_undo: bool = False,
    extended_json: bool = False,
) -> ImportOptions:
    """Check an import's options against `model` (raises `InvalidSpec` or `ImportFileError`).
    `extended_json` reads a JSON or NDJSON file's MongoDB Extended JSON (`{"$oid": ...}`)."""
    operation_mode = _mode(mode)
    keys = _keys(model, operation_mode, key_fields)
    check_batch_size(batch_size)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidSpec(f"limit must be a positive integer, got {limit!r}.", option="limit")
    if delimiter is not None and len(delimiter) != 1:
        raise InvalidSpec(f"The delimiter must be one character, got {delimiter!r}.", option="delimiter")
    if format:
        _check_format(formats.get(format), extended_json=extended_json)
    return ImportOptions(
        source=source_name(source),
        mode=operation_mode,
        key_fields=keys,
        batch_size=batch_size,
        dry_run=bool(dry_run),
        stop_on_error=bool(stop_on_error),
        errors_path=str(Path(errors_path).resolve()) if errors_path else "",
        format=format or "",
        encoding=check_encoding(encoding) if encoding else "",
        delimiter=delimiter or "",
        sheet=sheet or "",
        mapping=parse_mapping(mapping),
        ignore_blanks=bool(ignore_blanks),
        limit=limit,
        date_format=date_format or "",
        keep_undo=bool(keep_undo),
        extended_json=bool(extended_json),
    )


def source_name(source: str | os.PathLike[str] | Any) -> str:
    """What names a source in a job's parameters: an absolute path, `-`, or a stream's name."""
    if isinstance(source, (str, os.PathLike)):
        return "-" if str(source) == "-" else str(Path(source).resolve())
    return str(getattr(source, "name", "<stream>"))


def _check_format(fmt: ImportFormat, *, extended_json: bool) -> None:
    if extended_json and "extended_json" not in fmt.options:
        raise InvalidSpec(
            f"Extended JSON applies to the JSON and NDJSON formats, not {fmt.label}.", option="extended_json"
        )


def _mode(mode: str) -> str:
    operation_mode = MODES.get(mode)
    if operation_mode is None:
        raise InvalidSpec(f"mode must be one of {', '.join(MODES)}, got {mode!r}.", option="mode")
    return operation_mode


def _keys(model: type[MongoModel], mode: str, key_fields: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if key_fields and mode == "insert":
        raise InvalidSpec("Only the upsert, merge and delete modes take key fields, not insert.", option="key_fields")
    keys = tuple(resolve_key_fields(model, key_fields)) if mode != "insert" else ()
    if mode != "insert" and not keys:
        raise InvalidSpec(f"{model.__name__} declares no key fields; name the fields to match on.", option="key_fields")
    return keys
