"""A document over MongoDB's 16 MiB fails its row, in a dry run as in the real run, with its
size named; the cheap size bound clears ordinary batches without encoding them, and a bound over
the limit is settled by the document's real BSON size."""

from __future__ import annotations

import bson
import pytest
from pydantic import Field
from pymongo.database import Database

from bulkadmin.bulk import bulk_insert, bulk_upsert
from bulkadmin.bulk.validation import (
    MAX_DOCUMENT_BYTES,
    DocumentTooLarge,
    RowInvalid,
    validate_document,
    validate_documents,
)
from bulkadmin.core.documents import MongoModel

MIB = 1024 * 1024


class Note(MongoModel):
    collection = "document_size_notes"
    key_fields = ("title",)

    title: str
    body: str = ""
    lines: list[str] = Field(default_factory=list)


def _size(document: dict) -> int:
    return len(bson.encode(document))


def test_a_batch_of_rows_each_under_the_limit_but_over_it_together_is_kept_whole():
    rows = [{"title": f"t{number}", "body": "x" * (3 * MIB)} for number in range(8)]  # 24 MiB together
    results = validate_documents(Note, rows)
    assert [type(result) for result in results] == [dict] * 8
    assert [result["body"] for result in results] == ["x" * (3 * MIB)] * 8


def test_text_whose_bound_passes_the_limit_but_whose_bson_does_not_is_kept():
    # 5 Mi two-byte characters: bounded at 4 bytes each (20 MiB), 10 MiB in UTF-8
    body = "é" * (5 * MIB)
    [result] = validate_documents(Note, [{"title": "accents", "body": body}])
    assert isinstance(result, dict)
    assert result["body"] == body
    assert validate_document(Note, {"title": "accents", "body": body})["body"] == body


def test_a_document_over_16_mib_fails_naming_its_size_in_a_batch_and_alone():
    row = {"title": "big", "lines": ["y" * MIB] * 17}
    size = _size({"_id": bson.ObjectId(), **Note.model_validate(row).to_document()})
    [result, other] = validate_documents(Note, [row, {"title": "small"}])
    assert isinstance(result, DocumentTooLarge)
    assert (result.size, result.kind, result.code, result.field) == (size, "write", 2, None)
    assert str(result) == f"the document is {size:,} bytes in BSON, over MongoDB's limit of 16,777,216 bytes (16 MiB)"
    assert isinstance(other, dict)
    with pytest.raises(DocumentTooLarge) as raised:
        validate_document(Note, row)
    assert raised.value.size == size


def test_a_document_of_exactly_16_mib_is_kept_and_one_byte_more_fails():
    row = {"_id": bson.ObjectId(), **Note.model_validate({"title": "edge"}).to_document()}
    row["body"] = "z" * (MAX_DOCUMENT_BYTES - _size(row))  # each ASCII character is one byte more
    assert _size(row) == MAX_DOCUMENT_BYTES
    [kept] = validate_documents(Note, [row])
    assert not isinstance(kept, RowInvalid)
    row["body"] += "z"
    [refused] = validate_documents(Note, [row])
    assert isinstance(refused, DocumentTooLarge)
    assert refused.size == MAX_DOCUMENT_BYTES + 1


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_upsert_counts_a_document_over_16_mib_failed_alike_in_a_dry_run(db: Database, dry_run: bool):
    rows = [{"title": "a"}, {"title": "big", "lines": ["y" * MIB] * 17}, {"title": "c"}]
    result = bulk_upsert(Note, rows, key_fields=["title"], dry_run=dry_run, db=db, ordered=False, raise_on_error=False)
    assert (result.created, result.failed) == (2, 1)
    assert [(error.row, error.kind, error.code) for error in result.errors] == [(2, "write", 2)]
    stored = sorted(document["title"] for document in db[Note.collection].find())
    assert stored == ([] if dry_run else ["a", "c"])


def test_an_insert_fails_a_document_over_16_mib_and_stores_the_others(db: Database):
    rows = [{"title": "a"}, {"title": "big", "body": "y" * (17 * MIB)}, {"title": "c"}]
    result = bulk_insert(Note, rows, db=db, ordered=False, raise_on_error=False)
    assert (result.inserted, result.failed, result.errors[0].kind) == (2, 1, "write")
    assert "over MongoDB's limit of 16,777,216 bytes" in result.errors[0].message
    assert sorted(document["title"] for document in db[Note.collection].find()) == ["a", "c"]
