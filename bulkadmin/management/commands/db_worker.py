"""`manage.py db_worker`: django-tasks-db's worker, which also watches for jobs whose worker died
(`bulkadmin.jobs.watch`): every `BULKADMIN_HEARTBEAT_SECONDS` it marks them interrupted and
queues interrupted imports to resume. It also runs the schedules (`bulkadmin.jobs.schedules`):
every `BULKADMIN_SCHEDULE_CHECK_SECONDS` it claims due runs. Run as many as you like, on as many
machines."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as TasksWorker

from bulkadmin.jobs import notices, schedules
from bulkadmin.jobs.watch import Watcher

NOTICES_GRACE_SECONDS = 10  # on stopping, notices still being sent get this long


class Command(TasksWorker):
    help = "Run a database background worker that also resumes the jobs of workers that died and runs the schedules"

    def handle(self, *args: Any, **options: Any) -> None:
        watcher = Watcher().start()
        try:
            with schedules.scheduler():
                super().handle(*args, **options)
        finally:
            watcher.stop()
            notices.wait_for_notices(NOTICES_GRACE_SECONDS)
