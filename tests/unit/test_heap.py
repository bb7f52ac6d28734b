"""While batch runs last, the objects alive before them are frozen out of garbage collection, and
only the last run to end unfreezes them."""

from __future__ import annotations

import gc

import pytest

from bulkadmin.bulk.pipelining import pipelined
from bulkadmin.core import heap
from bulkadmin.core.heap import FREEZE_AFTER, frozen_heap


def test_runs_beside_each_other_keep_the_heap_frozen_until_the_last_ends():
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        with frozen_heap():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # the inner run's end did not unfreeze
    assert gc.get_freeze_count() == 0


def test_a_long_pipelined_run_freezes_the_heap_from_its_fifth_batch_and_unfreezes_it_after():
    seen: list[tuple[str, int, int]] = []
    pipelined(
        range(1, 9),
        prepare=lambda batch: seen.append(("prepare", batch, gc.get_freeze_count())) or batch,
        write=lambda batch: seen.append(("write", batch, gc.get_freeze_count())) or batch,
        settle=lambda batch, written: None,
    )
    prepared = [(batch, count > 0) for step, batch, count in seen if step == "prepare"]
    assert prepared == [(batch, batch >= FREEZE_AFTER) for batch in range(1, 9)]
    assert [batch for step, batch, _ in seen if step == "write"] == list(range(1, 9))
    assert gc.get_freeze_count() == 0


def test_a_short_pipelined_run_leaves_the_collector_as_it_is():
    counts: list[int] = []
    pipelined(
        range(FREEZE_AFTER - 1),
        prepare=lambda batch: counts.append(gc.get_freeze_count()) or batch,
        write=lambda batch: batch,
        settle=lambda batch, written: None,
    )
    assert counts == [0] * (FREEZE_AFTER - 1)


def test_a_run_that_raises_unfreezes_the_heap():
    def fail(batch: int) -> int:
        raise ValueError(batch)

    with pytest.raises(ValueError):
        pipelined(range(1, 9), prepare=fail, write=lambda batch: batch, settle=lambda batch, written: None)
    assert gc.get_freeze_count() == 0


def test_a_heap_frozen_by_the_process_itself_is_left_frozen():
    gc.freeze()
    try:
        with frozen_heap():
            assert gc.get_freeze_count() > 0 and not heap._froze
        assert gc.get_freeze_count() > 0  # not unfrozen by the run
    finally:
        gc.unfreeze()
