"""Document ids in URLs: an ObjectId as its 24 hex digits, an integer as digits, text as is."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

INT64_DIGITS = 20  # the most characters of a 64-bit integer, sign included


def id_text(value: Any) -> str:
    """The text of an `_id` for a URL."""
    return str(value)


def id_candidates(text: str) -> list[Any]:
    """The `_id` values `text` may stand for, the likeliest first (ObjectId, integer, text)."""
    candidates: list[Any] = []
    if ObjectId.is_valid(text) and len(text) == 24:
        candidates.append(ObjectId(text))
    if text.lstrip("-").isdigit() and len(text) <= INT64_DIGITS and -(2**63) <= int(text) < 2**63:
        candidates.append(int(text))  # a longer number cannot be a stored integer: it stays text
    candidates.append(text)
    return candidates
