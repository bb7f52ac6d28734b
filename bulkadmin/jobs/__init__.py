"""Jobs: the one runner that starts, checkpoints, cancels, finishes and records every operation.

`import_file(...)` / `resume_import(job_id)` run an import as a job; `cleanup_job`, `sync_job`
the others; `tasks` holds the background tasks the web queues.
"""

from bulkadmin.jobs.imports import import_file, resume_import, run_queued_import
from bulkadmin.jobs.runs import cleanup_job, sync_job

__all__ = ["cleanup_job", "import_file", "resume_import", "run_queued_import", "sync_job"]
