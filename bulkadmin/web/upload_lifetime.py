"""The lifetime and owner of uploads: an upload older than `BULKADMIN_UPLOAD_MAX_AGE_HOURS` that
no queued or running job uses is deleted (`purge_uploads`, run by `manage.py purge_uploads` and
at the start of every upload), and what one user's uploads hold counts against
`BULKADMIN_UPLOAD_QUOTA_BYTES`. Uploads are listed and deleted only through `stored_uploads` and
`delete_upload`, the two functions that know where they are kept.

An upload reserves its bytes before it writes any (`reserve_upload`, one user's reservations at a
time under a lease), so uploads running at once never hold more than the quota together. Only the
uploaded file counts: its scan records are the system's. An upload left half written (its
process died) is purged after `ABANDONED_HOURS`."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bulkadmin.core import conf
from bulkadmin.jobs import leases
from bulkadmin.models import Job
from bulkadmin.web.uploads import META, RESERVED, UploadRejected, uploads_dir

ABANDONED_HOURS = 0.25  # an unfinished upload not written to for this long is purged
QUOTA_WAIT_SECONDS = 30.0  # how long an upload waits for the user's other uploads to reserve


@dataclass(frozen=True)
class Purged:
    uploads: int
    bytes: int


@dataclass(frozen=True)
class KeptUpload:
    """One stored upload: its token, owner (user id, None when unknown), bytes and age; `finished`
    once its description is written."""

    token: str
    user: int | None
    size: int
    age_hours: float
    finished: bool = True


def stored_uploads(now: float | None = None) -> Iterator[KeptUpload]:
    """Every upload folder: a finished one's owner and file size from its description, an
    unfinished one's from its reservation (an unreadable one has no owner)."""
    now = time.time() if now is None else now
    folder = uploads_dir()
    if not folder.is_dir():
        return
    for upload in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):  # removed while it was looked at
            if upload.is_dir():
                yield _kept(upload, now)


def _kept(upload: Path, now: float) -> KeptUpload:
    files = {child.name: child.stat() for child in upload.iterdir() if child.is_file()}
    changed = max((stat.st_mtime for stat in files.values()), default=upload.stat().st_mtime)
    age = (now - changed) / 3600
    if META in files:
        meta = _json(upload / META)
        stat = files.get(str(meta.get("file")))
        return KeptUpload(upload.name, meta.get("user"), stat.st_size if stat else 0, age)
    written = sum(stat.st_size for name, stat in files.items() if name != RESERVED)
    reserved = _json(upload / RESERVED) if RESERVED in files else {}
    size = max(written, int(reserved.get("bytes", 0)))
    return KeptUpload(upload.name, reserved.get("user"), size, age, finished=False)


def _json(path: Path) -> dict:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def reserve_upload(folder: Path, user: int | None, wanted: int) -> int:
    """Reserve up to `wanted` bytes of `user`'s quota for the upload being written to `folder`
    (what is left when less), with the user's other uploads waiting; return the bytes granted."""
    with _quota_lease(user):
        granted = max(0, min(wanted, conf.upload_quota_bytes() - used_bytes(user)))
        if granted:
            (folder / RESERVED).write_text(json.dumps({"user": user, "bytes": granted}))
    return granted


@contextlib.contextmanager
def _quota_lease(user: int | None) -> Iterator[None]:
    try:
        with leases.briefly(f"upload-quota-{user}", wait=QUOTA_WAIT_SECONDS):
            yield
    except leases.LeaseHeld:
        raise UploadRejected("Your other uploads are still being counted; try again in a moment.") from None


def delete_upload(token: str) -> None:
    shutil.rmtree(uploads_dir() / token, ignore_errors=True)


def in_use() -> set[str]:
    """The uploads of queued or running jobs (a dry run, or the import it confirmed)."""
    active = Job.objects.filter(kind=Job.Kind.IMPORT, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
    return {str(parameters.get("upload")) for parameters in active.values_list("parameters", flat=True) if parameters}


def purge_uploads(max_age_hours: float | None = None, now: float | None = None) -> Purged:
    """Delete the uploads older than `max_age_hours` (default: the setting) that no queued or
    running job uses; return how many and how many bytes."""
    limit = conf.upload_max_age_hours() if max_age_hours is None else max_age_hours
    busy = in_use()
    count = freed = 0
    for upload in stored_uploads(now):
        expired = upload.age_hours >= (limit if upload.finished else min(limit, ABANDONED_HOURS))
        if expired and upload.token not in busy:
            delete_upload(upload.token)
            count, freed = count + 1, freed + upload.size
    return Purged(count, freed)


def used_bytes(user: int | None) -> int:
    """What `user`'s kept uploads hold and those being written have reserved."""
    return sum(upload.size for upload in stored_uploads() if upload.user == user)
