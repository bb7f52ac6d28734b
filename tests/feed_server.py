"""A real HTTP server on 127.0.0.1 (threaded `http.server`) that answers scripted replies, for
sync tests: pages of JSON, errors, slow replies and broken bodies."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Reply:
    """One scripted reply; `body` is JSON-encoded unless it is `bytes`. With `trickle`, the reply
    is sent one byte every `trickle` seconds (headers too, with `trickle_headers`)."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0
    trickle_headers: bool = False


@dataclass
class Route:
    path: str
    query: dict[str, str]
    replies: list[Reply]

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return path == self.path and all(query.get(key) == value for key, value in self.query.items())


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class FeedServer:
    """Routes match a path and a subset of the query; their replies are used in order, the last
    one repeating. Every request is logged in `requests`."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def on(self, path: str, *replies: Reply | Any, **query: str) -> None:
        """Answer `path` (with these query values) with `replies`, in order; newer routes win."""
        scripted = [reply if isinstance(reply, Reply) else Reply(reply) for reply in replies]
        self.routes.insert(0, Route(path, {key: str(value) for key, value in query.items()}, scripted))

    def pages(self, path: str, pages: list[list[dict[str, Any]]]) -> None:
        """Serve `pages` as `?page=N` (1-based) under `{"data": [...]}`; later pages are empty."""
        self.on(path, {"data": []})
        for number, records in enumerate(pages, start=1):
            self.on(path, {"data": records}, page=str(number))

    def _reply(self, path: str, query: dict[str, str]) -> Reply:
        for route in self.routes:
            if route.matches(path, query):
                return route.replies.pop(0) if len(route.replies) > 1 else route.replies[0]
        return Reply({"error": "not found"}, status=404)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                feed.requests.append(Request(parts.path, query, dict(self.headers)))
                reply = feed._reply(parts.path, query)
                time.sleep(reply.delay)
                body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    if reply.trickle:
                        self._trickle(body, reply)
                        return
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def _trickle(self, body: bytes, reply: Reply) -> None:
                head = b"".join(self._headers_buffer) + b"\r\n"
                self._headers_buffer = []
                if not reply.trickle_headers:
                    self.wfile.write(head)
                    self.wfile.flush()
                    head = b""
                for byte in head + body:
                    self.wfile.write(bytes((byte,)))
                    self.wfile.flush()
                    time.sleep(reply.trickle)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve() -> Iterator[FeedServer]:
    """Body of a fixture: a started server, stopped afterwards."""
    server = FeedServer()
    server.start()
    yield server
    server.stop()


def users_source(url: str, **extra: Any) -> dict[str, Any]:
    """A settings sync source writing `users` from the feed at `url` (`{"data": [...]}` pages of
    name / email records), quick to give up; `extra` adds or replaces settings."""
    return {
        "collection": "users",
        "url_env": "BULKADMIN_TEST_UNSET_URL",
        "default_url": url,
        "records_path": "data",
        "fields": {"name": "name", "email": "email"},
        "policy": {"timeout": 2, "retries": 1, "backoff": 0.01, "max_wait": 0.01},
        **extra,
    }
