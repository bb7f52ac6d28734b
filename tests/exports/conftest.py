"""Helpers of the export tests: run `export_data` and `import_csv`, and take exact snapshots
of collections (BSON bytes, so types and key order count)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from django.core.management import call_command
from pymongo.database import Database

from bulkadmin.core.documents import MongoModel
from bulkadmin.models import Job

FORMATS = ("csv", "tsv", "json", "ndjson", "xlsx")
CODEC = CodecOptions(tz_aware=True, uuid_representation=UuidRepresentation.STANDARD)  # as the client reads


def export(*arguments: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_data", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def merge_back(model: type[MongoModel], path: Path) -> dict[str, Any]:
    """Import `path` into `model`'s collection with `--mode merge` on its key (`id` without one);
    the import job's counts."""
    key = model.key_fields[0] if model.key_fields else "id"
    call_command("import_csv", model.collection, str(path), "--mode", "merge", "--key", key, stdout=io.StringIO())
    counts: dict[str, Any] = Job.objects.filter(kind=Job.Kind.IMPORT).order_by("-id").first().counts  # type: ignore[union-attr]
    return counts


def snapshot(db: Database, collection: str) -> list[bytes]:
    """Every document of `collection` in `_id` order, as BSON (exact values, types and key order)."""
    return [bson.encode(document, codec_options=CODEC) for document in db[collection].find().sort("_id", 1)]


def changes(before: list[bytes], after: list[bytes]) -> list[tuple[Any, Any]]:
    """The documents that differ, decoded (for a readable failure)."""
    return [
        (bson.decode(old, CODEC), bson.decode(new, CODEC)) for old, new in zip(before, after, strict=True) if old != new
    ]
