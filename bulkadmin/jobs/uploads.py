"""Uploaded import files once received: where they are kept, their description, their owner's
quota and their lifetime. The web's upload handler (`web/uploads.py`) writes them here; the
import jobs read them; `purge_uploads` (the watch, `manage.py purge_uploads`, every new upload)
deletes the expired ones.

Uploads live in the job files' storage as `uploads/<token>/<file>` and `uploads/<token>/upload.json`,
so any web process and any worker finds them. On a local storage the uploads folder is the
storage's own; on any other the files are streamed to a local staging folder, saved to the
storage with their description, and fetched into that folder by a web process that lacks them.

An upload older than `BULKADMIN_UPLOAD_MAX_AGE_HOURS` that no queued or running job uses is
deleted, and what one user's uploads hold counts against `BULKADMIN_UPLOAD_QUOTA_BYTES`. An
upload reserves its bytes before it writes any (`reserve_upload`, one user's reservations at a
time under a lease), so uploads running at once never hold more than the quota together. Only the
uploaded file counts: its scan records are the system's. An upload left half written (its
process died) is purged after `ABANDONED_HOURS`."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkadmin.core import conf
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import files, leases
from bulkadmin.models import Job

UPLOADS = "uploads"  # the uploads' folder in the job files' storage
META = "upload.json"
RESERVED = "reserved.json"  # the quota an upload being written reserved; removed once it is described
ABANDONED_HOURS = 0.25  # an unfinished upload not written to for this long is purged
QUOTA_WAIT_SECONDS = 30.0  # how long an upload waits for the user's other uploads to reserve


class UploadRejected(BulkAdminError):
    """An uploaded file that cannot be imported (type, content or size)."""


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


def uploads_dir() -> Path:
    """The local uploads folder: the storage's own when it is local, else a staging folder."""
    return files.local_path(UPLOADS) or Path(tempfile.gettempdir()) / "bulkadmin-uploads"


def upload_path(token: str) -> Path | None:
    """The local folder of upload `token` (fetched from the storage when this process lacks it),
    or None for a malformed or unknown token."""
    if len(token) != 32 or any(c not in "0123456789abcdef" for c in token):
        return None
    folder = uploads_dir() / token
    if not (folder / META).is_file() and files.local_path(UPLOADS) is None:
        _fetch(token, folder)
    return folder if (folder / META).is_file() else None


def stored_source(token: str, meta: dict[str, Any]) -> str:
    """How a job names upload `token`'s file: by its name in the storage, read by any worker."""
    return files.stored_source(f"{UPLOADS}/{token}/{meta['file']}")


def _fetch(token: str, folder: Path) -> None:
    storage = files.storage()
    meta_name = f"{UPLOADS}/{token}/{META}"
    if not storage.exists(meta_name):
        return
    folder.mkdir(parents=True, exist_ok=True)
    with storage.open(meta_name, "rb") as stored:
        meta = json.loads(stored.read())
    for name in (meta["file"], META):
        with storage.open(f"{UPLOADS}/{token}/{name}", "rb") as stored, (folder / name).open("wb") as out:
            shutil.copyfileobj(stored, out, files.CHUNK)


def save_meta(path: Path, meta: dict[str, Any]) -> str:
    """Write the upload's description next to it (whole, or not at all), and both to the storage
    when it is not this folder; return its token. A described upload's quota is its file's size."""
    spare = path.parent / f"{META}.{secrets.token_hex(4)}.tmp"
    try:
        spare.write_text(json.dumps(meta, indent=2))
        spare.replace(path.parent / META)
    finally:
        spare.unlink(missing_ok=True)
    (path.parent / RESERVED).unlink(missing_ok=True)
    token = path.parent.name
    if files.local_path(UPLOADS) is None:
        for local in (path, path.parent / META):
            if local == path and files.storage().exists(f"{UPLOADS}/{token}/{path.name}"):
                continue  # the file never changes once saved
            files.save(f"{UPLOADS}/{token}/{local.name}", local)
    return token


def load_meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / META).read_text())


def remove_folder(folder: Path) -> None:
    """Remove an upload's local folder and its copies in the storage (a refused or failed upload)."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if files.local_path(UPLOADS) is None:
            with contextlib.suppress(FileNotFoundError):  # refused before it was saved
                files.storage().delete(f"{UPLOADS}/{folder.name}/{child.name}")
        child.unlink(missing_ok=True)
    folder.rmdir()


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
    stats = {child.name: child.stat() for child in upload.iterdir() if child.is_file()}
    changed = max((stat.st_mtime for stat in stats.values()), default=upload.stat().st_mtime)
    age = (now - changed) / 3600
    if META in stats:
        meta = _json(upload / META)
        stat = stats.get(str(meta.get("file")))
        return KeptUpload(upload.name, meta.get("user"), stat.st_size if stat else 0, age)
    written = sum(stat.st_size for name, stat in stats.items() if name != RESERVED)
    reserved = _json(upload / RESERVED) if RESERVED in stats else {}
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
