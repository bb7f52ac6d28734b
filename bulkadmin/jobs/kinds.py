"""The job-kind registry: each kind of job declared once, with the operation it is (which decides
the right it needs on its collections, see `core.collection_admin.ACTION_OF_OPERATION`), its
parameter schema, and how a queued job of that kind is run. The tasks, the launch of web jobs
and the permission checks look kinds up here.

Adding a job kind: a `Job.Kind` choice, its operation, and one `register(JobKind(...))` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bulkadmin.core.collection_admin import ACTION_OF_OPERATION
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import exports, imports, runs
from bulkadmin.jobs.parameters import BulkParameters, CleanupParameters, SyncParameters, UndoParameters
from bulkadmin.models import Job
from bulkadmin.operations.imports import ImportOptions


@dataclass(frozen=True)
class JobKind:
    """One kind of job: `operation` (import, export, update, delete, edit, undo, cleanup, sync),
    its typed `parameters` schema, and `run`, which runs a queued job of the kind (None: the
    kind never waits in the queue, as a single edit is done within its request)."""

    kind: str
    operation: str
    parameters: type | None
    run: Callable[[Job], Any] | None

    @property
    def action(self) -> str:
        """The right this kind needs on each collection it touches: `view`, `import`, `export`, `change`, `delete`."""
        return ACTION_OF_OPERATION[self.operation]


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Declare a job kind (replacing an earlier declaration of the same kind)."""
    KINDS[kind.kind] = kind
    return kind


def get(kind: str) -> JobKind:
    """The declaration of `kind`; `BulkAdminError` for a kind nobody declared."""
    try:
        return KINDS[kind]
    except KeyError:
        raise BulkAdminError(f"Unknown job kind {kind!r}; known: {', '.join(sorted(KINDS))}.") from None


def run_queued(job: Job) -> Any:
    """Run a queued job through its kind's runner."""
    declared = get(job.kind)
    if declared.run is None:
        raise BulkAdminError(f"{job.get_kind_display()} jobs are not run from the queue.")
    return declared.run(job)


register(JobKind(Job.Kind.IMPORT, "import", ImportOptions, imports.run_queued_import))
register(JobKind(Job.Kind.EXPORT, "export", exports.ExportParameters, exports.run_queued_export))
register(JobKind(Job.Kind.UPDATE, "update", BulkParameters, runs.update_job))
register(JobKind(Job.Kind.DELETE, "delete", BulkParameters, runs.delete_job))
register(JobKind(Job.Kind.UNDO, "undo", UndoParameters, runs.undo_job))
register(JobKind(Job.Kind.CLEANUP, "cleanup", CleanupParameters, runs.queued_cleanup))
register(JobKind(Job.Kind.SYNC, "sync", SyncParameters, runs.queued_sync))
register(JobKind(Job.Kind.EDIT, "edit", None, None))
