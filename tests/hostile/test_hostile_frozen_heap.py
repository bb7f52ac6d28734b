"""The garbage collector's freeze during batch runs, under attack: runs nested in one another,
runs in two threads overlapping in every order, a run whose writer raises, one stopped by a
KeyboardInterrupt, one that stops early and leaves its generator source unfinished, and two
dry-run imports at once. Afterwards nothing stays frozen, and what a run dropped is collected,
garbage cycles through objects frozen by the run included."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from bulkadmin.bulk import pipelining
from bulkadmin.bulk.pipelining import pipelined
from bulkadmin.core import heap
from bulkadmin.operations.imports import check_import_options, run_import
from project.collections import User
from tests.imports.conftest import user_rows, write_csv

WAIT = 30  # seconds a thread may wait for the other before the test fails instead of hanging


class Node:
    """A container that can take part in a reference cycle, and be watched by a weakref."""

    peer: Node | None = None


def settle_nothing(batch: object, written: object) -> None:
    return None


@pytest.fixture(autouse=True)
def freeze_from_the_first_batch(monkeypatch):
    """Every run here freezes at its first batch (a real one waits for `FREEZE_AFTER` batches)."""
    monkeypatch.setattr(pipelining, "FREEZE_AFTER", 1)


def test_a_nested_run_leaves_the_heap_frozen_until_the_outer_run_ends():
    counts: list[int] = []

    def write(batch: int) -> int:
        pipelined([batch], prepare=lambda b: b, write=lambda b: b, settle=settle_nothing)
        counts.append(gc.get_freeze_count())
        return batch

    pipelined([1, 2], prepare=lambda b: b, write=write, settle=settle_nothing)
    assert len(counts) == 2 and all(count > 0 for count in counts)
    assert gc.get_freeze_count() == 0
    assert heap._runs == 0


@pytest.mark.parametrize("first_to_end", ["first_started", "second_started"])
def test_two_runs_in_two_threads_unfreeze_once_the_last_one_ends(first_to_end):
    both_running, first_ended = threading.Barrier(2, timeout=WAIT), threading.Event()
    still_frozen: list[int] = []

    def run(name: str) -> None:
        def write(batch: int) -> int:
            both_running.wait()
            if name == first_to_end:
                return batch
            assert first_ended.wait(WAIT)
            still_frozen.append(gc.get_freeze_count())
            return batch

        pipelined([1], prepare=lambda b: b, write=write, settle=settle_nothing, name=f"heap-{name}")
        if name == first_to_end:
            first_ended.set()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first_started", "second_started")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(still_frozen) == 1 and still_frozen[0] > 0  # the other run's end did not unfreeze
    assert gc.get_freeze_count() == 0
    assert heap._runs == 0


def test_a_writer_that_raises_unfreezes_the_heap():
    def write(batch: int) -> int:
        raise ValueError(f"batch {batch} refused")

    with pytest.raises(ValueError, match="batch 1 refused"):
        pipelined([1, 2, 3], prepare=lambda b: b, write=write, settle=settle_nothing)
    assert gc.get_freeze_count() == 0
    assert heap._runs == 0


def test_a_keyboard_interrupt_while_settling_unfreezes_the_heap():
    def settle(batch: int, written: int) -> None:
        if batch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pipelined([1, 2, 3], prepare=lambda b: b, write=lambda b: b, settle=settle)
    assert gc.get_freeze_count() == 0
    assert heap._runs == 0


def test_a_run_stopped_early_leaves_its_generator_unfinished_and_the_heap_unfrozen():
    finished: list[bool] = []

    def source() -> Iterator[int]:
        yield from range(1, 100)
        finished.append(True)

    batches = source()
    unread = pipelined(batches, prepare=lambda b: b, write=lambda b: b, settle=settle_nothing, stopped=lambda: True)
    assert unread == 2 and next(batches) == 3 and finished == []
    assert gc.get_freeze_count() == 0
    watched = weakref.ref(batches)
    del batches
    gc.collect()
    assert watched() is None


def _cycle_through_an_object_older_than_the_run() -> tuple[weakref.ref[Node], weakref.ref[Node], list[int]]:
    """An object made before a run, joined during the run in a cycle with one the run makes,
    both then dropped: frozen by the run, the cycle cannot be collected while it lasts."""
    holder = [Node()]
    old = weakref.ref(holder[0])
    made: list[weakref.ref[Node]] = []
    alive_after_collect: list[int] = []

    def write(batch: int) -> int:
        new = Node()
        new.peer, holder[0].peer = holder[0], new
        made.append(weakref.ref(new))
        holder.clear()
        del new
        gc.collect()
        alive_after_collect.append(sum(ref() is not None for ref in (old, made[0])))
        return batch

    pipelined([1], prepare=lambda b: b, write=write, settle=settle_nothing)
    return old, made[0], alive_after_collect


def test_what_a_run_dropped_is_collected_after_it_cycles_through_frozen_objects_included():
    old, new, alive_during_run = _cycle_through_an_object_older_than_the_run()
    assert alive_during_run == [2]  # frozen: not collected while the run lasted
    gc.collect()
    assert (old(), new()) == (None, None)
    assert gc.get_freeze_count() == 0


def test_garbage_a_run_makes_on_its_own_is_collected_during_the_run():
    alive: list[bool] = []

    def write(batch: int) -> int:
        first, second = Node(), Node()
        first.peer, second.peer = second, first
        watched = weakref.ref(first)
        del first, second
        gc.collect()
        alive.append(watched() is not None)
        return batch

    pipelined([1, 2], prepare=lambda b: b, write=write, settle=settle_nothing)
    assert alive == [False, False]


@pytest.mark.django_db
def test_two_dry_run_imports_at_once_leave_nothing_frozen(db, tmp_path, jobs_dir):
    paths = [write_csv(tmp_path / f"file{n}.csv", "name,email,age", user_rows(2_000, start=n)) for n in range(2)]
    both_running = threading.Barrier(2, timeout=WAIT)
    results: dict[int, tuple[int, int]] = {}

    def dry_run(number: int) -> None:
        def progress(done) -> None:
            if done.rows == 500:
                both_running.wait()

        options = check_import_options(User, source=paths[number], dry_run=True, batch_size=500)
        result = run_import(
            model=User, options=options, db=db, progress=progress, error_file=tmp_path / f"errors{number}.csv"
        )
        results[number] = (result.counts["inserted"], result.counts["failed"])

    threads = [threading.Thread(target=dry_run, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert results == {0: (2_000, 0), 1: (2_000, 0)}
    assert gc.get_freeze_count() == 0
    assert heap._runs == 0


@pytest.fixture
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def test_garbage_cycles_made_between_many_runs_are_collected(monkeypatch):
    """Each run freezes what is alive when it starts: garbage cycles still young then are collected
    first, not frozen and then left among the old objects, which only a full collection walks."""
    watched: list[weakref.ref[Node]] = []
    for number in range(2_000):
        first, second = Node(), Node()
        first.peer, second.peer = second, first
        watched.append(weakref.ref(first))
        del first, second
        long_run = number % 100 == 0  # a few runs freeze (each ends with a full collection), most do not
        monkeypatch.setattr(pipelining, "FREEZE_AFTER", 1 if long_run else heap.FREEZE_AFTER)
        pipelined([1], prepare=lambda b: b, write=lambda b: b, settle=settle_nothing, inline=True)
    gc.collect(1)  # the young generations only: nothing may wait among the old objects
    assert sum(ref() is not None for ref in watched) == 0
    assert gc.get_freeze_count() == 0
