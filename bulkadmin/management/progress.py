"""The progress line the long-running commands (`import_csv`, `cleanup_old_data`, `sync_external`)
draw on a terminal's standard error: a plain bar, coloured only once a problem is counted."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.core.management.base import OutputWrapper
from django.db.models.signals import post_save

from bulkadmin.models import Job

WIDTH = 30
INTERVAL = 0.1  # seconds between redraws


def plain(text: str) -> str:
    """A style that leaves the text as it is (Django colours a command's standard error as an error)."""
    return text


class ProgressLine:
    """One line redrawn in place at most every `INTERVAL` seconds: `[####....] 42.0% 1,234 rows
    900 rows/s ETA 0:00:03` when the fraction done is known, else the count and the rate. Drawn only
    on a terminal at verbosity 1 or more; `problem_style` (the command's style, e.g. WARNING)
    colours it once there are `problems`, which are also said in words (and drawn at once)."""

    def __init__(
        self,
        stream: OutputWrapper,
        *,
        verbosity: int,
        unit: str = "rows",
        problem_style: Callable[[str], str] = plain,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.unit, self.problem_style, self.clock = stream, unit, problem_style, clock
        self.enabled = verbosity >= 1 and stream.isatty()
        self.started = clock()
        self.drawn_at: float | None = None
        self.problems = ""
        self.shown = False

    def update(
        self,
        done: int,
        *,
        fraction: float | None = None,
        problems: str = "",
        elapsed: float | None = None,
        done_this_run: int | None = None,
    ) -> None:
        """Redraw with `done` units so far, the `fraction` of the whole when known, and `problems`
        (e.g. "3 rejected"; empty on a healthy run). The rate is `done_this_run` (default `done`)
        over `elapsed` seconds (default: since the line was made), for runs that carry on earlier ones."""
        now = self.clock()
        recent = self.drawn_at is not None and now - self.drawn_at < INTERVAL
        if not self.enabled or (recent and problems == self.problems):  # a new problem is shown at once
            return
        self.drawn_at, self.problems = now, problems
        seconds = now - self.started if elapsed is None else elapsed
        speed = (done if done_this_run is None else done_this_run) / seconds if seconds > 0 else 0.0
        bar, tail = "", ""
        if fraction is not None:
            filled = int(fraction * WIDTH)
            bar = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {fraction:6.1%} "
            tail = f"  ETA {duration(seconds / fraction - seconds)}" if fraction > 0 else ""
        told = f"  {problems}" if problems else ""
        line = f"\r{bar}{done:,} {self.unit}  {speed:,.0f} {self.unit}/s{tail}{told}   "
        self.stream.write(line, style_func=self.problem_style if problems else plain, ending="")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        """Finish the line (the summary follows on a line of its own)."""
        if self.shown:
            self.stream.write("", style_func=plain)
            self.shown = False


def duration(seconds: float) -> str:
    """`H:MM:SS`."""
    whole = int(max(seconds, 0))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


@contextlib.contextmanager
def showing_job_progress(line: ProgressLine, kind: str) -> Iterator[ProgressLine]:
    """Draw `line` from the progress the runner saves on this process's running job of `kind`
    (its `rows_done` and `rows_total`, saved after each batch), for a command whose runner call
    takes no progress callback of its own."""

    def saved(sender: type[Job], instance: Job, update_fields: Any = None, **kwargs: Any) -> None:
        if instance.kind != kind or not update_fields or "rows_done" not in update_fields:
            return
        if instance.worker_pid == os.getpid() and instance.status == Job.Status.RUNNING:
            total = instance.rows_total
            line.update(instance.rows_done or 0, fraction=(instance.rows_done or 0) / total if total else None)

    post_save.connect(saved, sender=Job, weak=False)
    try:
        yield line
    finally:
        post_save.disconnect(saved, sender=Job)
        line.end()
