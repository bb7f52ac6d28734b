"""Typed results: counts per kind that also read as the job row's mapping, and one row-error type
that a job row stores and gives back (older import rows included)."""

from __future__ import annotations

import dataclasses

from bulkadmin.bulk.results import FieldError, Outcome, RowError
from bulkadmin.operations.results import ImportCounts, OperationResult, UpdateCounts


def test_counts_are_typed_and_read_as_the_mapping_a_job_row_stores():
    counts = UpdateCounts(rows=3, matched=3, modified=2, rejected=1)
    assert (counts.modified, counts["rejected"], counts.failed) == (2, 1, 0)
    assert dict(counts) == {
        "rows": 3,
        "inserted": 0,
        "matched": 3,
        "modified": 2,
        "upserted": 0,
        "deleted": 0,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
        "rejected": 1,
    }
    assert counts.plus({"rows": 4, "modified": 4}) == {**counts, "rows": 7, "modified": 6}


def test_a_result_has_no_count_or_detail_as_an_attribute():
    result = OperationResult(operation="import", counts=ImportCounts(rows=2, inserted=2), details={"mode": "insert"})
    assert (result.counts.inserted, result.details["mode"], result.status) == (2, "insert", Outcome.SUCCEEDED)
    assert not hasattr(result, "inserted") and not hasattr(result, "mode")


def test_a_row_error_comes_back_from_its_job_row():
    error = RowError(4, "age: not a number", field="age", field_errors=(FieldError("age", "not a number"),), line=6)
    assert RowError.from_row(dataclasses.asdict(error)) == error
    assert (str(error), error.row, error.outcome) == ("line 6: age: not a number", 5, "rejected")


def test_an_older_import_jobs_error_row_is_read_as_a_row_error():
    older = {"row": 3, "line": None, "field": None, "message": "duplicate key", "kind": "failed"}
    error = RowError.from_row(older)
    assert (error.index, error.kind, error.outcome, str(error)) == (2, "write", "failed", "item 3: duplicate key")
