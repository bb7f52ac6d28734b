"""Queueing a background task from below `tasks.py`.

`tasks.py` wraps what the workers run (the runner of every job kind, counts, whole-file checks),
so nothing it imports may import it back. Code below it that queues a task (a count a page asks
for, a whole-file check, a job queued again for another worker) names the task here: `tasks.py`
registers each of its tasks when it is imported, and the app imports it when ready (as Django
apps import their signal handlers), so every process finds them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django_tasks.base import Task

from bulkadmin.core.exceptions import BulkAdminError

TASKS: dict[str, Task[..., Any]] = {}
Queueable = TypeVar("Queueable", bound=Task[..., Any])


class UnknownTask(BulkAdminError):
    """No background task of that name was registered."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"No background task {name!r} is registered (known: {', '.join(sorted(TASKS)) or 'none'}); "
            "bulkadmin.jobs.tasks registers them when imported."
        )


def register(task: Queueable) -> Queueable:
    """Make `task` queueable by its name (the name of the function it wraps)."""
    TASKS[task.name] = task
    return task


def enqueue(name: str, *args: Any) -> None:
    """Queue the task `name` with `args`."""
    try:
        task = TASKS[name]
    except KeyError:
        raise UnknownTask(name) from None
    task.enqueue(*args)
