"""A clock for the schedules of the processes a test starts (`BULKADMIN_SCHEDULE_CLOCK`): time
passes `SCHEDULE_TEST_SPEED` times faster than the wall clock from `SCHEDULE_TEST_ANCHOR` (Unix
seconds) on, the same in every process, so minutes of schedules pass in seconds."""

from __future__ import annotations

import datetime as dt
import os
import time

PATH = "tests.schedules.clock.fast"


def fast() -> dt.datetime:
    anchor, speed = float(os.environ["SCHEDULE_TEST_ANCHOR"]), float(os.environ["SCHEDULE_TEST_SPEED"])
    return dt.datetime.fromtimestamp(anchor + (time.time() - anchor) * speed, dt.UTC)


def environment(speed: float) -> dict[str, str]:
    """The variables making a process's schedules use this clock, anchored now."""
    return {
        "BULKADMIN_SCHEDULE_CLOCK": PATH,
        "SCHEDULE_TEST_ANCHOR": repr(time.time()),
        "SCHEDULE_TEST_SPEED": repr(speed),
    }
