"""Small factories for test documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


def user(number: int, **fields: Any) -> dict[str, Any]:
    """A valid user row; `fields` override the defaults."""
    return {"name": f"User {number}", "email": f"user{number}@example.com", "age": 20 + number % 60, **fields}


def users(count: int, start: int = 0, **fields: Any) -> list[dict[str, Any]]:
    return [user(number, **fields) for number in range(start, start + count)]


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)
