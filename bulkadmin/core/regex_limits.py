"""Limits on user-written regular expressions, so one `$regex` cannot hold the server.

A pattern is refused when it is longer than `MAX_REGEX_LENGTH`, does not parse, uses a
backreference, nests a repeat inside a repeat (`(a+)+`, `(.*)*`), repeats a group whose
alternatives can start with the same character (`(a|a)*`, `(\\w|\\d)+`), has a repeat count
above `MAX_REPEAT_COUNT` or more than `MAX_WILDCARD_REPEATS` unbounded wildcard repeats
(`.*`, `\\w+`, `[^x]*`). Detected from the parsed pattern; nothing is run.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from bulkadmin.core.exceptions import InvalidSpec

MAX_REGEX_LENGTH = 200
MAX_REPEAT_COUNT = 1000
MAX_WILDCARD_REPEATS = 3
REGEX_OPTIONS = "imsx"

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_GROUP_PREFIX = re.compile(r"\?(?:[:>]|P?<\w+>|[aiLmsux-]*:)")
_WIDE = None  # a first-character set that may hold any character


class _Unsafe(Exception):
    """A reason to refuse a pattern, found while scanning it."""


def check_regex(pattern: Any, options: Any, field: str) -> None:
    """Refuse a pattern (a string or compiled) that could backtrack for a long time."""
    text, flags = (pattern.pattern, pattern.flags) if isinstance(pattern, re.Pattern) else (pattern, 0)
    if isinstance(text, bytes) or not isinstance(text, str):
        raise _refuse(field, "the pattern must be text")
    flags |= _option_flags(options, field)
    if len(text) > MAX_REGEX_LENGTH:
        raise _refuse(field, f"the pattern is longer than {MAX_REGEX_LENGTH} characters")
    if "\x00" in text:
        raise _refuse(field, "the pattern has a NUL character")
    try:
        parsed = sre_parse.parse(text, flags & ~re.UNICODE)
    except (re.error, OverflowError, RecursionError, ValueError) as error:
        raise _refuse(field, f"it is not a supported regular expression ({error})") from None
    try:
        wildcards = _scan(list(parsed), inside_repeat=False)
    except _Unsafe as unsafe:
        raise _refuse(field, str(unsafe)) from None
    if wildcards > MAX_WILDCARD_REPEATS:
        raise _refuse(field, f"it has more than {MAX_WILDCARD_REPEATS} unbounded wildcard repeats such as .* or \\w+")
    for alternatives in _repeated_alternations(text):
        if _overlapping(alternatives, flags):
            raise _refuse(field, "a repeated group has alternatives that can match the same text, as in (a|a)*")


def _option_flags(options: Any, field: str) -> int:
    if options is None:
        return 0
    if not isinstance(options, str) or set(options) - set(REGEX_OPTIONS):
        raise InvalidSpec(
            f"{field}: $options may only hold the letters {REGEX_OPTIONS}, got {options!r}.",
            field=field,
            operator="$options",
        )
    flags = 0
    for letter in options:
        flags |= _FLAGS[letter]
    return flags


def _refuse(field: str, reason: str) -> InvalidSpec:
    return InvalidSpec(f"{field}: this $regex is not allowed: {reason}.", field=field, operator="$regex")


def _scan(items: list[tuple[Any, Any]], inside_repeat: bool) -> int:
    """Check the parsed items; return how many unbounded wildcard repeats they hold."""
    wildcards = 0
    for op, av in items:
        if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            raise _Unsafe("backreferences are not allowed")
        if op in _REPEATS:
            wildcards += _scan_repeat(av, inside_repeat)
        elif op is sre.SUBPATTERN:
            wildcards += _scan(list(av[3]), inside_repeat)
        elif op is sre.BRANCH:
            wildcards += sum(_scan(list(alt), inside_repeat) for alt in av[1])
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            wildcards += _scan(list(av[1]), inside_repeat)
        elif op is sre.ATOMIC_GROUP:
            wildcards += _scan(list(av), inside_repeat)
    return wildcards


def _scan_repeat(av: tuple[int, int, Any], inside_repeat: bool) -> int:
    low, high, body = av
    unbounded = high is sre.MAXREPEAT or high == sre.MAXREPEAT
    if low > MAX_REPEAT_COUNT or (not unbounded and high > MAX_REPEAT_COUNT):
        raise _Unsafe(f"a repeat count is above {MAX_REPEAT_COUNT}")
    varies = high > 1 and high != low
    if inside_repeat and varies:
        raise _Unsafe("it nests a repeat inside a repeat, as in (a+)+ or (.*)*")
    inner = _scan(list(body), inside_repeat or high > 1)
    first, _ = _first(list(body))
    return inner + (1 if unbounded and first is _WIDE else 0)


def _first(items: list[tuple[Any, Any]]) -> tuple[set[int] | None, bool]:
    """The characters the items can start with (`_WIDE` for any) and whether they can be empty."""
    chars: set[int] = set()
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is sre.LITERAL:
            return chars | {ord(chr(av).lower())}, False
        if op is sre.IN:
            found = _class(av)
            return (_WIDE, False) if found is _WIDE else (chars | found, False)
        inner, nullable = _inner_first(op, av)
        if inner is _WIDE:
            return _WIDE, False
        chars |= inner
        if not nullable:
            return chars, False
    return chars, True


def _inner_first(op: Any, av: Any) -> tuple[set[int] | None, bool]:
    if op is sre.SUBPATTERN:
        return _first(list(av[3]))
    if op is sre.ATOMIC_GROUP:
        return _first(list(av))
    if op in _REPEATS:
        inner, nullable = _first(list(av[2]))
        return inner, nullable or av[0] == 0
    if op is sre.BRANCH:
        chars: set[int] = set()
        nullable = False
        for alt in av[1]:
            found, empty = _first(list(alt))
            if found is None:  # _WIDE: any character may come first
                return _WIDE, False
            chars |= found
            nullable = nullable or empty
        return chars, nullable
    return _WIDE, False


def _class(items: list[tuple[Any, Any]]) -> set[int] | None:
    chars: set[int] = set()
    for op, av in items:
        if op is sre.LITERAL:
            chars.add(ord(chr(av).lower()))
        elif op is sre.RANGE and av[1] - av[0] <= 256:
            chars.update(ord(chr(code).lower()) for code in range(av[0], av[1] + 1))
        else:
            return _WIDE
    return chars


def _overlapping(alternatives: list[str], flags: int) -> bool:
    """Whether two alternatives of a group can start with the same character."""
    firsts = []
    for text in alternatives:
        try:
            found, _ = _first(list(sre_parse.parse(text, flags & ~re.UNICODE)))
        except re.error:
            return True
        firsts.append(found)
    for number, first in enumerate(firsts):
        for other in firsts[number + 1 :]:
            if _meet(first, other):
                return True
    return False


def _meet(first: set[int] | None, other: set[int] | None) -> bool:
    if first is _WIDE:
        return other is _WIDE or bool(other)
    if other is _WIDE:
        return bool(first)
    return bool(first & other)


def _repeated_alternations(text: str) -> list[list[str]]:
    """The alternatives of every group that has `|` at its own level and a repeat after it.

    Read from the text, because the parser merges alternatives (`(a|a)` -> `a`)."""
    found: list[list[str]] = []
    stack: list[tuple[int, list[int]]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(text, index)
        elif char == "(":
            stack.append((index, []))
        elif char == "|" and stack:
            stack[-1][1].append(index)
        elif char == ")" and stack:
            start, bars = stack.pop()
            if bars and _repeats(text, index + 1):
                found.append(_split(text, start, bars, index))
        index += 1
    return found


def _split(text: str, start: int, bars: list[int], end: int) -> list[str]:
    prefix = _GROUP_PREFIX.match(text, start + 1)
    body_start = prefix.end() if prefix else start + 1
    edges = [body_start - 1, *bars, end]
    return [text[edges[n] + 1 : edges[n + 1]] for n in range(len(edges) - 1)]


def _repeats(text: str, index: int) -> bool:
    if text[index : index + 1] in ("*", "+"):
        return True
    bound = re.match(r"\{(\d*)(,(\d*))?\}", text[index:])
    if bound is None:
        return False
    high = bound.group(3) if bound.group(2) else bound.group(1)
    return not high or int(high) > 1


def _class_end(text: str, index: int) -> int:
    """The index of the `]` closing the character class that starts at `index`."""
    index += 1
    if text[index : index + 1] == "^":
        index += 1
    if text[index : index + 1] == "]":
        index += 1
    while index < len(text) and text[index] != "]":
        index += 2 if text[index] == "\\" else 1
    return index
