"""Job figures in templates: `{{ seconds|duration }}` and `{{ job|outcome }}` (see `jobs.figures`)."""

from __future__ import annotations

from django import template

from bulkadmin.jobs import figures
from bulkadmin.models import Job

register = template.Library()


@register.filter
def duration(seconds: float | int | str | None) -> str:
    """Seconds as a readable duration ("0.17 s", "3 min 05 s"); text that is no number as it is."""
    if seconds is None or seconds == "":
        return "—"
    try:
        return figures.duration(float(seconds))
    except (TypeError, ValueError):
        return str(seconds)


@register.filter
def outcome(job: Job) -> str:
    """The job's counts in a few words ("12 created, 3 rejected")."""
    return figures.outcome(job)
