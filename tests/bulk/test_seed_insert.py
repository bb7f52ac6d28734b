"""The guide's insert examples: basic, large CSV, with validation, batch sizes, streaming,
performance monitoring and partial-failure recovery."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bulkadmin.bulk import BulkWriteError, bulk_insert
from project.collections import User
from tests.factories import users


def test_basic_bulk_insert_stores_three_users(db):
    users_data = [
        {"name": "John Doe", "email": "john@example.com", "age": 30},
        {"name": "Jane Smith", "email": "jane@example.com", "age": 25},
        {"name": "Bob Johnson", "email": "bob@example.com", "age": 35},
    ]
    result = bulk_insert(User, users_data)
    assert result.inserted_count == 3
    assert int(result) == 3
    stored = {doc["email"]: doc for doc in db.users.find()}
    assert set(stored) == {"john@example.com", "jane@example.com", "bob@example.com"}
    assert stored["jane@example.com"]["age"] == 25
    assert stored["jane@example.com"]["status"] == "active"  # model default applied
    assert "id" not in stored["jane@example.com"]


def test_large_csv_is_streamed_in_batches_of_1000(db, tmp_path: Path):
    path = tmp_path / "users.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["name", "email", "age"])
        writer.writeheader()
        writer.writerows(users(2500))
    with path.open(newline="") as handle:
        result = bulk_insert(User, csv.DictReader(handle), batch_size=1000)
    assert result.inserted_count == 2500
    assert [batch.rows for batch in result.batches] == [1000, 1000, 500]
    assert db.users.count_documents({}) == 2500
    assert db.users.find_one({"email": "user2499@example.com"})["age"] == 20 + 2499 % 60  # "59" -> 59


def test_validation_rejects_bad_rows_by_index_and_field_and_inserts_the_rest(db):
    data = users(6)
    data[1]["age"] = "thirty"
    data[3]["email"] = "not-an-email"
    data[4].pop("name")
    result = bulk_insert(User, data, ordered=False, raise_on_error=False)
    assert result.inserted_count == 3
    assert [(e.index, e.field) for e in result.validation_errors] == [(1, "age"), (3, "email"), (4, "name")]
    assert result.rows == result.inserted + result.failed
    assert sorted(doc["email"] for doc in db.users.find()) == [
        "user0@example.com",
        "user2@example.com",
        "user5@example.com",
    ]


def test_validation_errors_raise_bulk_write_error_with_global_indexes(db):
    data = users(5)
    data[3]["age"] = -4
    with pytest.raises(BulkWriteError) as caught:
        bulk_insert(User, data, ordered=False, batch_size=2)
    details = caught.value.details
    assert details["nInserted"] == 4
    assert [(e["index"], e["code"], e["field"]) for e in details["writeErrors"]] == [(3, 121, "age")]


def test_batch_size_500_makes_five_batches_and_reports_progress(db):
    seen = []
    result = bulk_insert(User, users(2300), batch_size=500, progress=lambda done, total: seen.append((done, total)))
    assert result.inserted_count == 2300
    assert len(result.batches) == 5
    assert seen == [(500, 2300), (1000, 2300), (1500, 2300), (2000, 2300), (2300, 2300)]


@pytest.mark.slow
def test_100k_documents_stream_from_a_generator(db):
    def generate():
        for i in range(100_000):
            yield {"name": f"User {i}", "email": f"user{i}@example.com", "age": 20 + (i % 60)}

    seen = []
    result = bulk_insert(User, generate(), batch_size=5000, progress=lambda done, total: seen.append(total))
    assert result.inserted_count == 100_000
    assert result.rows == 100_000
    assert set(seen) == {None}  # a generator's length is unknown
    assert db.users.count_documents({}) == 100_000
    assert db.users.count_documents({"age": 79}) == 100_000 // 60


def test_performance_monitoring_figures_come_from_the_result(db):
    result = bulk_insert(User, users(2500), batch_size=1000)
    assert [batch.number for batch in result.batches] == [1, 2, 3]
    assert all(batch.seconds > 0 for batch in result.batches)
    assert result.elapsed >= sum(batch.seconds for batch in result.batches)
    assert result.docs_per_second == pytest.approx(2500 / result.elapsed)
    assert "inserted 2500" in result.summary()


def _resilient_bulk_insert(data_list):
    """The guide's `resilient_bulk_insert`, unchanged in substance."""
    try:
        return int(bulk_insert(User, data_list, ordered=False, batch_size=10)), []
    except BulkWriteError as error:
        successful_count = error.details.get("nInserted", 0)
        failed_data = [data_list[e["index"]] for e in error.details.get("writeErrors", [])]
        return successful_count, failed_data


def test_resilient_bulk_insert_gets_exactly_the_rows_that_failed(db):
    bulk_insert(User, users(3, start=100))  # existing documents the input collides with
    data = users(50)
    data[23]["email"] = "user100@example.com"  # third of five batches
    data[27]["email"] = "user101@example.com"
    data[41]["email"] = "user5@example.com"  # duplicate within the input
    count, failures = _resilient_bulk_insert(data)
    assert count == 47
    assert failures == [data[23], data[27], data[41]]
    assert db.users.count_documents({}) == 50
