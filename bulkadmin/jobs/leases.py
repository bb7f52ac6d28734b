"""Leases: named exclusive rights (a cleanup run, a sync of one source, a running job) held in
the shared database, so they hold across processes and machines.

A lease has an owner (host, pid, process start), an expiry and a heartbeat. Taking one is a
single atomic statement: an insert (the name is unique) or a conditional update of an expired
row. Its holder renews it (`Holder.renew`, from a heartbeat thread) and deletes it when done; a
holder that dies stops renewing, and the lease is free once it expires (`BULKADMIN_LEASE_SECONDS`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from bulkadmin.core import conf
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.models import Lease

PROCESS_STARTED = timezone.now()


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


LockHeld = LeaseHeld  # the name earlier versions exported


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

    def __init__(self, name: str, token: str, seconds: float) -> None:
        self.name, self.token, self.seconds = name, token, seconds
        self.lost = False

    def renew(self) -> bool:
        """Push the expiry `seconds` ahead; False (and `lost` from then on) when it had expired or
        another process took it over."""
        now = timezone.now()
        renewed = Lease.objects.filter(name=self.name, token=self.token, expires_at__gte=now).update(
            heartbeat_at=now, expires_at=now + dt.timedelta(seconds=self.seconds)
        )
        self.lost = self.lost or not renewed
        return bool(renewed)

    def release(self) -> None:
        Lease.objects.filter(name=self.name, token=self.token).delete()


def acquire(name: str, seconds: float | None = None) -> Holder:
    """Take the lease `name` for `seconds` (default `BULKADMIN_LEASE_SECONDS`), or raise `LeaseHeld`."""
    seconds = float(seconds if seconds is not None else conf.lease_seconds())
    owner, token, now = Owner.me(), uuid.uuid4().hex, timezone.now()
    fields = {
        "host": owner.host[:200],
        "pid": owner.pid,
        "process_started": owner.started,
        "token": token,
        "acquired_at": now,
        "heartbeat_at": now,
        "expires_at": now + dt.timedelta(seconds=seconds),
    }
    if Lease.objects.filter(name=name, expires_at__lt=now).update(**fields):  # an expired holder's
        return Holder(name, token, seconds)
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, **fields)
    except IntegrityError:
        raise LeaseHeld(name, Lease.objects.filter(name=name).first()) from None
    return Holder(name, token, seconds)


def holder_of(name: str) -> Lease | None:
    """The unexpired lease `name`, or None when it is free."""
    return Lease.objects.filter(name=name, expires_at__gte=timezone.now()).first()


@contextlib.contextmanager
def exclusive(name: str, seconds: float | None = None) -> Iterator[Holder]:
    """Hold the lease `name` for the body, renewed by a heartbeat thread; raise `LeaseHeld` at
    once when another process holds it."""
    from bulkadmin.jobs.heartbeat import Heartbeat

    holder = acquire(name, seconds)
    try:
        with Heartbeat(holder.renew, interval=holder.seconds / 3):
            yield holder
    finally:
        holder.release()


def when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")
