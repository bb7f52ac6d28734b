"""Write-concern errors in the bulk service's pure logic: each write's outcome is the result
pymongo's own bulk code builds from the server's replies (`_merge_command`, then the
`BulkWriteError` it raises), fed to the plans as the drivers feed them."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import InsertOne
from pymongo.bulk_shared import _merge_command, _raise_bulk_write_error, _Run
from pymongo.errors import BulkWriteError as PymongoBulkWriteError
from pymongo.message import _INSERT

from bulkadmin.bulk import BulkWriteError, WriteConcernError
from bulkadmin.bulk.options import Clock, build_plan
from bulkadmin.bulk.plans import Write, merge_outcomes
from bulkadmin.bulk.results import BulkResult, Outcome
from bulkadmin.jobs.summaries import summary
from bulkadmin.operations.results import from_bulk
from project.collections import User
from tests.factories import user

TIMED_OUT = {
    "code": 64,
    "codeName": "WriteConcernFailed",
    "errmsg": "waiting for replication timed out",
    "errInfo": {"wtimeout": True, "writeConcern": {"w": "majority", "wtimeout": 100, "provenance": "clientSupplied"}},
}
TOO_FEW_NODES = {
    "code": 100,
    "codeName": "UnsatisfiableWriteConcern",
    "errmsg": "Not enough data-bearing nodes",
    "errInfo": {"writeConcern": {"w": 2, "wtimeout": 0, "provenance": "clientSupplied"}},
}


def pymongo_outcome(ops: list[Any], replies: list[dict[str, Any]]) -> dict[str, Any]:
    """What the service's driver gets from `collection.bulk_write(ops)` when the server answered
    its insert commands (in order, each covering `n` ops) with `replies`: pymongo merges them
    into its full result and raises `BulkWriteError` with it, whose `details` the driver returns."""
    run = _Run(_INSERT)
    for index, op in enumerate(ops):
        run.add(index, op)
    full: dict[str, Any] = {
        "writeErrors": [],
        "writeConcernErrors": [],
        "nInserted": 0,
        "nUpserted": 0,
        "nMatched": 0,
        "nModified": 0,
        "nRemoved": 0,
        "upserted": [],
    }
    offset = 0
    for reply in replies:
        _merge_command(run, full, offset, reply)
        offset += reply["n"] + len(reply.get("writeErrors", []))
    with pytest.raises(PymongoBulkWriteError) as raised:
        _raise_bulk_write_error(full)
    return raised.value.details


def insert_in_batches(batches: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]], *, ordered: bool = True):
    """Run an insert plan over consecutive batches of rows, each written with the replies given;
    return its clock (conclude it for the result)."""
    plan = build_plan("insert", User, ordered=ordered)
    clock = Clock(plan, None, None)
    start = 0
    for rows, replies in batches:
        steps = plan.batch(plan.prepare(list(enumerate(rows, start))))
        write = next(steps)
        assert isinstance(write, Write)
        with pytest.raises(StopIteration):
            steps.send(pymongo_outcome([InsertOne(row) for row in write.requests], replies))
        clock.batch_finished(len(rows), 0.01)
        start += len(rows)
    return clock


def test_write_concern_errors_of_every_batch_are_kept_in_order_as_the_server_sent_them():
    clock = insert_in_batches(
        [
            ([user(0), user(1)], [{"n": 2, "ok": 1.0, "writeConcernError": TIMED_OUT}]),
            ([user(2), user(3)], [{"n": 1, "ok": 1.0}, {"n": 1, "ok": 1.0, "writeConcernError": TOO_FEW_NODES}]),
        ]
    )
    result = clock.conclude(raise_on_error=False)
    assert result.write_concern_errors == (
        WriteConcernError(
            code=64,
            message="waiting for replication timed out",
            code_name="WriteConcernFailed",
            err_info={
                "wtimeout": True,
                "writeConcern": {"w": "majority", "wtimeout": 100, "provenance": "clientSupplied"},
            },
        ),
        WriteConcernError(
            code=100,
            message="Not enough data-bearing nodes",
            code_name="UnsatisfiableWriteConcern",
            err_info={"writeConcern": {"w": 2, "wtimeout": 0, "provenance": "clientSupplied"}},
        ),
    )
    assert result.details()["writeConcernErrors"] == [TIMED_OUT, TOO_FEW_NODES]
    assert (result.rows, result.inserted, result.failed, result.errors) == (4, 4, 0, ())
    assert result.ok is False


def test_a_run_with_only_write_concern_errors_raises_bulk_write_error_carrying_them():
    clock = insert_in_batches([([user(0), user(1), user(2)], [{"n": 3, "ok": 1.0, "writeConcernError": TIMED_OUT}])])
    with pytest.raises(BulkWriteError) as raised:
        clock.conclude(raise_on_error=True)
    details = raised.value.details
    assert details["writeConcernErrors"] == [TIMED_OUT]
    assert (details["nInserted"], details["writeErrors"]) == (3, [])
    assert str(raised.value) == (
        "write concern not met for 1 write(s): code 64 WriteConcernFailed: waiting for replication timed out"
    )
    assert raised.value.result.inserted == 3


def test_write_concern_error_and_a_failed_row_are_both_kept_with_the_row_at_its_global_index():
    duplicate = {"index": 1, "code": 11000, "errmsg": "E11000 duplicate key error collection: users"}
    clock = insert_in_batches(
        [
            ([user(0), user(1)], [{"n": 2, "ok": 1.0}]),
            (
                [user(2), user(0), user(4)],
                [{"n": 1, "ok": 1.0, "writeErrors": [duplicate], "writeConcernError": TIMED_OUT}],
            ),
        ]
    )
    with pytest.raises(BulkWriteError) as raised:
        clock.conclude(raise_on_error=True)
    details = raised.value.details
    assert [(error["index"], error["code"]) for error in details["writeErrors"]] == [(3, 11000)]
    assert details["writeConcernErrors"] == [TIMED_OUT]
    result = raised.value.result
    assert (result.inserted, result.failed, result.skipped) == (3, 1, 1)
    assert str(raised.value) == (
        "1 row(s) failed; first at index 3: E11000 duplicate key error collection: users; "
        "write concern not met for 1 write(s): code 64 WriteConcernFailed: waiting for replication timed out"
    )


def test_error_labels_pymongo_attaches_are_kept():
    labelled = {"n": 2, "ok": 1.0, "writeConcernError": TIMED_OUT, "errorLabels": ["RetryableWriteError"]}
    result = insert_in_batches([([user(0), user(1)], [labelled])]).conclude(raise_on_error=False)
    assert result.write_concern_errors[0].error_labels == ("RetryableWriteError",)
    assert result.details()["writeConcernErrors"] == [{**TIMED_OUT, "errorLabels": ["RetryableWriteError"]}]


def test_halves_of_a_split_batch_keep_both_write_concern_errors():
    first = {"nInserted": 2, "writeErrors": [], "writeConcernErrors": [TIMED_OUT]}
    second = {
        "nInserted": 1,
        "writeErrors": [{"index": 0, "code": 2, "errmsg": "refused"}],
        "writeConcernErrors": [TOO_FEW_NODES],
    }
    merged = merge_outcomes(first, second, 2)
    assert merged["writeConcernErrors"] == [TIMED_OUT, TOO_FEW_NODES]
    assert merged["writeErrors"] == [{"index": 2, "code": 2, "errmsg": "refused"}]


def test_a_result_with_write_concern_errors_is_a_partial_operation_result_that_says_so():
    concern = WriteConcernError.from_reply(TIMED_OUT)
    bulk = BulkResult(operation="update", rows=4, matched=4, modified=4, write_concern_errors=(concern, concern))
    result = from_bulk(bulk, target="users")
    assert (result.status, result.ok, result.write_concern_errors) == (Outcome.PARTIAL, False, (concern, concern))
    assert summary(result).splitlines() == [
        "update users: rows 4, matched 4, modified 4 in 0.00s",
        "Write concern not met for 2 write(s): code 64 WriteConcernFailed: waiting for replication timed out.",
    ]
    assert bulk.summary() == (
        "update: rows 4, matched 4, modified 4 in 0.00s; "
        "write concern not met for 2 write(s): code 64 WriteConcernFailed: waiting for replication timed out"
    )
