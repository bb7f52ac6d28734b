"""How an operation reports progress and learns that it should stop.

Operations call their `progress` callback after each batch; whoever runs them (the jobs runner,
a test, a script) records it, and raises `Cancelled` from it when the run should stop. The
operation lets the exception through: the batches already written stay written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bulkadmin.core.exceptions import BulkAdminError

Progress = Callable[[int, int | None], None]  # rows done so far, the total when known


class Cancelled(BulkAdminError):
    """The run was cancelled (a user asked); raised from a progress callback between batches.
    An operation may set `.result` to what it did before stopping (its partial result)."""

    result: Any = None
