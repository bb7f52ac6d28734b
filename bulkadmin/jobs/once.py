"""One confirmation, one job: a job started by a confirmation carries the confirmation's one-time
key (`Job.request_token`, unique), so however many times the same POST arrives (a double click,
Back + resubmit, four at once) one job is created and the others find it.

Keys are either a form's token (`form_key`: a fresh value in each rendered form, scoped to the
user and the kind of job) or fixed for an action that may happen once per job (`undo_key`,
`confirm_key`).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction

from bulkadmin.models import Job

FIELD = "once"  # the form field carrying the token


def new_token() -> str:
    """A fresh token for one rendered form."""
    return secrets.token_urlsafe(18)


def form_key(kind: str, user: Any, token: str | None) -> str | None:
    """The key of a form's confirmation; None (no protection) when the POST carries no token."""
    token = (token or "").strip()[:100]
    return f"{kind}:{getattr(user, 'pk', None)}:{token}" if token else None


def undo_key(job: Job) -> str:
    """A job is undone at most once."""
    return f"undo-of:{job.pk}"


def confirm_key(dry_run: Job) -> str:
    """A dry-run import is confirmed (run for real) at most once."""
    return f"confirm-of:{dry_run.pk}"


def existing(key: str | None) -> Job | None:
    """The job a confirmation with `key` already created, if any."""
    return Job.objects.filter(request_token=key).first() if key else None


def create_once(key: str | None, **fields: Any) -> tuple[Job, bool]:
    """Create the job with `fields` unless the confirmation `key` already created one: return the
    job and whether it is new. The unique key makes this atomic, also between processes."""
    if key is None:
        return Job.objects.create(**fields), True
    try:
        with transaction.atomic():
            return Job.objects.create(request_token=key, **fields), True
    except IntegrityError:
        return Job.objects.get(request_token=key), False
