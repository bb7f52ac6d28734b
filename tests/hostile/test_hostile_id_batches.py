"""Writes by `_id` on collections whose `_id`s are not all ObjectIds (ints, strings, strings of 24
hex digits that look like ObjectIds, compound ones): every matching document is written exactly
once, the counts are exact and undo restores the collection exactly, at any batch size."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from pydantic import Field

from bulkadmin.core.documents import MongoModel
from bulkadmin.operations import undo, updates
from bulkadmin.operations.cleanup import Rule, ago, run_cleanup
from tests.factories import NOW, days_ago

pytestmark = pytest.mark.django_db

HEX_LIKE = ["0" * 24, "5" * 24, "a" * 23 + "b", "f" * 24]


class Item(MongoModel):
    """Documents whose `_id` may be of any type."""

    collection = "items"

    id: Any = Field(alias="_id")
    n: int = Field(default=0, ge=0, le=100)
    status: str = "new"
    tags: list[str] = []
    created_at: Any = None


def mixed_ids(kinds: str = "all") -> list[Any]:
    """ObjectIds among strings that look like ObjectIds (`hex`), or those and other strings and ints."""
    hex_like = [*sorted(ObjectId() for _ in range(6)), *HEX_LIKE]
    return hex_like if kinds == "hex" else [*hex_like, "k1", "zz", 7, 8]


KINDS = pytest.mark.parametrize("kinds", ["hex", "all"])


def stored(db) -> dict[str, dict]:
    return {repr(doc["_id"]): doc for doc in db.items.find()}


def insert(db, ids: list[Any], **fields: Any) -> dict[str, dict]:
    db.items.insert_many([{"_id": doc_id, "n": number, **fields} for number, doc_id in enumerate(ids)])
    return stored(db)


@KINDS
@pytest.mark.parametrize("batch_size", [1, 2, 3, 500])
def test_an_update_over_object_ids_and_hex_strings_writes_each_once(db, kinds, batch_size):
    before = insert(db, mixed_ids(kinds))
    total = len(before)
    outcome = updates.run_update(
        model=Item, filter={}, update={"$inc": {"n": 1}}, undo_key=11, batch_size=batch_size, db=db
    )
    assert (outcome.rows, outcome.counts.matched, outcome.counts.modified) == (total, total, total), outcome.errors
    assert {key: doc["n"] for key, doc in stored(db).items()} == {key: doc["n"] + 1 for key, doc in before.items()}
    assert outcome.details["undo_records"] == total
    restored = undo.undo_job_writes(model=Item, job=11, batch_size=batch_size, db=db)
    assert (restored.details["restored"], restored.details["conflicts"]) == (total, ())
    assert stored(db) == before


@KINDS
@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_a_delete_over_object_ids_and_hex_strings_deletes_each_match(db, kinds, batch_size):
    before = insert(db, mixed_ids(kinds))
    odd = list(range(1, len(before), 2))
    outcome = updates.run_delete(model=Item, filter={"n": {"$in": odd}}, undo_key=12, batch_size=batch_size, db=db)
    assert (outcome.rows, outcome.counts.deleted) == (len(odd), len(odd))
    assert sorted(doc["n"] for doc in db.items.find()) == list(range(0, len(before), 2))
    restored = undo.undo_job_writes(model=Item, job=12, db=db)
    assert restored.details["restored"] == len(odd)
    assert stored(db) == before


@KINDS
@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_a_cleanup_rule_archives_every_match_among_hex_string_ids(db, kinds, batch_size):
    total = len(insert(db, mixed_ids(kinds), created_at=days_ago(400)))
    rule = Rule(name="old_items", model=Item, filter={"created_at": {"$lt": ago(days=180)}}, action="archive")
    result = run_cleanup(rules=[rule], now=NOW, batch_size=batch_size, db=db)
    assert (result.details["rules"][0].matched, result.details["rules"][0].archived) == (total, total), result.details[
        "rules"
    ][0]
    assert db.items.count_documents({}) == 0
    assert db.items_archive.count_documents({}) == total
