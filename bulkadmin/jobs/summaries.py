"""What a finished operation says, in words: the line (or lines) a command prints and a job keeps
as its message, written from the typed `OperationResult`. One writer per kind of operation; the
others get the bulk line (every count that is not zero)."""

from __future__ import annotations

from collections.abc import Callable

from bulkadmin.bulk.results import describe_write_concern_errors
from bulkadmin.operations.cleanup import RuleResult
from bulkadmin.operations.exports.formats import formats
from bulkadmin.operations.results import CleanupCounts, ExportCounts, ImportCounts, OperationResult, SyncCounts


def summary(result: OperationResult) -> str:
    """The result in words; the write-concern errors, when there are any, on a line of their own."""
    told = SUMMARIES.get(result.operation, bulk_summary)(result)
    concern = describe_write_concern_errors(result.write_concern_errors)
    return f"{told}\n{concern[0].upper()}{concern[1:]}." if concern else told


def bulk_summary(result: OperationResult) -> str:
    """One line: the counts that are not zero, time, and the job id."""
    shown = ", ".join(f"{name} {value:,}" for name, value in result.counts.items() if value)
    what = f"{result.operation} {result.target}" if result.target else result.operation
    dry = " (dry run, nothing written)" if result.dry_run else ""
    return f"{what}: {shown or 'nothing to do'} in {result.elapsed:.2f}s{dry}{_job(result)}"


def import_summary(result: OperationResult[ImportCounts]) -> str:
    """One line: every count (adding up to rows read), time, speed and the job id."""
    would = "would be " if result.dry_run else ""
    unchanged = "not found" if result.details.get("mode") == "delete" else "unchanged"
    c = result.counts
    counts = (
        f"{c.inserted:,} {would}inserted, {c.updated:,} {would}updated, {c.unchanged:,} {unchanged}, "
        f"{c.deleted:,} {would}deleted, {c.rejected:,} rejected, {c.failed:,} failed"
    )
    after = result.details.get("resumed_after")
    resumed = f", resumed after row {after:,}" if after else ""
    dry = " (dry run: nothing written)" if result.dry_run else ""
    return (
        f"{result.target}{dry}: {result.rows:,} rows read: {counts} "
        f"in {result.elapsed:.2f}s ({result.rows_per_second:,.0f} rows/s{resumed}){_job(result)}{_read_as(result)}"
    )


def _read_as(result: OperationResult[ImportCounts]) -> str:
    """How the file was decoded, when it was not plain UTF-8."""
    reason = result.details.get("encoding_reason")
    return f"; read as {result.details.get('encoding')} ({reason})" if reason else ""


def cleanup_summary(result: OperationResult[CleanupCounts]) -> str:
    """One line per rule, then the totals."""
    lines = [_rule_line(item, dry_run=result.dry_run) for item in result.details.get("rules", ())]
    totals = result.details.get("totals", {})
    if result.dry_run:
        lines.append(f"Total: {totals.get('matched', 0)} document(s) would be touched (dry run, nothing written).")
    else:
        counts = f"deleted {totals.get('deleted', 0)}, modified {totals.get('modified', 0)}"
        lines.append(f"Total: {counts}, archived {totals.get('archived', 0)} in {result.elapsed:.2f}s.")
    return "\n".join(lines)


def _rule_line(rule: RuleResult, *, dry_run: bool) -> str:
    """What one cleanup rule did, would do, or why it failed."""
    if rule.error:
        return f"{rule.rule}: FAILED after {rule.seconds:.2f}s: {rule.error}"
    if dry_run:
        return f"{rule.rule}: would {rule.action} {rule.matched} document(s) in {rule.collection}"
    counts = f"deleted {rule.deleted}, modified {rule.modified}, archived {rule.archived}"
    concerns = len(rule.write_concern_errors)
    concern = f"; write concern not met for {concerns} write(s)" if concerns else ""
    return f"{rule.rule}: {counts} in {rule.seconds:.2f}s{concern}"


def sync_summary(result: OperationResult[SyncCounts]) -> str:
    """One line: records and pages read, what became of them, time."""
    since = result.details.get("since")
    scope = f"updated since {since.isoformat()}" if since else "full"
    c = result.counts
    counts = (
        f"created {c.created}, updated {c.updated}, unchanged {c.unchanged}, "
        f"rejected {c.rejected}, marked missing {c.marked_missing}"
    )
    dry = " (dry run, nothing written)" if result.dry_run else ""
    return (
        f"{result.target} ({scope}): {c.records} record(s) in {c.pages} page(s): {counts}"
        f" in {result.elapsed:.2f}s{dry}."
    )


def export_summary(result: OperationResult[ExportCounts]) -> str:
    """One line: documents written, where, in which format, time, speed and the job id."""
    where = "standard output" if result.details.get("file") == "-" else result.details.get("file")
    label = formats.detect("-", result.details.get("format")).label
    return (
        f"{result.target}: {result.rows:,} documents exported to {where} ({label}) "
        f"in {result.elapsed:.2f}s ({result.rows_per_second:,.0f} docs/s){_job(result)}"
    )


def _job(result: OperationResult) -> str:
    return f", job {result.job_id}" if result.job_id else ""


SUMMARIES: dict[str, Callable[[OperationResult], str]] = {
    "import": import_summary,
    "cleanup": cleanup_summary,
    "sync": sync_summary,
    "export": export_summary,
}
