"""`manage.py db_worker`: django-tasks-db's worker, which also watches for jobs whose worker died
(`bulkadmin.jobs.watch`): every `BULKADMIN_HEARTBEAT_SECONDS` it marks them interrupted and
queues interrupted imports to resume. Run as many as you like, on as many machines."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as TasksWorker

from bulkadmin.jobs.watch import Watcher


class Command(TasksWorker):
    help = "Run a database background worker that also resumes the jobs of workers that died"

    def handle(self, *args: Any, **options: Any) -> None:
        watcher = Watcher().start()
        try:
            super().handle(*args, **options)
        finally:
            watcher.stop()
