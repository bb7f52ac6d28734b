"""The progress line the commands share: when it is drawn, how often, and in which style."""

from __future__ import annotations

import io

from django.core.management.base import OutputWrapper

from bulkadmin.management.progress import ProgressLine, duration


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def loud(text: str) -> str:
    return f"<{text}>"


def line_on(stream: io.StringIO, clock: Clock, verbosity: int = 1) -> ProgressLine:
    wrapper = OutputWrapper(stream)
    wrapper.style_func = str.upper  # as Django colours a command's standard error: never used for the line
    return ProgressLine(wrapper, verbosity=verbosity, unit="documents", problem_style=loud, clock=clock)


def test_a_healthy_line_is_plain_with_the_rate_and_an_eta_from_the_fraction():
    stream, clock = TTY(), Clock()
    line = line_on(stream, clock)
    clock.now += 2
    line.update(500, fraction=0.25)
    line.end()
    assert stream.getvalue() == (
        "\r[#######.......................]  25.0% 500 documents  250 documents/s  ETA 0:00:06   \n"
    )


def test_problems_are_said_and_styled_and_drawn_at_once():
    stream, clock = TTY(), Clock()
    line = line_on(stream, clock)
    clock.now += 1
    line.update(10)
    clock.now += 0.01
    line.update(20)  # within the interval: not drawn
    line.update(30, problems="1 rejected")  # a new problem: drawn at once
    assert stream.getvalue() == "\r10 documents  10 documents/s   <\r30 documents  30 documents/s  1 rejected   >"


def test_the_rate_of_a_run_carrying_on_an_earlier_one_counts_this_run_only():
    stream, clock = TTY(), Clock()
    line_on(stream, clock).update(1000, elapsed=2.0, done_this_run=100)
    assert "1,000 documents  50 documents/s" in stream.getvalue()


def test_nothing_is_drawn_off_a_terminal_or_at_verbosity_zero():
    for stream, verbosity in ((io.StringIO(), 1), (TTY(), 0)):
        line = line_on(stream, Clock(), verbosity)
        line.update(5, problems="1 failed")
        line.end()
        assert stream.getvalue() == ""


def test_duration_is_hours_minutes_seconds():
    assert [duration(s) for s in (-1, 59.9, 3661)] == ["0:00:00", "0:00:59", "1:01:01"]
