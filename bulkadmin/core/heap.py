"""Python's cyclic garbage collector kept off what a long batch run does not allocate.

A batch run allocates and frees millions of short-lived containers (rows, documents, model
instances), so collections run often; each full one walks every object the process holds
(Django, pydantic's schemas, the modules), which took a third of an import's CPU time. While
runs last, the objects that existed before the first of them are frozen (`gc.freeze`):
collections still free the runs' own garbage but no longer walk the rest. The last run to end
unfreezes them and collects in full what became garbage meanwhile, so nothing is kept for good.
Only long runs freeze (see `FREEZE_AFTER`): a process making many short ones collects as usual.
A process that froze its objects itself (a server after loading its code) is left as it is.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FREEZE_AFTER = 10  # batches a run goes through before it freezes the heap (a full collection ends it)
_lock = threading.Lock()
_runs = 0  # runs under way in this process
_froze = False  # whether the first of them froze the heap (nobody else had)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the objects alive now for as long as this run (and any run beside it) lasts."""
    global _runs, _froze
    with _lock:
        if _runs == 0 and gc.get_freeze_count() == 0:
            gc.collect(1)  # the young garbage first: frozen, then unfrozen as old, it would wait for a full collection
            gc.freeze()
            _froze = True
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _froze:
                gc.unfreeze()
                _froze = False
                gc.collect()  # what became garbage while frozen
