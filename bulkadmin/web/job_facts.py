"""A job's parameters and details as a page shows them: labelled rows in words, without the
bookkeeping (id seeds, checksums, stored file names) that only the job layer reads."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from django.forms.utils import pretty_name

from bulkadmin.web.views.common import without_paths

# Kept for resuming, undoing and checking a file again; shown elsewhere on the page; or internal.
HIDDEN = frozenset(
    {
        "id_seed",
        "id_time",
        "fingerprint",
        "upload",
        "errors_path",
        "error_file",
        "error_file_bytes",
        "confirmed_by",
        "undone_by",
        "settled",
        "rules",
        "write_concern_errors",
        "failure",
        "dry_run",
        "changes",  # a single edit's: shown as a table of fields before and after
        "stored_file",  # an export's file: its download row says it
        "deleted_file",
    }
)
STORED = "stored:"  # a file kept in the job storage: the user knows it by its name


def facts(values: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows for `values`, internals and empty values left out."""
    rows = []
    for key, value in without_paths(values).items():
        if key in HIDDEN or key.endswith("sha256") or value in ("", None, [], {}):
            continue
        rows.append((pretty_name(key), _text(value)))
    return rows


def _text(value: Any) -> str:
    """A value in words: yes/no, comma-separated lists, a file's name, JSON for filters and mappings."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(STORED):
        return PurePath(value.removeprefix(STORED)).name
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
