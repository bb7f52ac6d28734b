"""While batch runs last, the objects alive before them are frozen out of garbage collection, and
only the last run to end unfreezes them."""

from __future__ import annotations

import gc

import pytest

from bulkadmin.bulk.pipelining import pipelined
from bulkadmin.core.heap import frozen_heap


def test_runs_beside_each_other_keep_the_heap_frozen_until_the_last_ends():
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with frozen_heap():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_a_pipelined_run_prepares_and_writes_with_the_heap_frozen_and_unfreezes_it_after():
    seen: list[tuple[str, int]] = []
    pipelined(
        [1, 2, 3],
        prepare=lambda batch: seen.append(("prepare", gc.get_freeze_count())) or batch,
        write=lambda batch: seen.append(("write", gc.get_freeze_count())) or batch,
        settle=lambda batch, written: None,
    )
    assert [step for step, _ in seen].count("write") == 3
    assert all(count > 0 for _, count in seen)
    assert gc.get_freeze_count() == 0


def test_a_run_that_raises_unfreezes_the_heap():
    def fail(batch: int) -> int:
        raise ValueError(batch)

    with pytest.raises(ValueError):
        pipelined([1], prepare=fail, write=lambda batch: batch, settle=lambda batch, written: None)
    assert gc.get_freeze_count() == 0


def test_a_heap_frozen_by_the_process_itself_is_left_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with frozen_heap():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
