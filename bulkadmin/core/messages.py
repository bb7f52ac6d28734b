"""pydantic's validation messages in words a user can act on: a pattern is named by what it
expects ("an email address such as name@example.com"), never quoted as a regex."""

from __future__ import annotations

from typing import Any

_PATTERN_NAMES: dict[str, str] = {}


def name_pattern(pattern: str, meaning: str) -> str:
    """Say `meaning` wherever a value fails `pattern`; returns the pattern, to declare it in one line."""
    _PATTERN_NAMES[pattern] = meaning
    return pattern


def readable(detail: Any) -> str:
    """The message of one of pydantic's `errors()`, with a failed pattern said by its meaning."""
    if detail.get("type") != "string_pattern_mismatch":
        return str(detail["msg"])
    meaning = _PATTERN_NAMES.get(str((detail.get("ctx") or {}).get("pattern", "")))
    return f"should be {meaning}" if meaning else "does not have the form this field expects"
