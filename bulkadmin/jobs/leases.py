"""Leases: named exclusive rights (a cleanup run, a sync of one source, a running job) held in
the shared database, so they hold across processes and machines.

A lease has an owner (host, pid, process start), an expiry and a heartbeat. Taking one is a
single atomic statement: an insert (the name is unique) or a conditional update of an expired
row. Its holder renews it (`Holder.renew`, from a heartbeat thread) and deletes it when done; a
holder that dies stops renewing, and the lease is free once it expires (`BULKADMIN_LEASE_SECONDS`),
or at once for a process of the same machine that has ended (`free_gone_here`: one host name is
one machine, its processes' pids are checked).

Every expiry is computed and compared on the database server's clock (`Now()` in the statement),
never the caller's: app servers' clocks drift, one database has one clock. Between batches a
holder calls `Holder.confirm`, which raises `LeaseLost` once another process took the lease over.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models.functions import Now
from django.utils import timezone

from bulkadmin.core import conf
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs.heartbeat import Heartbeat
from bulkadmin.models import Lease
from bulkadmin.operations.progress import Cancelled, Progress

PROCESS_STARTED = timezone.now()
logger = logging.getLogger("bulkadmin.jobs")


class LeaseHeld(BulkAdminError):
    """Another process holds the lease `name`; the message names it and when the lease expires."""

    def __init__(self, name: str, lease: Lease | None) -> None:
        self.name = name
        self.lease = lease
        if lease is None:
            super().__init__(f"{name} is already running elsewhere; try again in a moment.")
            return
        since, expires = when(lease.acquired_at), when(lease.expires_at)
        super().__init__(
            f"{name} is already running on host {lease.host} (pid {lease.pid}) since {since}; "
            f"its lease expires at {expires} unless that process renews it."
        )


class LeaseLost(Cancelled):
    """This process lost the lease `name` part way (it expired and another process took it over);
    raised between batches, so the run stops without writing more."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"Stopped: this process lost the lease {name} (it expired and another process took it over); "
            "nothing more was written."
        )


@dataclass(frozen=True)
class Owner:
    """Who holds a lease: this process (host, pid, start time)."""

    host: str
    pid: int
    started: dt.datetime

    @classmethod
    def me(cls) -> Owner:
        return cls(socket.gethostname(), os.getpid(), PROCESS_STARTED)

    def __str__(self) -> str:
        return f"{self.host} (pid {self.pid}, started {when(self.started)})"


class Holder:
    """A lease this process holds: renew it, release it, and know whether it was lost."""

    def __init__(self, name: str, token: str, seconds: float, taken_at: float) -> None:
        self.name, self.token, self.seconds = name, token, seconds
        self.lost = False
        self.fresh_until = taken_at + seconds / 3  # monotonic: surely ours until then, no need to ask

    def renew(self) -> bool:
        """Push the expiry `seconds` ahead on the database's clock; False (and `lost` from then
        on) when another process took the lease over (an expired lease nobody took is still ours)."""
        asked_at = time.monotonic()
        renewed = Lease.objects.filter(name=self.name, token=self.token).update(
            heartbeat_at=Now(), expires_at=_from_now(self.seconds)
        )
        self.lost = self.lost or not renewed
        if renewed:
            self.fresh_until = asked_at + self.seconds / 3
        return bool(renewed)

    def confirm(self) -> None:
        """Raise `LeaseLost` when the lease is no longer this process's: asked of the database
        unless a renewal in the last third of the lease's time showed it ours."""
        if not self.lost and time.monotonic() >= self.fresh_until:
            self.renew()
        if self.lost:
            raise LeaseLost(self.name)

    def release(self) -> None:
        """Delete the lease. One Django's database refuses to delete is left to expire (or to
        `free_gone_here` once this process has ended): the refusal is logged, not raised."""
        try:
            Lease.objects.filter(name=self.name, token=self.token).delete()
        except DatabaseError as error:
            logger.warning("lease %s could not be released: %s", self.name, error)


def acquire(name: str, seconds: float | None = None) -> Holder:
    """Take the lease `name` for `seconds` (default `BULKADMIN_LEASE_SECONDS`), or raise `LeaseHeld`."""
    seconds = float(seconds if seconds is not None else conf.lease_seconds())
    owner, token, asked_at = Owner.me(), uuid.uuid4().hex, time.monotonic()
    fields = {
        "host": owner.host[:200],
        "pid": owner.pid,
        "process_started": owner.started,
        "token": token,
        "acquired_at": Now(),
        "heartbeat_at": Now(),
        "expires_at": _from_now(seconds),
    }
    if Lease.objects.filter(name=name, expires_at__lt=Now()).update(**fields):  # an expired holder's
        return Holder(name, token, seconds, asked_at)
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, **fields)
    except IntegrityError:
        raise LeaseHeld(name, Lease.objects.filter(name=name).first()) from None
    return Holder(name, token, seconds, asked_at)


def holder_of(name: str) -> Lease | None:
    """The unexpired lease `name` (on the database's clock), or None when it is free."""
    return Lease.objects.filter(name=name, expires_at__gte=Now()).first()


def free_gone_here() -> list[Lease]:
    """Delete the leases held by processes of this machine that are no longer running (see
    `held_by_gone_process`), expired or not, and return them: a process that died (kill -9, its
    database unwritable as it ended) leaves nothing held here until its leases expire."""
    freed = []
    for lease in Lease.objects.filter(host=Owner.me().host[:200]):
        if held_by_gone_process(lease) and Lease.objects.filter(pk=lease.pk, token=lease.token).delete()[0]:
            freed.append(lease)
    return freed


def held_by_gone_process(lease: Lease) -> bool:
    """Whether `lease` was taken by a process of this machine (its host name) that has ended: its
    pid is free, or a zombie. A pid used again by another process counts as running: the lease
    then waits for its expiry."""
    if lease.host != Owner.me().host[:200] or lease.pid == os.getpid():
        return False
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: running
        return False
    return _process_state(lease.pid) == "Z"


def _process_state(pid: int) -> str:
    """A process's state letter from Linux's /proc ("Z": a zombie), or "" where there is none."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return ""


@contextlib.contextmanager
def briefly(name: str, *, wait: float = 30.0) -> Iterator[Holder]:
    """Hold the lease `name` for a short step (no heartbeat), waiting up to `wait` seconds for
    another holder to finish; `LeaseHeld` after that."""
    deadline = time.monotonic() + wait
    while True:
        try:
            holder = acquire(name, seconds=wait)
            break
        except LeaseHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    try:
        yield holder
    finally:
        holder.release()


def guarded(progress: Progress, holder: Holder | None) -> Progress:
    """`progress` that, after recording, confirms `holder` still holds its lease (`LeaseLost`)."""
    if holder is None:
        return progress

    def checked(done: int, total: int | None) -> None:
        progress(done, total)
        holder.confirm()

    return checked


def _from_now(seconds: float) -> models.Expression:
    """The database server's time `seconds` from now."""
    return models.ExpressionWrapper(Now() + dt.timedelta(seconds=seconds), output_field=models.DateTimeField())


@contextlib.contextmanager
def exclusive(name: str, seconds: float | None = None) -> Iterator[Holder]:
    """Hold the lease `name` for the body, renewed by a heartbeat thread; raise `LeaseHeld` at
    once when another process holds it."""
    holder = acquire(name, seconds)
    try:
        with Heartbeat(holder.renew, interval=holder.seconds / 3):
            yield holder
    finally:
        holder.release()


def when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")
