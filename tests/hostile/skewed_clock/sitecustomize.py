"""A process started with `PYTHONPATH` pointing at this folder and `TEST_CLOCK_SKEW_SECONDS` set
runs its clock (Django's `timezone.now`, `time.time`) that many seconds off, as on a machine whose
clock drifted. The database's clock is not touched: SQLite's `'now'` and PostgreSQL's
`STATEMENT_TIMESTAMP()` read the system clock, not Python's."""

from __future__ import annotations

import datetime as dt
import os
import time

SKEW = float(os.environ.get("TEST_CLOCK_SKEW_SECONDS") or 0)

if SKEW:
    from django.utils import timezone

    _now, _time = timezone.now, time.time
    timezone.now = lambda: _now() + dt.timedelta(seconds=SKEW)
    time.time = lambda: _time() + SKEW
