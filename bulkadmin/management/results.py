"""What a command says when it ends on a result whose writes the server did not confirm."""

from __future__ import annotations

from bulkadmin.bulk.results import describe_write_concern_errors
from bulkadmin.operations.results import OperationResult


def not_confirmed(result: OperationResult) -> str:
    """The sentence naming the result's write-concern errors (empty when there are none): a
    command that has one to say exits non-zero with it."""
    concern = describe_write_concern_errors(result.write_concern_errors)
    if not concern:
        return ""
    job = f" (job #{result.job_id})" if result.job_id else ""
    return f"{result.operation}{job}: {concern}; the documents were written but not confirmed as asked."
