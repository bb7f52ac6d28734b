"""Reading paged JSON from an HTTP API with httpx: timeouts, retries with backoff on connection
errors, 429 and 5xx (honouring `Retry-After`), page-number, next-link or cursor pagination, and
wall-clock deadlines per request and per run (a source's policy names its own, or the sync gives
them: `BULKADMIN_SYNC_REQUEST_DEADLINE`, 30 s, and `BULKADMIN_SYNC_RUN_DEADLINE`, 1 h)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urljoin

import httpx

from bulkadmin.core.conf import SETTINGS
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.operations.deadlines import Deadline, DeadlineTransport, bounded_by, earliest

Sleep = Callable[[float], None]

REQUEST_DEADLINE = float(
    SETTINGS["BULKADMIN_SYNC_REQUEST_DEADLINE"].default
)  # seconds, unless the caller passes others
RUN_DEADLINE = float(SETTINGS["BULKADMIN_SYNC_RUN_DEADLINE"].default)


class FetchFailed(BulkAdminError):
    """A page could not be read: HTTP error, exhausted retries or broken JSON."""

    def __init__(self, reason: str, *, page: int, url: str, status: int | None = None) -> None:
        self.reason = reason
        self.page = page
        self.url = url
        self.status = status
        status_text = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"page {page} ({url}): {status_text}: {reason}")


@dataclass(frozen=True)
class Pagination:
    """How an API pages its records.

    `page`: `?page=N` from `first_page` until an empty page (or `total_pages_path`);
    `next`: follow the URL found at `next_path` until it is empty;
    `cursor`: send the value found at `cursor_path` as `?cursor_param=` until it is empty;
    `none`: a single response."""

    style: Literal["page", "next", "cursor", "none"] = "page"
    page_param: str = "page"
    first_page: int = 1
    page_size_param: str | None = None
    page_size: int | None = None
    total_pages_path: str | None = None
    next_path: str = "next"
    cursor_param: str = "cursor"
    cursor_path: str = "next_cursor"


@dataclass(frozen=True)
class RetryPolicy:
    """Timeouts, retries and deadlines; `backoff * 2**attempt` seconds between attempts, at most
    `max_wait`. `timeout` bounds each socket operation; `request_deadline` a page's complete
    response, retries included, and `run_deadline` a whole run (None: the caller's, see
    `with_default_deadlines`; else the settings' defaults)."""

    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    max_wait: float = 60.0
    request_deadline: float | None = None
    run_deadline: float | None = None

    def with_default_deadlines(self, *, request: float, run: float) -> RetryPolicy:
        """This policy with `request` and `run` seconds as the deadlines it leaves unset."""
        return replace(
            self,
            request_deadline=self.request_deadline if self.request_deadline is not None else request,
            run_deadline=self.run_deadline if self.run_deadline is not None else run,
        )

    def request_seconds(self) -> float:
        return float(self.request_deadline if self.request_deadline is not None else REQUEST_DEADLINE)

    def run_seconds(self) -> float:
        return float(self.run_deadline if self.run_deadline is not None else RUN_DEADLINE)


@dataclass(frozen=True)
class Page:
    """One page of records as read from the API."""

    number: int
    url: str
    records: list[Any]
    status: int = 200


@dataclass
class Feed:
    """The pages of one API endpoint; iterate `pages()`."""

    url: str
    records_path: str = ""
    pagination: Pagination = field(default_factory=Pagination)
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep | None = None
    max_pages: int = 10_000

    def pages(self, client: httpx.Client | None = None) -> Iterator[Page]:
        """Yield pages in order; raise `FetchFailed` naming the page on any failure, or when the
        run passes its deadline. A client of the caller's bounds requests by its deadlines only
        if its transport is a `DeadlineTransport`."""
        owned = client is None
        client = client or httpx.Client(
            timeout=self.policy.timeout,
            headers=dict(self.headers),
            follow_redirects=True,
            transport=DeadlineTransport(),
        )
        seconds = self.policy.run_seconds()
        run = Deadline.after(seconds, f"the run passed its deadline of {seconds:g} s (run deadline)")
        try:
            yield from self._walk(client, run)
        finally:
            if owned:
                client.close()

    def _walk(self, client: httpx.Client, run: Deadline) -> Iterator[Page]:
        paging = self.pagination
        url, params, number = self.url, dict(self.params), 1
        if paging.style == "page":
            params[paging.page_param] = str(paging.first_page)
        if paging.page_size_param and paging.page_size:
            params[paging.page_size_param] = str(paging.page_size)
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        while True:
            request = (url, tuple(sorted(params.items())))
            if request in seen or number > self.max_pages:
                raise FetchFailed("the pagination loops (a page repeats an earlier request)", page=number, url=url)
            seen.add(request)
            seconds = self.policy.request_seconds()
            reason = f"no complete response within {seconds:g} s (request deadline)"
            deadline = earliest(Deadline.after(seconds, reason), run)
            response = get_with_retries(
                client, url, params, page=number, policy=self.policy, sleep=self.sleep, deadline=deadline
            )
            body = parse_json(response, page=number)
            records = records_at(body, self.records_path, page=number, response=response)
            yield Page(number, str(response.url), records, response.status_code)
            next_url, params = self._next(body, records, url, params, number)
            if next_url is None:
                return
            url = next_url
            number += 1

    def _next(
        self, body: Any, records: list[Any], url: str, params: dict[str, str], number: int
    ) -> tuple[str | None, dict[str, str]]:
        paging = self.pagination
        if paging.style == "page":
            total = value_at(body, paging.total_pages_path) if paging.total_pages_path else None
            if not records or (isinstance(total, int) and number >= total):
                return None, params
            return url, {**params, paging.page_param: str(paging.first_page + number)}
        if paging.style == "next":
            link = value_at(body, paging.next_path)
            return (urljoin(url, link), {}) if link else (None, params)
        if paging.style == "cursor":
            cursor = value_at(body, paging.cursor_path)
            return (url, {**params, paging.cursor_param: str(cursor)}) if cursor else (None, params)
        return None, params


def get_with_retries(
    client: httpx.Client,
    url: str,
    params: Mapping[str, str],
    *,
    page: int,
    policy: RetryPolicy,
    sleep: Sleep | None = None,
    deadline: Deadline | None = None,
) -> httpx.Response:
    """GET `url`, retrying connection errors, timeouts, 429 and 5xx; other 4xx fail at once; every
    attempt and wait end by `deadline`."""
    sleep = sleep or time.sleep
    for attempt in range(policy.retries + 1):
        last = attempt == policy.retries
        try:
            with bounded_by(deadline):
                response = client.get(url, params=params or None)  # params={} would drop a next link's query
        except httpx.TransportError as error:
            _check(deadline, page=page, url=_full_url(url, params), attempts=attempt + 1)
            if last:
                reason = f"{type(error).__name__}: {error or 'no detail'} after {attempt + 1} attempt(s)"
                raise FetchFailed(reason, page=page, url=url) from error
            waited = backoff_seconds(policy, attempt)
            _wait(sleep, waited, deadline, page=page, url=_full_url(url, params), attempts=attempt + 1)
            continue
        if response.status_code == 429 or response.status_code >= 500:
            if last:
                reason = f"{response.reason_phrase} after {attempt + 1} attempt(s)"
                raise FetchFailed(reason, page=page, url=str(response.url), status=response.status_code)
            seconds = retry_after(response, policy) or backoff_seconds(policy, attempt)
            _wait(sleep, seconds, deadline, page=page, url=str(response.url), attempts=attempt + 1)
            continue
        if response.status_code >= 400:
            reason = f"{response.reason_phrase}: {response.text[:200]}".strip()
            raise FetchFailed(reason, page=page, url=str(response.url), status=response.status_code)
        return response
    raise AssertionError("unreachable")  # pragma: no cover


def _full_url(url: str, params: Mapping[str, str]) -> str:
    return str(httpx.URL(url).copy_merge_params(dict(params))) if params else url


def _check(deadline: Deadline | None, *, page: int, url: str, attempts: int) -> None:
    """`FetchFailed` naming the deadline when it has passed."""
    if deadline is not None and deadline.passed:
        raise FetchFailed(f"{deadline.reason}, {attempts} attempt(s)", page=page, url=url)


def _wait(sleep: Sleep, seconds: float, deadline: Deadline | None, *, page: int, url: str, attempts: int) -> None:
    """Sleep before the next attempt, unless the deadline passes first: then fail at once."""
    if deadline is not None and deadline.remaining <= seconds:
        reason = f"{deadline.reason}: {attempts} attempt(s), and the next is due after it ({seconds:g} s wait)"
        raise FetchFailed(reason, page=page, url=url)
    sleep(seconds)


def backoff_seconds(policy: RetryPolicy, attempt: int) -> float:
    return min(policy.backoff * 2**attempt, policy.max_wait)


def retry_after(response: httpx.Response, policy: RetryPolicy) -> float | None:
    """Seconds asked for by a `Retry-After` header (seconds or an HTTP date), capped at `max_wait`."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return min(max(seconds, 0.0), policy.max_wait)


def parse_json(response: httpx.Response, *, page: int) -> Any:
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        reason = f"broken JSON: {error}"
        raise FetchFailed(reason, page=page, url=str(response.url), status=response.status_code) from error


def value_at(body: Any, path: str | None) -> Any:
    """The value at a dotted path of a JSON body (`""` is the body itself); None when absent."""
    value = body
    for part in (path or "").split(".") if path else ():
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def records_at(body: Any, path: str, *, page: int, response: httpx.Response) -> list[Any]:
    records = value_at(body, path)
    if not isinstance(records, list):
        where = f"at {path!r}" if path else "as the response body"
        reason = f"expected a list of records {where}, got {type(records).__name__}"
        raise FetchFailed(reason, page=page, url=str(response.url), status=response.status_code)
    return records
