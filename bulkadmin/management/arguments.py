"""Typed argparse validators shared by the management commands, and errors worded with their flags."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

from bulkadmin.core.exceptions import BulkAdminError


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse `type` accepting whole numbers of at least `minimum`, with a clear message."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{value!r} must be at least {minimum}")
        return number

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def flag_for(option: str, flags: Mapping[str, str] | None = None) -> str:
    """The command-line flag of an operation's option: `flags[option]`, else `--option-name`."""
    return (flags or {}).get(option) or "--" + option.replace("_", "-")


def worded(error: BulkAdminError, flags: Mapping[str, str] | None = None) -> str:
    """The error as the command line says it: the option it is about named by its flag."""
    return f"{flag_for(error.option, flags)}: {error}" if error.option else str(error)
