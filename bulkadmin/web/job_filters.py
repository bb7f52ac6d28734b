"""The jobs list's filters: kind, status, collection, user, and the days created from / to."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import QueryDict

from bulkadmin.models import Job
from bulkadmin.web.permissions import touching

FILTERS = ("kind", "status", "collection", "user", "from", "to")


def filter_jobs(jobs: QuerySet[Job], query: QueryDict) -> tuple[QuerySet[Job], dict[str, str], list[str]]:
    """`jobs` narrowed by the filters given in `query`; the values chosen; why a date was ignored."""
    chosen = {name: query.get(name, "").strip() for name in FILTERS}
    if chosen["kind"]:
        jobs = jobs.filter(kind=chosen["kind"])
    if chosen["status"]:
        jobs = jobs.filter(status=chosen["status"])
    if chosen["collection"]:
        jobs = jobs.filter(touching(chosen["collection"]))
    if chosen["user"]:
        jobs = jobs.filter(user__username=chosen["user"])
    problems = []
    for name, lookup in (("from", "created_at__date__gte"), ("to", "created_at__date__lte")):
        day, problem = _day(chosen[name], name)
        if day is not None:
            jobs = jobs.filter(**{lookup: day})
        elif problem:
            problems.append(problem)
            chosen[name] = ""
    return jobs, chosen, problems


def _day(text: str, name: str) -> tuple[dt.date | None, str]:
    """The day `text` names (YYYY-MM-DD), or why it names none ('' when empty)."""
    if not text:
        return None, ""
    try:
        return dt.date.fromisoformat(text), ""
    except ValueError:
        return None, f"The {name!r} day {text!r} is not a date like 2026-01-31: it was left out of the filter."
