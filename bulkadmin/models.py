"""Django models: `Job`, the record of every bulk operation run from any entry point."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Job(models.Model):
    """One run of a bulk operation (CLI, web or task): parameters, status, counts, progress,
    per-batch figures and the first errors (the full error file stays on disk)."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        UPDATE = "update", "Bulk update"
        DELETE = "delete", "Bulk delete"
        CLEANUP = "cleanup", "Cleanup"
        SYNC = "sync", "Sync"
        UNDO = "undo", "Undo"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partially failed"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"
        CANCELLED = "cancelled", "Cancelled"

    class Origin(models.TextChoices):
        CLI = "cli", "Command line"
        CRON = "cron", "Cron"
        WEB = "web", "Web"
        TASK = "task", "Task"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    collection = models.CharField(max_length=200, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.CLI)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    dry_run = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    batches = models.JSONField(default=list, blank=True)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    last_committed_row = models.BigIntegerField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.BigIntegerField(default=0)
    error_file = models.CharField(max_length=500, blank=True)
    error_index = models.JSONField(default=dict, blank=True)  # byte offsets into the error file, for paging
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    worker_pid = models.IntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The one-time key of the confirmation that created the job: a second POST of the same form
    # (a double click, Back + resubmit, a retry) finds this job instead of creating another.
    request_token = models.CharField(max_length=200, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("run_import", "Can run imports"),
            ("run_update", "Can run bulk updates"),
            ("run_delete", "Can run bulk deletes"),
            ("run_sync", "Can run syncs"),
            ("run_cleanup", "Can run cleanups"),
            ("undo_job", "Can undo jobs"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.collection} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def elapsed(self) -> float | None:
        """Seconds from start to finish (or to now while running)."""
        if self.started_at is None:
            return None
        from django.utils import timezone

        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
