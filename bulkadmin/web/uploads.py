"""Receiving import files: streamed chunk by chunk to the uploads folder (never held in memory),
capped in size and by the user's quota, checked for extension and content. Where they are then
kept, described and purged is `jobs/uploads.py`'s."""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, cast

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.utils.text import get_valid_filename

from bulkadmin.core import conf
from bulkadmin.jobs.uploads import UploadRejected, purge_uploads, remove_folder, reserve_upload, uploads_dir
from bulkadmin.operations.imports.formats import formats
from bulkadmin.operations.imports.sources import ImportFileError

FILE_FIELD = "file"
MAX_STORED_NAME = 120  # bytes of a stored upload's file name (file systems allow 255; storages less)


def max_upload_bytes() -> int:
    """The largest file accepted (`BULKADMIN_UPLOAD_MAX_BYTES`, default 200 MB)."""
    return conf.upload_max_bytes()


class StoredUpload(UploadedFile):
    """An upload already written to its final place on disk."""

    def __init__(self, path: Path, name: str, size: int, content_type: str | None) -> None:
        super().__init__(path.open("rb"), name=name, content_type=content_type, size=size)
        self.path = path

    def temporary_file_path(self) -> str:
        return str(self.path)


class UploadRequest(HttpRequest):
    """A request whose files `use_limited_uploads` streams: why a file was refused ('' when none
    was) and the folders its files went to."""

    upload_problem: str
    upload_folders: list[Path]


class LimitedUploadHandler(FileUploadHandler):
    """Writes the `file` field (one per request) straight to a new uploads folder, refusing other
    extensions, anything larger than `max_upload_bytes()` or than the bytes it reserved of the
    user's quota, and a full disk; the reason is left on `request.upload_problem`."""

    def __init__(self, request: UploadRequest) -> None:
        super().__init__(request)
        self.upload_request = request
        self.target: Path | None = None
        self.out: BinaryIO | None = None
        self.request_bytes = max_upload_bytes()

    def handle_raw_input(self, input_data: Any, META: Any, content_length: int, *args: Any, **kwargs: Any) -> None:
        self.request_bytes = content_length  # the file cannot be longer than the request that carries it

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.target, self.out = None, None
        if field_name != FILE_FIELD:
            raise SkipFile()
        if self.upload_request.upload_folders:
            self._refuse("Send one file per upload: this request carried more than one.")
        extensions = formats.upload_extensions()
        if Path(file_name).suffix.lower() not in extensions:
            self._refuse(f"{file_name!r} is not a file that can be imported: use one of {', '.join(extensions)}.")
        folder = uploads_dir() / secrets.token_hex(16)
        folder.mkdir(parents=True)
        self.upload_request.upload_folders.append(folder)
        self.reserved = self._reserve(folder)
        self.target = folder / stored_name(file_name)
        try:
            self.out = self.target.open("wb")
        except OSError as error:
            self._give_up(f"The file could not be stored ({error.strerror or error}); try again later.")
        self.written = 0

    def _reserve(self, folder: Path) -> int:
        """Purge abandoned uploads, then reserve what this file may take of the user's quota."""
        purge_uploads()
        user = getattr(self.upload_request.user, "pk", None)
        try:
            reserved = reserve_upload(folder, user, min(self.request_bytes, max_upload_bytes()))
        except UploadRejected as error:
            remove_folder(folder)
            self._refuse(str(error))
        if not reserved:
            remove_folder(folder)
            self._refuse(self._over_quota())
        return reserved

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self.target is None:
            return None
        self.written += len(raw_data)
        if self.written > max_upload_bytes():
            self._give_up(f"{self.file_name!r} is larger than the upload limit of {_size(max_upload_bytes())}.")
        if self.written > self.reserved:
            self._give_up(self._over_quota())
        try:
            cast(BinaryIO, self.out).write(raw_data)
        except OSError as error:  # a full disk, say: nothing of the file is kept
            self._give_up(f"{self.file_name!r} could not be stored: {error.strerror or error}. Nothing was kept.")
        return None

    def _over_quota(self) -> str:
        quota = _size(conf.upload_quota_bytes())
        return f"Your uploads would hold more than your quota of {quota}; wait for old ones to expire."

    def _give_up(self, message: str) -> NoReturn:
        """Close and remove what this file wrote, then refuse it with `message`."""
        self.upload_interrupted()
        self._refuse(message)

    def file_complete(self, file_size: int) -> StoredUpload | None:
        if self.target is None:
            return None
        try:
            cast(BinaryIO, self.out).close()  # flushes the last bytes: the disk may be full now
        except OSError as error:
            self._give_up(f"{self.file_name!r} could not be stored: {error.strerror or error}. Nothing was kept.")
        return StoredUpload(self.target, self.file_name or self.target.name, file_size, self.content_type)

    def upload_interrupted(self) -> None:
        if self.out is not None:
            with contextlib.suppress(OSError):
                self.out.close()
        if self.target is not None:
            remove_folder(self.target.parent)
        self.target, self.out = None, None

    def _refuse(self, message: str) -> NoReturn:
        self.upload_request.upload_problem = message
        raise SkipFile(message)


def stored_name(file_name: str) -> str:
    """The name an upload is stored under: the file's own, made safe, its stem cut so the whole
    holds at most `MAX_STORED_NAME` bytes (the name shown stays the one given)."""
    name = get_valid_filename(Path(file_name).name) or "upload.csv"
    if len(name.encode()) <= MAX_STORED_NAME:
        return name
    suffix = Path(name).suffix[:16]
    stem = name[: -len(suffix)] if suffix else name
    room = MAX_STORED_NAME - len(suffix.encode())
    return stem.encode()[:room].decode("utf-8", "ignore") + suffix


def use_limited_uploads(request: HttpRequest) -> UploadRequest:
    """Make `request` stream its file uploads with `LimitedUploadHandler` (before POST is read)."""
    upload_request = cast(UploadRequest, request)
    upload_request.upload_problem = ""
    upload_request.upload_folders = []
    upload_request.upload_handlers = [LimitedUploadHandler(upload_request)]
    return upload_request


def discard_uploads(request: HttpRequest) -> None:
    """Remove what `request` uploaded (a request refused after its body was read)."""
    for folder in getattr(request, "upload_folders", []):
        if folder.is_dir():
            remove_folder(folder)


def check_content(path: Path) -> None:
    """Refuse an empty file, or one whose content cannot be of the format its extension names
    (binary content for a text format, say)."""
    if not _head(path).strip():
        raise UploadRejected(f"{path.name} is empty.")
    fmt = formats.by_extension(path.name, loose=True)
    if fmt is None:
        raise UploadRejected(f"{path.name} is not a file that can be imported.")
    try:
        fmt.check_content(path)
    except ImportFileError as error:
        raise UploadRejected(str(error)) from None


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(8192)


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.0f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"
