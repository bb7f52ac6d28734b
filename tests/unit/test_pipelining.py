"""The one batch pipeline: batch N+1 is prepared in the calling thread while batch N is written
in one writer thread, one batch in flight, settled in order in the calling thread."""

from __future__ import annotations

import threading

import pytest

from bulkadmin.bulk.pipelining import pipelined

WAIT = 30  # seconds a step may wait for another thread before the test fails instead of hanging


class Log:
    """What happened, in order, and in which thread."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, str]] = []
        self.lock = threading.Lock()

    def add(self, step: str, batch: int) -> None:
        with self.lock:
            self.events.append((step, batch, threading.current_thread().name))

    def steps(self, name: str) -> list[int]:
        return [batch for step, batch, _ in self.events if step == name]

    def position(self, step: str, batch: int) -> int:
        return next(n for n, (s, b, _) in enumerate(self.events) if (s, b) == (step, batch))


def run(log: Log, batches, **overrides):
    settled: list[tuple[int, str]] = []

    def write(batch: int) -> str:
        log.add("write", batch)
        return f"written {batch}"

    def settle(batch: int, written: str) -> None:
        log.add("settle", batch)
        settled.append((batch, written))

    def prepare(batch: int) -> int:
        log.add("prepare", batch)
        return batch

    steps = {"prepare": prepare, "write": write, "settle": settle, **overrides}
    return pipelined(batches, **steps, name="test-writer"), settled


def test_each_batch_is_written_in_the_writer_thread_and_settled_in_order_in_the_calling_thread():
    log = Log()
    unread, settled = run(log, range(5))
    assert unread is None
    assert settled == [(n, f"written {n}") for n in range(5)]
    caller = threading.current_thread().name
    assert {thread for step, _, thread in log.events if step != "write"} == {caller}
    assert {thread for step, _, thread in log.events if step == "write"} == {"test-writer_0"}


def test_the_next_batch_is_prepared_while_one_batch_at_most_is_in_flight():
    log = Log()
    prepared_next = {n: threading.Event() for n in range(5)}

    def prepare(batch: int) -> int:
        log.add("prepare", batch)
        if batch > 0:
            prepared_next[batch - 1].set()
        return batch

    def write(batch: int) -> str:
        log.add("write", batch)
        if batch < 4:  # the write of N waits for the caller to prepare N+1: they overlap
            assert prepared_next[batch].wait(WAIT)
        return f"written {batch}"

    run(log, range(5), prepare=prepare, write=write)
    for batch in range(1, 5):
        # batch N is sent only once N-1 is settled: never two in flight
        assert log.position("settle", batch - 1) < log.position("write", batch)
        assert log.position("prepare", batch) < log.position("settle", batch - 1)
    assert log.steps("settle") == list(range(5))


def test_an_exception_in_a_write_propagates_and_nothing_after_it_is_written():
    log = Log()

    def write(batch: int) -> str:
        log.add("write", batch)
        if batch == 2:
            raise ValueError("refused batch 2")
        return f"written {batch}"

    with pytest.raises(ValueError, match="refused batch 2"):
        run(log, range(5), write=write)
    assert log.steps("write") == [0, 1, 2]
    assert log.steps("settle") == [0, 1]


def test_the_batch_in_flight_is_settled_before_an_exception_in_prepare_propagates():
    log = Log()

    def prepare(batch: int) -> int:
        log.add("prepare", batch)
        if batch == 3:
            raise KeyError("unreadable batch 3")
        return batch

    with pytest.raises(KeyError, match="unreadable batch 3"):
        run(log, range(5), prepare=prepare)
    assert log.steps("write") == [0, 1, 2]
    assert log.steps("settle") == [0, 1, 2]


def test_an_exception_raised_while_settling_stops_before_the_next_write():
    log = Log()

    def settle(batch: int, written: str) -> None:
        log.add("settle", batch)
        if batch == 1:
            raise InterruptedError("cancelled after batch 1")

    with pytest.raises(InterruptedError):
        run(log, range(5), settle=settle)
    assert log.steps("write") == [0, 1]
    assert log.steps("prepare") == [0, 1, 2]


def test_an_exception_closes_the_batches_source_so_its_own_resources_end_with_the_call():
    closed = []

    def source():
        try:
            yield from range(5)
        finally:
            closed.append(True)

    def write(batch: int) -> str:
        if batch == 1:
            raise ValueError("refused batch 1")
        return f"written {batch}"

    with pytest.raises(ValueError) as raised:
        run(Log(), source(), write=write)
    assert closed == [True]  # while the exception (and its frames) is still held
    assert raised.value is not None


def test_a_stop_after_a_settle_returns_the_batch_read_but_not_written_and_reads_no_further():
    log = Log()
    batches = iter(range(10))
    unread, settled = run(log, batches, stopped=lambda: len(log.steps("settle")) == 2)
    assert unread == 2
    assert log.steps("write") == [0, 1]
    assert [batch for batch, _ in settled] == [0, 1]
    assert list(batches) == list(range(3, 10))  # the caller may count what was never read


def test_inline_writes_in_the_calling_thread_and_the_writer_thread_is_gone_after_the_call():
    log = Log()
    run(log, range(3), inline=True)
    assert {thread for _, _, thread in log.events} == {threading.current_thread().name}
    run(Log(), range(3))
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("test-writer")]
