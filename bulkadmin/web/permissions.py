"""Who may do what: one Django permission per kind of operation; superusers have all."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from bulkadmin.models import Job

KIND_PERMISSIONS: dict[str, str] = {
    Job.Kind.IMPORT: "run_import",
    Job.Kind.UPDATE: "run_update",
    Job.Kind.DELETE: "run_delete",
    Job.Kind.SYNC: "run_sync",
    Job.Kind.CLEANUP: "run_cleanup",
    Job.Kind.UNDO: "undo_job",
}


def can(user: Any, codename: str) -> bool:
    """Whether `user` holds bulkadmin's permission `codename` (e.g. `run_update`)."""
    return bool(user.is_active and user.is_staff and user.has_perm(f"bulkadmin.{codename}"))


def can_run(user: Any, kind: str) -> bool:
    """Whether `user` may start (or cancel, or re-run) a job of `kind`."""
    codename = KIND_PERMISSIONS.get(kind)
    return codename is not None and can(user, codename)


def allowed(user: Any) -> dict[str, bool]:
    """Every permission by codename, for templates (`perms_for.run_update`)."""
    return {codename: can(user, codename) for codename in KIND_PERMISSIONS.values()}


def permission_required(codename: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """A view decorator answering 403 to users without `codename` (checked on every method)."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not can(request.user, codename):
                raise PermissionDenied(f"You need the permission {codename!r} for this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
