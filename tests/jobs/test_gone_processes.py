"""A job whose process on this machine has ended is marked interrupted at once, its leases freed;
one whose process is alive, or on another machine, is left to its lease's expiry."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess

import pytest
from django.utils import timezone

from bulkadmin.jobs import watch
from bulkadmin.jobs.imports import resume_refused
from bulkadmin.models import Job, Lease

pytestmark = pytest.mark.django_db


def ended_pid() -> int:
    """The pid of a process that has ended (and been waited for)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture
def alive():
    process = subprocess.Popen(["sleep", "60"])
    yield process.pid
    process.kill()
    process.wait()


def running_job(pid: int, host: str | None = None, rows: int = 400) -> Job:
    """A running import job and its lease, held by `pid` on `host` (this one) for an hour more."""
    job = Job.objects.create(kind=Job.Kind.IMPORT, collection="users", status=Job.Status.RUNNING, rows_done=rows)
    hold_lease(f"job-{job.pk}", pid, host)
    return job


def hold_lease(name: str, pid: int, host: str | None = None) -> Lease:
    now = timezone.now()
    return Lease.objects.create(
        name=name, host=host or socket.gethostname(), pid=pid, process_started=now, token=name,
        acquired_at=now, heartbeat_at=now, expires_at=now + dt.timedelta(hours=1),
    )  # fmt: skip


def test_a_job_whose_process_here_has_ended_is_marked_interrupted_at_once_and_its_leases_freed():
    pid = ended_pid()
    job = running_job(pid)
    hold_lease("cleanup", pid)
    assert watch.mark_gone_here() == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.message) == (
        Job.Status.INTERRUPTED,
        f"Interrupted after 400 rows: its process on host {socket.gethostname()} (pid {pid}) is no longer running.",
    )
    assert job.finished_at is not None
    assert not Lease.objects.exists()
    assert watch.mark_gone_here() == []


def test_a_job_whose_process_is_alive_or_on_another_machine_keeps_running(alive):
    here = running_job(alive)
    elsewhere = running_job(ended_pid(), host="another-machine")
    assert watch.mark_gone_here() == []
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.RUNNING}
    assert Lease.objects.count() == 2
    assert resume_refused(here).startswith(f"Job {here.pk} is still running on host {socket.gethostname()} (pid ")
    assert resume_refused(elsewhere).startswith(f"Job {elsewhere.pk} is still running on host another-machine (pid ")


def test_resuming_a_job_whose_process_here_has_ended_needs_no_wait():
    job = running_job(ended_pid())
    job.last_committed_row = 400
    job.save()
    assert resume_refused(job) == ""
    assert job.status == Job.Status.INTERRUPTED
