"""Notices: an email (Django's mail framework) and/or a JSON webhook POST when a scheduled run
fails (or, when its schedule asks, succeeds), and when a long job a user started ends (their
`NoticePreference`).

A notice never blocks or fails the job: what to send is worked out when the job has ended, then
sent from a daemon thread, each webhook with a time limit (`BULKADMIN_WEBHOOK_TIMEOUT`) and a few
retries (`BULKADMIN_WEBHOOK_RETRIES`); a failure to send is logged, nothing more.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from bulkadmin.core import conf
from bulkadmin.models import Job, NoticePreference, ScheduledRun

logger = logging.getLogger("bulkadmin.notices")
FAILED = (Job.Status.FAILED, Job.Status.PARTIAL, Job.Status.CANCELLED)
NOTIFIED = (Job.Status.SUCCEEDED, *FAILED)  # an interrupted job is resumed or taken over: not its end
_sending: list[threading.Thread] = []


@dataclass(frozen=True)
class Notice:
    """One message about one job: its subject and text (emails), its JSON payload (webhooks), and
    where it goes."""

    subject: str
    text: str
    payload: dict[str, Any]
    emails: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = field(default=())


def job_url(job: Job) -> str:
    """The job's page: under `BULKADMIN_SITE_URL` when set, else a path."""
    return conf.site_url() + reverse("bulkadmin:job", args=[job.pk])


def notices_for(job: Job) -> list[Notice]:
    """What to send now that `job` has ended: its schedule's notice, and its user's."""
    if job.status not in NOTIFIED:
        return []
    return [notice for notice in (_schedule_notice(job), _user_notice(job)) if notice is not None]


def _schedule_notice(job: Job) -> Notice | None:
    run = ScheduledRun.objects.select_related("schedule").filter(job=job).first()
    if run is None:
        return None
    schedule = run.schedule
    if job.status not in FAILED and not schedule.notify_on_success:
        return None
    emails = tuple(
        address for part in schedule.notify_emails.replace(",", "\n").splitlines() if (address := part.strip())
    )
    webhooks = (schedule.notify_webhook,) if schedule.notify_webhook else ()
    if not emails and not webhooks:
        return None
    what = f"Scheduled {job.get_kind_display().lower()} {schedule.name!r}"
    extra = {"schedule": {"id": schedule.pk, "name": schedule.name, "due_at": run.due_at.isoformat()}}
    return _notice(job, what, emails, webhooks, extra)


def _user_notice(job: Job) -> Notice | None:
    if job.user is None or job.origin == Job.Origin.CRON:
        return None
    preference = NoticePreference.objects.filter(user=job.user).first()
    if preference is None or (job.elapsed or 0) < preference.long_job_seconds:
        return None
    emails = (job.user.email,) if preference.email_when_long_job_ends and job.user.email else ()
    webhooks = (preference.webhook,) if preference.webhook else ()
    if not emails and not webhooks:
        return None
    return _notice(job, f"Your {job.get_kind_display().lower()} of {job.collection}", emails, webhooks, {})


def _notice(job: Job, what: str, emails: tuple[str, ...], webhooks: tuple[str, ...], extra: dict[str, Any]) -> Notice:
    link, status = job_url(job), job.get_status_display().lower()
    subject = f"[bulkadmin] {what} {status}: job #{job.pk}"
    counts = ", ".join(f"{name} {value}" for name, value in job.counts.items() if name not in ("elapsed",))
    lines = [f"{what} {status} (job #{job.pk}).", f"Job: {link}", f"Message: {job.message or '-'}"]
    lines += [f"Counts: {counts}"] if counts else []
    payload = {"event": f"job_{job.status}", "job": _job_fields(job, link), **extra}
    return Notice(subject, "\n".join(lines) + "\n", payload, emails, webhooks)


def _job_fields(job: Job, link: str) -> dict[str, Any]:
    return {
        "id": job.pk,
        "url": link,
        "kind": job.kind,
        "collection": job.collection,
        "status": job.status,
        "dry_run": job.dry_run,
        "origin": job.origin,
        "user": job.user.get_username() if job.user is not None else None,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "counts": job.counts,
        "error_count": job.error_count,
        "error": job.message if job.status in FAILED else "",
    }


def job_ended(job_id: int) -> None:
    """Send the notices of job `job_id`, which has ended, in the background; never raises (a
    notice must not fail its job)."""
    try:
        notices = notices_for(Job.objects.select_related("user").get(pk=job_id))
    except Exception:  # whatever went wrong, the job itself has ended as recorded
        logger.exception("job %s: could not work out its notices", job_id)
        return
    if notices:
        sender = threading.Thread(target=_send_all, args=(notices,), name="bulkadmin-notices", daemon=True)
        _sending[:] = [thread for thread in _sending if thread.is_alive()] + [sender]
        sender.start()


def wait_for_notices(timeout: float) -> bool:
    """Wait up to `timeout` seconds for the notices being sent (a worker stopping, a test);
    return whether all were sent."""
    deadline = time.monotonic() + timeout
    for thread in list(_sending):
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in _sending)


def _send_all(notices: list[Notice]) -> None:
    for notice in notices:
        send(notice)


def send(notice: Notice) -> None:
    """Send one notice: its emails, then each webhook (logged when it cannot be delivered)."""
    if notice.emails:
        try:
            send_mail(notice.subject, notice.text, None, list(notice.emails))
        except Exception as error:  # an SMTP server down must not stop the webhooks
            logger.warning("notice email %r to %s not sent: %s", notice.subject, ", ".join(notice.emails), error)
    for url in notice.webhooks:
        post_webhook(url, notice.payload)


def post_webhook(
    url: str, payload: dict[str, Any], *, timeout: float | None = None, retries: int | None = None
) -> bool:
    """POST `payload` as JSON to `url`: each attempt within `timeout` seconds, tried again
    `retries` times (after 1, 2, 4 ... seconds) on a network error or a 5xx/429 answer; return
    whether a 2xx answer came."""
    timeout = timeout if timeout is not None else conf.webhook_timeout()
    retries = retries if retries is not None else conf.webhook_retries()
    body = json.dumps(payload, cls=DjangoJSONEncoder).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "bulkadmin-notices"}
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(2 ** (attempt - 1))
        try:
            answer = httpx.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.HTTPError as error:
            why = f"{type(error).__name__}: {error}"
        else:
            if answer.is_success:
                return True
            why = f"HTTP {answer.status_code}"
            if answer.status_code < 500 and answer.status_code != 429:  # refused: trying again would not help
                logger.warning("notice webhook to %s refused: %s", url, why)
                return False
        logger.warning("notice webhook to %s, attempt %s of %s: %s", url, attempt + 1, retries + 1, why)
    return False
