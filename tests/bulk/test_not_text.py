"""Binary data and JavaScript code given to a text field are refused naming the field, not
stored as text (pydantic's lax `str` would decode bytes and drop Code's type): in row and batch
validation, partial (merge) rows and typed values of updates; a field typed for them keeps them."""

from __future__ import annotations

from typing import Any

import pytest
from bson import Binary, Code
from pydantic import BaseModel, Field
from pymongo.database import Database

from bulkadmin.bulk import bulk_upsert
from bulkadmin.bulk.validation import RowInvalid, validate_document, validate_documents, validate_partial
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.safety import coerce_value

CODE, BINARY = "a JavaScript code value, not text", "binary data, not text"


class Bio(BaseModel):
    bio: str = ""


class Card(MongoModel):
    collection = "not_text_cards"
    key_fields = ("title",)

    title: str
    ref: int | str | None = None
    profile: Bio | None = None
    tags: list[str] = Field(default_factory=list)
    blob: bytes | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


BAD = [
    ({"ref": Binary(b"\x00\x00\x00", 0x80)}, "ref", BINARY),
    ({"ref": b"abc"}, "ref", BINARY),
    ({"profile": {"bio": Code("function () {}")}}, "profile.bio", CODE),
    ({"tags": ["a", Code("x")]}, "tags.1", CODE),
]


@pytest.mark.parametrize(("given", "field", "message"), BAD)
def test_a_text_field_refuses_binary_data_and_code_in_batches_and_alone(given, field, message):
    row = {"title": "t", **given}
    [batched, good] = validate_documents(Card, [row, {"title": "u"}])
    assert isinstance(batched, RowInvalid)
    assert [(error.field, error.message) for error in batched.field_errors] == [(field, message)]
    assert isinstance(good, dict)
    with pytest.raises(RowInvalid) as alone:
        validate_document(Card, row)
    assert alone.value.field == field
    with pytest.raises(RowInvalid) as partial:
        validate_partial(Card, row)
    assert partial.value.field == field


def test_code_given_as_the_title_is_refused_naming_it():
    with pytest.raises(RowInvalid) as raised:
        validate_document(Card, {"title": Code("return 1")})
    assert str(raised.value) == f"title: {CODE}"


def test_fields_typed_for_bytes_or_anything_keep_them():
    stored = validate_document(Card, {"title": "t", "blob": Binary(b"\x01\x02"), "extra": {"f": Code("x")}})
    assert bytes(stored["blob"]) == b"\x01\x02"
    assert type(stored["extra"]["f"]) is Code


@pytest.mark.parametrize(("given", "field", "message"), BAD)
def test_an_update_value_for_text_refuses_binary_data_and_code(given, field, message):
    [(name, value)] = given.items()
    with pytest.raises(InvalidSpec) as raised:
        coerce_value(Card, name, value)
    assert (raised.value.field, str(raised.value)) == (field, f"{field}: {message}.")
    assert coerce_value(Card, "ref", 5) == 5


def test_a_merge_counts_the_row_rejected_and_writes_the_others(db: Database):
    rows = [{"title": "a", "ref": Binary(b"\x00")}, {"title": "b", "ref": "x"}]
    result = bulk_upsert(Card, rows, key_fields=["title"], db=db, ordered=False, raise_on_error=False)
    assert [(error.row, error.field, error.kind) for error in result.errors] == [(1, "ref", "validation")]
    assert [(doc["title"], doc["ref"]) for doc in db[Card.collection].find()] == [("b", "x")]
