"""A real HTTP server on 127.0.0.1 receiving webhook POSTs: it keeps each JSON body and answers
with scripted statuses and delays (the last one repeating)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 204
    delay: float = 0.0
    held: bool = False  # answer only once the test calls `release` (at most HELD_SECONDS)


HELD_SECONDS = 60


class HookServer:
    def __init__(self) -> None:
        self.answers: list[Answer] = [Answer()]
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hook"

    def answer(self, *answers: Answer) -> None:
        self.answers = list(answers)

    def release(self) -> None:
        """Let the held answers go."""
        self.released.set()

    def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """The bodies received, once there are `count` of them (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received) < count:
            time.sleep(0.02)
        return list(self.received)

    def _next(self) -> Answer:
        with self.lock:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hooks.received.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                answer = hooks._next()
                time.sleep(answer.delay)
                if answer.held:
                    hooks.released.wait(HELD_SECONDS)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its time limit)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
