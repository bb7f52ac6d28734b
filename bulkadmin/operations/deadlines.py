"""Wall-clock deadlines for HTTP requests: httpx's timeouts bound each socket read, so a server
sending one byte a second never times out; here every read, write and connect of a request is
bounded by the time left until its deadline instead.

`Deadline` says when and why; `bounded_by(deadline)` makes it the deadline of the requests made
inside it through a client whose transport is a `DeadlineTransport`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

_CURRENT: ContextVar[Deadline | None] = ContextVar("http_deadline", default=None)


@dataclass(frozen=True)
class Deadline:
    """A moment on the monotonic clock, and what it means when it passes."""

    at: float
    reason: str  # e.g. "no complete response within 30 s (request deadline)"

    @classmethod
    def after(cls, seconds: float, reason: str) -> Deadline:
        return cls(time.monotonic() + seconds, reason)

    @property
    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.remaining <= 0


def earliest(*deadlines: Deadline | None) -> Deadline | None:
    """The deadline that passes first, ignoring None."""
    present = [deadline for deadline in deadlines if deadline is not None]
    return min(present, key=lambda deadline: deadline.at) if present else None


@contextlib.contextmanager
def bounded_by(deadline: Deadline | None) -> Iterator[None]:
    """Requests made inside through a `DeadlineTransport` end by `deadline` (ReadTimeout)."""
    token = _CURRENT.set(deadline)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def capped(timeout: float | None) -> float | None:
    """A socket timeout no longer than the time left; `httpcore.ReadTimeout` once none is left."""
    deadline = _CURRENT.get()
    if deadline is None:
        return timeout
    left = deadline.remaining
    if left <= 0:
        raise httpcore.ReadTimeout(deadline.reason)
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation waits at most until the current deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, capped(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, capped(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, capped(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.SyncBackend):
    """httpcore's socket backend, its connections bounded by the current deadline."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = super().connect_tcp(host, port, capped(timeout), local_address, socket_options)
        return DeadlineStream(stream)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's default transport (no proxy), its sockets bounded by the current deadline."""

    def __init__(self) -> None:
        super().__init__()
        # httpx builds its pool itself; the same pool, with the bounded backend.
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=DeadlineBackend())
