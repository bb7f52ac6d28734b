"""Batch pipelining, written once for the bulk service, composed updates and imports.

The next batch is prepared (read, validated, shaped) in the calling thread while one writer
thread writes the previous one: at most one batch is in flight, and each written batch is
settled (counted, checkpointed, reported) in the calling thread, in order, before the next one
is sent. While a long run lasts, the garbage collector leaves the older objects alone (`frozen_heap`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import TypeVar

from bulkadmin.core.heap import FREEZE_AFTER, frozen_heap

Batch = TypeVar("Batch")
Prepared = TypeVar("Prepared")
Written = TypeVar("Written")


def pipelined(
    batches: Iterable[Batch],
    *,
    prepare: Callable[[Batch], Prepared],
    write: Callable[[Prepared], Written],
    settle: Callable[[Prepared, Written], None],
    stopped: Callable[[], bool] = lambda: False,
    inline: bool = False,
    name: str = "bulkadmin-writer",
) -> Batch | None:
    """Prepare each batch, settle the one in flight, then (unless `stopped()` after that settle)
    send this one to `write` in the writer thread. Return the batch read after a stop (prepared,
    never written) for the caller to count, else None.

    Whatever `prepare`, `write` or `settle` raises propagates, the batch in flight settled first
    and `batches` closed (when it can be); the writer thread ends with the call. `inline` writes
    in the calling thread (no thread), for batches a thread would only slow down."""
    in_flight: tuple[Prepared, Future[Written]] | None = None
    with ExitStack() as stack:
        send = _write_now if inline else stack.enter_context(_writer_thread(name)).submit
        try:
            for number, batch in enumerate(batches, 1):
                if number == FREEZE_AFTER:  # a long run: the collector leaves older objects alone
                    stack.enter_context(frozen_heap())
                prepared = prepare(batch)
                if in_flight is not None:
                    done, in_flight = in_flight, None
                    settle(done[0], done[1].result())
                    if stopped():
                        return batch
                in_flight = (prepared, send(write, prepared))
        except BaseException:
            _close(batches)  # a source with a thread or a cursor of its own ends with the call
            raise
        finally:
            if in_flight is not None:
                settle(in_flight[0], in_flight[1].result())
    return None


def _close(batches: Iterable[object]) -> None:
    close = getattr(batches, "close", None)
    if close is not None:
        close()


def _writer_thread(name: str) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


def _write_now(write: Callable[[Prepared], Written], prepared: Prepared) -> Future[Written]:
    """`write` run in the calling thread, its result as a completed future."""
    done: Future[Written] = Future()
    done.set_result(write(prepared))
    return done
