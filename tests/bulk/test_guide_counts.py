"""The guide's code uses what `bulk_insert` returns as a number: summed, incremented and formatted."""

from __future__ import annotations

import dataclasses

import pytest

from bulkadmin.bulk import BulkResult, bulk_insert
from project.collections import User
from tests.factories import users


def test_total_inserted_accumulates_the_guides_way(db):
    """`optimal_bulk_insert`: `total_inserted += count` over batches, then printed."""
    data_list, batch_size = users(25), 10
    total_inserted = 0
    lines = []
    for i in range(0, len(data_list), batch_size):
        count = bulk_insert(User, data_list[i : i + batch_size])
        total_inserted += count
        lines.append(f"Progress: ({total_inserted} inserted)")
    assert type(total_inserted) is int
    assert total_inserted == 25
    assert lines == ["Progress: (10 inserted)", "Progress: (20 inserted)", "Progress: (25 inserted)"]
    assert db.users.count_documents({}) == 25


def test_counts_add_subtract_and_format(db):
    count = bulk_insert(User, users(1234))
    assert f"Inserted {count} documents" == "Inserted 1234 documents"
    assert f"{count:,}" == "1,234"
    assert f"{count:>6}" == "  1234"
    assert count + 1 == 1235
    assert 1 + count == 1235
    total = 0
    total = total + count
    assert total == 1234
    assert count - 4 == 1230
    assert 2000 - count == 766
    assert count + count == 2468
    assert total_rate(count, 2.0) == 617.0
    assert "%d users" % count == "1234 users"  # noqa: UP031


def total_rate(total_inserted: int, total_time: float) -> float:
    """The guide's `overall_rate = total_inserted / total_time` after `total_inserted += count`."""
    total = 0
    total += total_inserted
    return total / total_time


def test_result_keeps_every_field_and_stays_frozen(db):
    count = bulk_insert(User, users(3))
    assert count.inserted_count == 3
    assert count.rows == 3
    assert count.errors == ()
    assert "BulkResult(operation='insert'" in str(count)  # str/repr stay the full result for debugging
    with pytest.raises(dataclasses.FrozenInstanceError):
        count.inserted = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        count + "1"  # type: ignore[operator]
    with pytest.raises(TypeError):
        count + 1.5  # type: ignore[operator]


def test_headline_count_per_operation():
    assert int(BulkResult("update", matched=5, modified=3)) == 3
    assert f"{BulkResult('delete', deleted=7)}" == "7"
    assert BulkResult("upsert", inserted=2, modified=1) + 0 == 3
