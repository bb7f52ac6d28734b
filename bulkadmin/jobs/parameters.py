"""One parameter schema per job kind, the same whether the command line, the web or Python
starts the job; stored as the job's `parameters` (imports: `ImportOptions`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.exceptions import InvalidSpec

SYNC_MODES = ("incremental", "full", "mark_missing")


@dataclass(frozen=True)
class SyncParameters:
    """A sync: `incremental` fetches what changed since `since` (default: the last completed
    sync's start, when the source supports it), `full` everything, `mark_missing` everything and
    flags the source's documents absent from the feed."""

    source: str
    mode: str = "incremental"
    since: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.mode not in SYNC_MODES:
            raise InvalidSpec(f"Unknown sync mode {self.mode!r}; choose one of {', '.join(SYNC_MODES)}.", field="mode")
        if self.mode == "mark_missing" and self.since is not None:
            raise InvalidSpec("mark_missing needs a full sync: records not fetched would look missing.", field="since")

    def to_parameters(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "mode": self.mode,
            "full": self.since is None,
            "since": self.since.isoformat() if self.since else None,
            "mark_missing": self.mode == "mark_missing",
        }

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> SyncParameters:
        """The parameters a job stored (`to_parameters`)."""
        since = parameters.get("since")
        mode = parameters.get("mode") or "incremental"
        when = dt.datetime.fromisoformat(since) if since and mode == "incremental" else None
        return cls(source=parameters.get("source", ""), mode=mode, since=when)


@dataclass(frozen=True)
class CleanupParameters:
    """A cleanup: the rules to run (all when empty), in declared order, and the batch size."""

    rules: tuple[str, ...] = ()
    batch_size: int = DEFAULT_BATCH_SIZE

    def to_parameters(self) -> dict[str, Any]:
        return {"rules": list(self.rules), "batch_size": self.batch_size}

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> CleanupParameters:
        return cls(tuple(parameters.get("rules") or ()), parameters.get("batch_size", DEFAULT_BATCH_SIZE))


@dataclass(frozen=True)
class BulkParameters:
    """A bulk update or delete: the filter and (updates) the update, in model field names, the
    batch size, and the number of matching documents confirmed when it was started (its
    progress bar's total; None when not counted)."""

    filter: dict[str, Any]
    update: dict[str, Any] | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    expected: int | None = None

    def to_parameters(self) -> dict[str, Any]:
        parameters = {"filter": self.filter, "batch_size": self.batch_size, "expected": self.expected}
        return parameters if self.update is None else {**parameters, "update": self.update}

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> BulkParameters:
        return cls(
            filter=parameters["filter"],
            update=parameters.get("update"),
            batch_size=parameters.get("batch_size") or DEFAULT_BATCH_SIZE,
            expected=parameters.get("expected"),
        )


@dataclass(frozen=True)
class UndoParameters:
    """An undo: the number of the job whose writes it restores."""

    job: int

    def to_parameters(self) -> dict[str, Any]:
        return {"job": self.job}

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> UndoParameters:
        return cls(job=int(parameters["job"]))
