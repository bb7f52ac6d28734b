"""Django models: `Job`, the record of every bulk operation run from any entry point."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: PostgreSQL refuses both


def storable_text(text: str) -> str:
    """`text` with the characters a database cannot store (NUL, lone surrogates) replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(item) for item in value]
    return value


class StorableJSONEncoder(DjangoJSONEncoder):
    """JSON every database accepts: text from hostile files (NUL bytes, lone surrogates) is kept
    readable on the job, with those characters replaced by U+FFFD."""

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        return super().iterencode(_storable(o), _one_shot)


class Job(models.Model):
    """One run of a bulk operation (CLI, web or task): parameters, status, counts, progress,
    per-batch figures and the first errors (the full error file stays on disk)."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        EXPORT = "export", "Export"
        UPDATE = "update", "Bulk update"
        DELETE = "delete", "Bulk delete"
        CLEANUP = "cleanup", "Cleanup"
        SYNC = "sync", "Sync"
        UNDO = "undo", "Undo"
        EDIT = "edit", "Edit"

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
    parameters = models.JSONField(default=dict, blank=True, encoder=StorableJSONEncoder)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.CLI)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    dry_run = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, encoder=StorableJSONEncoder)
    details = models.JSONField(default=dict, blank=True, encoder=StorableJSONEncoder)
    batches = models.JSONField(default=list, blank=True, encoder=StorableJSONEncoder)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    last_committed_row = models.BigIntegerField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True, encoder=StorableJSONEncoder)
    error_count = models.BigIntegerField(default=0)
    error_file = models.CharField(max_length=500, blank=True)
    # byte offsets into the error file, for paging
    error_index = models.JSONField(default=dict, blank=True, encoder=StorableJSONEncoder)
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    worker_pid = models.IntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The one-time key of the confirmation that created the job: a second POST of the same form
    # (a double click, Back + resubmit, a retry) finds this job instead of creating another.
    request_token = models.CharField(max_length=200, null=True, blank=True, unique=True, editable=False)
    resume_attempts = models.IntegerField(default=0)  # automatic resumes after a worker died

    class Meta:
        ordering = ["-created_at", "-id"]
        # Rights are per collection (`CollectionRights`), not per kind of job.

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.message = storable_text(self.message or "")
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.collection} ({self.get_status_display()})"

    @property
    def status_text(self) -> str:
        """The status as pages show it: a dry run that found bad rows did not fail, it found them."""
        if self.dry_run and self.status == self.Status.PARTIAL:
            return "Dry run: some rows would fail"
        return self.get_status_display()

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


class CollectionRights(models.Model):
    """The holder of the per-collection permissions (`view_users`, `import_users`, `export_users`,
    `change_users`, `delete_users`, ... for every registered collection; see
    `bulkadmin.rights`). It has no table: it only gives those permissions their place in
    Django's admin (Bulk admin | collection)."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = "collection"


class Lease(models.Model):
    """A named exclusive right held by one process on one machine until `expires_at` (see
    `bulkadmin.jobs.leases`): the owner is `host`, `pid` and `process_started`; `token` names
    one acquisition."""

    name = models.CharField(max_length=200, unique=True)
    host = models.CharField(max_length=200)
    pid = models.IntegerField()
    process_started = models.DateTimeField()
    token = models.CharField(max_length=32)
    acquired_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.host} (pid {self.pid}) until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class Schedule(models.Model):
    """An operation the product already has (a cleanup of some rules, a sync of one source, an
    export) run on its own at the times of a cron expression in a time zone, by whichever worker
    claims each due run (see `bulkadmin.jobs.schedules`)."""

    class Missed(models.TextChoices):
        RUN_ONCE = "run_once", "Run once when a worker is up again"
        SKIP = "skip", "Skip"

    KINDS = (Job.Kind.CLEANUP, Job.Kind.SYNC, Job.Kind.EXPORT)

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(
        "operation", max_length=16, choices=[(kind.value, kind.label) for kind in KINDS], default=Job.Kind.CLEANUP
    )
    # The job's parameters (`CleanupParameters`, `SyncParameters`, an export's options) and the
    # collections they touch (checked against the editor's rights, and the job's `collection`).
    parameters = models.JSONField(default=dict, blank=True, encoder=StorableJSONEncoder)
    collection = models.CharField(max_length=200, blank=True, editable=False)
    cron = models.CharField(
        "cron expression", max_length=100, help_text="minute hour day-of-month month day-of-week, e.g. 30 2 * * *"
    )
    timezone = models.CharField("time zone", max_length=64, default="UTC")
    enabled = models.BooleanField(default=True, help_text="Untick to pause: a paused schedule never runs.")
    missed = models.CharField(
        "a run missed while no worker was up", max_length=16, choices=Missed.choices, default=Missed.RUN_ONCE
    )
    notify_emails = models.TextField(
        "email on failure to", blank=True, help_text="Addresses, one a line or comma-separated."
    )
    notify_webhook = models.URLField("POST a JSON webhook on failure to", max_length=500, blank=True)
    notify_on_success = models.BooleanField("also notify on success", default=False)
    next_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScheduledRun(models.Model):
    """One due time of a schedule, claimed by one worker: the unique (schedule, due time) row is
    the claim, so each due run happens once however many workers look. Its `job` is the run."""

    class Outcome(models.TextChoices):
        QUEUED = "queued", "Queued as a job"
        SKIPPED = "skipped", "Skipped (missed while no worker was up)"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    due_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.QUEUED)
    late = models.BooleanField(default=False, help_text="Claimed after its due time had been missed.")
    job = models.OneToOneField(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="scheduled_run")
    claimed_at = models.DateTimeField(auto_now_add=True)
    host = models.CharField(max_length=200, blank=True)
    pid = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["schedule", "due_at"], name="one_run_per_due_time")]

    def __str__(self) -> str:
        return f"{self.schedule} at {self.due_at:%Y-%m-%d %H:%M %Z}"


class NoticePreference(models.Model):
    """What one user wants to hear when a long job they started ends: an email to their address
    and/or a JSON webhook."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preference")
    email_when_long_job_ends = models.BooleanField("email me when a long job I started ends", default=True)
    webhook = models.URLField("POST a JSON webhook to", max_length=500, blank=True)
    long_job_seconds = models.PositiveIntegerField("a job is long after (seconds)", default=300)

    class Meta:
        verbose_name = "notice preference"

    def __str__(self) -> str:
        return f"notices for {self.user}"
