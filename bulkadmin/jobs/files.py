"""Job files through Django's storage API: uploads, and the full error file of each import.

Every process (web, any worker on any machine) reaches them through one named storage,
`STORAGES[BULKADMIN_STORAGE]` (default `"bulkadmin"`: `JobFilesStorage`, a folder under
`BULKADMIN_JOBS_DIR`; S3 with django-storages on several machines). Jobs keep storage names
(relative keys), never local paths: an import source read from the storage is `stored:<name>`.

Readers need a local file (formats such as XLSX must seek): a local storage gives its own path;
any other is copied to a temporary file in chunks. The error file is written locally during the
run and saved to the storage at each checkpoint and at the end, so a resume on another machine
starts from the saved copy, cut back to the last checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.storage.handler import InvalidStorageError

from bulkadmin.core import conf

STORED = "stored:"
CHUNK = 1024 * 1024


class JobFilesStorage(FileSystemStorage):
    """The default: files under `BULKADMIN_JOBS_DIR` (read when used, so overrides apply at once)."""

    @property
    def base_location(self) -> str:
        return str(getattr(self, "_location", None) or conf.jobs_dir())

    @property
    def location(self) -> str:
        return str(Path(self.base_location).resolve())


def storage() -> Storage:
    """The storage holding job files."""
    try:
        return storages[conf.storage_name()]
    except InvalidStorageError:
        return JobFilesStorage()


def local_path(name: str) -> Path | None:
    """Where `name` lives on this machine when the storage is a local folder, else None."""
    target = storage()
    return Path(target.path(name)) if isinstance(target, FileSystemStorage) else None


def stored_source(name: str) -> str:
    """How a job names an import source kept in the storage."""
    return f"{STORED}{name}"


def stored_name(source: Any) -> str | None:
    """The storage name of a `stored:` source, else None (a local path, `-`, a stream)."""
    if isinstance(source, str) and source.startswith(STORED):
        return source.removeprefix(STORED)
    return None


def source_exists(source: Any) -> bool:
    """Whether a job's source can still be read: a stored file, or a local file on this machine."""
    name = stored_name(source)
    if name is not None:
        return storage().exists(name)
    return isinstance(source, str) and Path(source).is_file()


@contextlib.contextmanager
def local_file(name: str) -> Iterator[Path]:
    """A local, seekable copy of stored file `name` (the file itself on a local storage)."""
    path = local_path(name)
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="bulkadmin-") as folder:
        copy = Path(folder) / Path(name).name
        with storage().open(name, "rb") as stored, copy.open("wb") as out:
            shutil.copyfileobj(stored, out, CHUNK)
        yield copy


def save(name: str, path: Path) -> str:
    """Save local file `path` as `name` in the storage, replacing it; return the name."""
    target = storage()
    if local_path(name) == path:
        return name
    if target.exists(name):
        target.delete(name)
    with path.open("rb") as handle:
        return target.save(name, File(handle, name=Path(name).name))


def cut_back(path: str, size: int) -> None:
    """Cut the local file `path` back to its first `size` bytes (what a checkpoint recorded);
    remove it when that is none."""
    local = Path(path)
    if not size:
        local.unlink(missing_ok=True)
        return
    with contextlib.suppress(FileNotFoundError), local.open("r+b") as handle:
        if os.fstat(handle.fileno()).st_size > size:
            handle.truncate(size)


class StoredErrorFile:
    """An import's full error file, `<job id>/errors.csv` in the storage, and the local file the
    run writes: the stored file itself on a local storage, else a working copy in the temporary
    folder, fetched before a resume and saved back by `push`."""

    def __init__(self, job_id: int) -> None:
        self.name = f"{job_id}/errors.csv"
        in_place = local_path(self.name)
        self.remote = in_place is None
        self.local = in_place or Path(tempfile.gettempdir()) / "bulkadmin-jobs" / self.name
        self.pushed = -1

    def fetch(self) -> None:
        """Bring the stored copy here before a resume (the run cuts it back to its checkpoint)."""
        if not self.remote or not storage().exists(self.name):
            return
        self.local.parent.mkdir(parents=True, exist_ok=True)
        with storage().open(self.name, "rb") as stored, self.local.open("wb") as out:
            shutil.copyfileobj(stored, out, CHUNK)

    def push(self) -> None:
        """Save the local file to the storage when it grew since the last push."""
        if not self.remote or not self.local.exists():
            return
        size = self.local.stat().st_size
        if size != self.pushed:
            save(self.name, self.local)
            self.pushed = size

    def names(self, recorded: str) -> str:
        """The job's `error_file` for what the run recorded: our local file is the storage name."""
        return self.name if recorded and Path(recorded) == self.local else recorded

    def local_of(self, recorded: str) -> str:
        """The run's local path for the job's `error_file` (the storage name maps back here)."""
        return str(self.local) if recorded == self.name else recorded
