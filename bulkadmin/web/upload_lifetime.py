"""The lifetime and owner of uploads: an upload older than `BULKADMIN_UPLOAD_MAX_AGE_HOURS` that
no queued or running job uses is deleted (`purge_uploads`, run by `manage.py purge_uploads` and
at the start of every upload), and what one user's uploads hold counts against
`BULKADMIN_UPLOAD_QUOTA_BYTES`. Uploads are listed and deleted only through `stored_uploads` and
`delete_upload`, the two functions that know where they are kept."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass

from bulkadmin.core import conf
from bulkadmin.models import Job
from bulkadmin.web.uploads import META, load_meta, uploads_dir


@dataclass(frozen=True)
class KeptUpload:
    """One stored upload: its token, owner (user id, None when unknown), bytes and age."""

    token: str
    user: int | None
    size: int
    age_hours: float


@dataclass(frozen=True)
class Purged:
    uploads: int
    bytes: int


def stored_uploads(now: float | None = None) -> Iterator[KeptUpload]:
    """Every upload folder, with what its description says (an unreadable one has no owner)."""
    now = time.time() if now is None else now
    folder = uploads_dir()
    if not folder.is_dir():
        return
    for upload in folder.iterdir():
        if not upload.is_dir():
            continue
        files = [child for child in upload.iterdir() if child.is_file()]
        size = sum(child.stat().st_size for child in files if child.name != META)
        changed = max((child.stat().st_mtime for child in files), default=upload.stat().st_mtime)
        try:
            user = load_meta(upload).get("user")
        except (OSError, ValueError):
            user = None
        yield KeptUpload(upload.name, user, size, (now - changed) / 3600)


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
        if upload.age_hours >= limit and upload.token not in busy:
            delete_upload(upload.token)
            count, freed = count + 1, freed + upload.size
    return Purged(count, freed)


def used_bytes(user: int | None) -> int:
    """What `user`'s kept uploads hold."""
    return sum(upload.size for upload in stored_uploads() if upload.user == user)
