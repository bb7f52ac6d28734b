"""A small JSON API of partner users served on 127.0.0.1, so `sync_external demo_users` can be
tried offline (`manage.py demo_feed`). Pages: `/users?page=N&per_page=M[&updated_since=ISO]`
answer `{"data": [...], "page": N, "total_pages": T}`."""

from __future__ import annotations

import datetime as dt
import json
import random
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_PORT = 8765
UPDATED_BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FIRST = ("amara", "bruno", "chen", "dalia", "emeka", "fatima", "goran", "hana", "ivan", "jun", "kofi", "lena")
LAST = ("okafor", "silva", "wang", "haddad", "nwosu", "rahman", "petrov", "sato", "novak", "kim", "mensah")


def demo_records(count: int = 120, seed: int = 7) -> list[dict[str, Any]]:
    """The feed's records; one has a broken email so the sync has a rejected record to report."""
    rng = random.Random(seed)
    records = []
    for number in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        updated_at = UPDATED_BASE + dt.timedelta(hours=rng.randint(0, 24 * 300))
        records.append(
            {
                "id": 10_000 + number,
                "name": f"{first.title()} {last.title()}",
                "email": f"{first}.{last}.{number}@partner.example",
                "verified": rng.random() < 0.9,
                "updated_at": updated_at.isoformat().replace("+00:00", "Z"),
            }
        )
    if count > 5:
        records[5]["email"] = "not-an-email"
    return records


def page_of(records: list[dict[str, Any]], query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
    """The response to one request: (status, JSON body)."""
    try:
        page = int(query.get("page", ["1"])[0])
        per_page = min(int(query.get("per_page", ["50"])[0]), 500)
        since = query.get("updated_since", [None])[0]
        since_at = dt.datetime.fromisoformat(since) if since else None
    except ValueError as error:
        return 400, {"error": str(error)}
    if page < 1 or per_page < 1:
        return 400, {"error": "page and per_page must be at least 1"}
    selected = [r for r in records if since_at is None or dt.datetime.fromisoformat(r["updated_at"]) > since_at]
    total_pages = max(1, -(-len(selected) // per_page))
    data = selected[(page - 1) * per_page : page * per_page]
    return 200, {"data": data, "page": page, "per_page": per_page, "total_pages": total_pages}


def make_server(port: int = DEFAULT_PORT, records: list[dict[str, Any]] | None = None) -> ThreadingHTTPServer:
    """A threaded HTTP server on 127.0.0.1 serving `records` at `/users` (port 0: any free port)."""
    served = demo_records() if records is None else records

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body = page_of(served, parse_qs(parts.query)) if parts.path == "/users" else (404, {})
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server
