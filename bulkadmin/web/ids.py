"""Document ids in URLs: an ObjectId as its 24 hex digits, an integer as digits, text as is."""

from __future__ import annotations

from typing import Any

from bson import ObjectId


def id_text(value: Any) -> str:
    """The text of an `_id` for a URL."""
    return str(value)


def id_candidates(text: str) -> list[Any]:
    """The `_id` values `text` may stand for, the likeliest first (ObjectId, integer, text)."""
    candidates: list[Any] = []
    if ObjectId.is_valid(text) and len(text) == 24:
        candidates.append(ObjectId(text))
    if text.lstrip("-").isdigit():
        candidates.append(int(text))
    candidates.append(text)
    return candidates
