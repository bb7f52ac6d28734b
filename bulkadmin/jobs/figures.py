"""What a job page and its live status show, from figures stored on the job (no collection is
read): one set of counts per job kind with dry-run wording, and progress, rate, elapsed, ETA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkadmin.models import Job

# The counts each kind shows, in order; "rows" of a sync or cleanup repeat records / matched.
KIND_COUNTS: dict[str, tuple[str, ...]] = {
    Job.Kind.IMPORT: ("rows", "inserted", "updated", "unchanged", "deleted", "rejected", "failed"),
    Job.Kind.EXPORT: ("rows",),
    Job.Kind.UPDATE: ("rows", "matched", "modified", "failed"),
    Job.Kind.DELETE: ("rows", "deleted", "failed"),
    Job.Kind.UNDO: ("rows", "updated", "deleted", "unchanged", "failed"),
    Job.Kind.CLEANUP: ("matched", "deleted", "modified", "archived", "failed"),
    Job.Kind.SYNC: ("records", "pages", "created", "updated", "unchanged", "rejected", "marked_missing"),
}
ALWAYS = frozenset({"rows", "records", "matched"})  # shown even when zero
LABELS = {
    "rows": "rows read",
    "records": "records read",
    "inserted": "created",
    "marked_missing": "marked missing",
}
KIND_LABELS: dict[str, dict[str, str]] = {
    Job.Kind.EXPORT: {"rows": "documents exported"},
    Job.Kind.UPDATE: {"rows": "documents"},
    Job.Kind.DELETE: {"rows": "documents"},
    Job.Kind.UNDO: {"rows": "documents", "updated": "restored", "deleted": "removed", "unchanged": "already as before"},
    Job.Kind.CLEANUP: {"matched": "matched"},
}
DRY_RUN_LABELS = {
    "inserted": "would create",
    "created": "would create",
    "updated": "would update",
    "unchanged": "would leave unchanged",
    "deleted": "would delete",
    "modified": "would modify",
    "archived": "would archive",
    "rejected": "would reject",
    "failed": "would fail",
    "marked_missing": "would mark missing",
    "matched": "would touch",
}


@dataclass(frozen=True)
class Count:
    name: str
    value: int
    label: str


def counts(job: Job) -> list[Count]:
    """The job's counts worth showing: its kind's set, the always-shown ones and the others not zero."""
    names = KIND_COUNTS.get(job.kind, tuple(job.counts))
    shown = [(name, job.counts.get(name)) for name in names]
    if job.kind == Job.Kind.IMPORT and job.counts:
        shown = [(name, value or 0) for name, value in shown]
    return [
        Count(name, int(value), label(job, name))
        for name, value in shown
        if value is not None and (value or name in ALWAYS)
    ]


def label(job: Job, name: str) -> str:
    """A count's label: what a dry run would do, or what the run did."""
    if job.dry_run and name in DRY_RUN_LABELS:
        return DRY_RUN_LABELS[name]
    if job.kind == Job.Kind.IMPORT and name == "unchanged" and job.parameters.get("mode") == "delete":
        return "not found"
    return KIND_LABELS.get(job.kind, {}).get(name, LABELS.get(name, name))


def outcome(job: Job) -> str:
    """What the job did in a few words for a list row: "12 created, 3 rejected", or for a dry run
    "would create 4, would reject 8"; the counts read (rows, records, pages) are left out."""
    shown = [count for count in counts(job) if count.name not in ALWAYS and count.value]
    if job.dry_run:
        return ", ".join(f"{count.label} {count.value:,}" for count in shown)
    return ", ".join(f"{count.value:,} {count.label}" for count in shown)


def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: "0.17 s", "12.4 s", "3 min 05 s", "2 h 07 min"."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def fraction(job: Job) -> float | None:
    """How far the job got (0..1), or None when nothing tells (a sync before its last page)."""
    if job.status in (Job.Status.SUCCEEDED, Job.Status.PARTIAL):
        return 1.0
    if job.status == Job.Status.QUEUED:
        return 0.0
    bytes_total = job.details.get("bytes_total")
    if job.kind == Job.Kind.IMPORT and bytes_total:  # an import: how far into the file
        return min(1.0, job.details.get("bytes_read", 0) / bytes_total)
    if job.rows_total:
        return min(1.0, job.rows_done / job.rows_total)
    if job.is_finished and job.rows_total == 0:
        return 1.0
    return None


def percent(job: Job) -> int | None:
    share = fraction(job)
    return None if share is None else int(share * 100)


def rate(job: Job) -> float:
    """Rows a second: the stored figure once finished, else rows so far over time so far."""
    if job.is_finished and job.counts.get("docs_per_second") is not None:
        return float(job.counts["docs_per_second"])
    elapsed = job.elapsed
    return round(job.rows_done / elapsed, 1) if elapsed else 0.0


def eta(job: Job) -> float | None:
    """Seconds left while running, from the share done so far; None when it cannot be told."""
    share, elapsed = fraction(job), job.elapsed
    if job.status != Job.Status.RUNNING or not share or not elapsed:
        return None
    return round(elapsed * (1 - share) / share, 1)


def status(job: Job) -> dict[str, Any]:
    """The live figures the job page polls."""
    elapsed = job.elapsed
    return {
        "status": job.status,
        "status_label": job.status_text,
        "finished": job.is_finished,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": percent(job),
        "rate": rate(job),
        "elapsed": round(elapsed, 1) if elapsed is not None else None,
        "eta": eta(job),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "message": job.message,
    }
