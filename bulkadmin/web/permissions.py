"""Who may do what, per collection: the Django permissions `view_<collection>`,
`import_<collection>`, `export_<collection>`, `change_<collection>` and `delete_<collection>`
(see `core.rights`), and what each collection's `CollectionAdmin` allows at all. Superusers hold
every permission; a collection that does not allow an operation refuses it to everyone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from bulkadmin.core.collection_admin import ACTION_OF_OPERATION, ACTIONS, ALL_OPERATIONS, codename
from bulkadmin.core.registry import site
from bulkadmin.jobs import kinds
from bulkadmin.models import Job

OPERATION_NAMES = {"update": "bulk update", "delete": "bulk delete", "edit": "single edits"}


class MissingPermission(PermissionDenied):
    """A refusal naming what is missing: a permission (`.permission`, e.g. `bulkadmin.change_users`)
    or an operation the collection does not allow."""

    def __init__(self, message: str, permission: str = "") -> None:
        self.permission = permission
        super().__init__(message)


def may(user: Any, action: str, collection: str) -> bool:
    """Whether `user` holds the right `action` (view, import, export, change, delete) on `collection`."""
    if not (user.is_active and user.is_staff) or collection not in site:
        return False
    return site.admin(collection).has_permission(user, action)


def may_do(user: Any, operation: str, collection: str) -> bool:
    """Whether `collection` allows `operation` and `user` holds the right it needs there, and
    `view_` (every operation shows the collection's documents, counts or jobs)."""
    allowed = _allowed(operation, collection) and may(user, "view", collection)
    return allowed and may(user, ACTION_OF_OPERATION[operation], collection)


def _allowed(operation: str, collection: str) -> bool:
    """Whether the collection's admin allows `operation` (undo is not an operation a collection
    switches off: it restores what an allowed one did)."""
    if collection not in site:
        return False
    return operation not in ALL_OPERATIONS or site.admin(collection).allows(operation)


def require(user: Any, operation: str, collections: Iterable[str]) -> None:
    """Refuse (`MissingPermission`) unless `user` may do `operation` (or hold the right `view`)
    on every one of `collections`. Every operation needs `view_` too: its pages show the
    collection's documents (a bulk delete's samples), counts and jobs."""
    for collection in collections:
        if operation != "view" and collection in site and not _allowed(operation, collection):
            what = OPERATION_NAMES.get(operation, operation)
            raise MissingPermission(f"The collection {collection} does not allow {what}.")
        needed = ("view",) if operation == "view" else ("view", ACTION_OF_OPERATION[operation])
        for action in needed:
            if not may(user, action, collection):
                permission = f"bulkadmin.{codename(action, collection)}"
                raise MissingPermission(f"You need the permission {permission} for this page.", permission)


def visible_collections(user: Any) -> list[str]:
    """The registered collections `user` may see."""
    return [name for name in site.names() if may(user, "view", name)]


def collections_for(user: Any, operation: str) -> list[str]:
    """The registered collections on which `user` may do `operation`."""
    return [name for name in site.names() if may_do(user, operation, name)]


def job_collections(job: Job) -> list[str]:
    """The collections a job touches (a cleanup lists each of its rules' collections)."""
    return [name.strip() for name in job.collection.split(",") if name.strip()]


def may_see_job(user: Any, job: Job) -> bool:
    """Whether `user` may see `job`: its page, status, rows and files; it needs `view_` on every
    collection the job touches."""
    return all(may(user, "view", name) for name in job_collections(job))


def may_run_job(user: Any, job: Job) -> bool:
    """Whether `user` may start (cancel, re-run, resume) a job of `job`'s kind on its collections."""
    operation = kinds.get(job.kind).operation
    return may_see_job(user, job) and all(may_do(user, operation, name) for name in job_collections(job))


def visible_jobs(user: Any, jobs: QuerySet[Job]) -> QuerySet[Job]:
    """`jobs` narrowed to those `user` may see (the job table's distinct collection values are few)."""
    if user.is_active and user.is_superuser:
        return jobs
    allowed = set(visible_collections(user))
    values = Job.objects.order_by().values_list("collection", flat=True).distinct()
    seen = [value for value in values if value and all(name.strip() in allowed for name in value.split(","))]
    return jobs.filter(collection__in=seen)


def touching(collection: str) -> Q:
    """Jobs whose collections include `collection` (a cleanup lists several, comma-separated)."""
    listed = Q(collection__startswith=f"{collection}, ") | Q(collection__endswith=f", {collection}")
    return Q(collection=collection) | listed | Q(collection__contains=f", {collection}, ")


def menu(user: Any) -> dict[str, bool]:
    """Which operations `user` may start on some collection, for the pages' links (`can.update`)."""
    operations = ("import", "export", "update", "delete", "cleanup", "sync")
    return {operation: bool(collections_for(user, operation)) for operation in operations}


def rights(user: Any, collection: str) -> dict[str, bool]:
    """The user's rights and allowed operations on one collection, for its pages (`rights.change`)."""
    known = {action: may(user, action, collection) for action in ACTIONS}
    operations = ("import", "export", "update", "delete", "edit")
    return {**known, **{operation: may_do(user, operation, collection) for operation in operations}}
