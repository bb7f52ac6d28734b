"""Opening an import source (a path, `-` for standard input, or a binary file object) and
detecting its encoding from a sample.

Bytes are counted as they are read, for progress and ETA; the sample is served again in front of
the rest of the stream, so standard input is read only once.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import charset_normalizer

from bulkadmin.core.exceptions import BulkAdminError

SAMPLE_SIZE = 256 * 1024
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM it starts with
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Without a BOM, a sample that is not UTF-8 is one of these (the list); other encodings
# are named with --encoding.
SINGLE_BYTE_CANDIDATES = ["cp1252", "latin_1"]
WIDE_CANDIDATES = ["utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"]


class ImportFileError(BulkAdminError):
    """The file as a whole cannot be imported: unreadable, undecodable, bad header, broken JSON."""


class CountingStream(io.RawIOBase):
    """A raw binary stream serving `prefix` and then the rest of `stream`, counting bytes."""

    def __init__(self, prefix: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._stream = stream
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            count = min(len(buffer), len(self._prefix))
            buffer[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
        else:
            data = self._stream.read(len(buffer))
            count = len(data)
            buffer[:count] = data
        self.bytes_read += count
        return count


@dataclass
class Source:
    """An opened source: its name, size when known, the sample and the counting stream."""

    name: str
    path: Path | None
    size: int | None
    sample: bytes
    at_eof: bool  # the sample holds the whole input
    stream: CountingStream
    _owned: IO[bytes] | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the file for `--resume`: its size and the hash of its sample."""
        return {"size": self.size, "sample_sha256": hashlib.sha256(self.sample).hexdigest()}

    def binary(self) -> io.BufferedReader:
        return io.BufferedReader(self.stream, buffer_size=64 * 1024)

    def on_close(self, close: Callable[[], None]) -> None:
        """Have `close` called when the source is closed (a reader's own files)."""
        self._closers.append(close)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()
        if self._owned is not None:
            self._owned.close()


def open_source(source: str | os.PathLike[str] | IO[bytes]) -> Source:
    """Open `source` for reading: a path, `-` (standard input) or a binary file object."""
    owned = None
    path = None
    if isinstance(source, (str, os.PathLike)) and str(source) == "-":
        raw, name = sys.stdin.buffer, "<stdin>"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            raw = owned = path.open("rb")
        except OSError as error:
            raise ImportFileError(f"Cannot open {path}: {error.strerror or error}.") from None
        name = str(path)
    else:
        raw, name = source, str(getattr(source, "name", "<stream>"))
    size = _size_of(raw)
    sample = _read_sample(raw)
    at_eof = len(sample) < SAMPLE_SIZE
    return Source(name, path, size, sample, at_eof, CountingStream(sample, raw), owned)


def detect_encoding(sample: bytes, at_eof: bool = False) -> str:
    """The encoding of a sample: a BOM's, else UTF-8 when it decodes, else what charset-normalizer
    finds among UTF-16/32 (when NUL bytes show a wide encoding) or cp1252 / Latin-1."""
    for bom, encoding in BOMS:
        if sample.startswith(bom):
            return encoding
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_eof)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = WIDE_CANDIDATES if b"\x00" in sample else SINGLE_BYTE_CANDIDATES
    best = charset_normalizer.from_bytes(sample, cp_isolation=candidates).best()
    return best.encoding if best is not None else "latin_1"


def check_encoding(name: str) -> str:
    """The codec name for `--encoding`, or `ImportFileError` for an unknown one."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ImportFileError(f"Unknown encoding {name!r} (try utf-8, utf-16, cp1252 or latin-1).") from None


def decode_sample(sample: bytes, encoding: str, at_eof: bool) -> str:
    """The sample as text, cut after its last complete line unless it is the whole input."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=decode_errors(encoding))
    text = decoder.decode(sample, final=at_eof)
    if not at_eof and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text.removeprefix("\ufeff")


def decode_errors(encoding: str) -> str:
    """The decoding error handler: undecodable bytes become lone surrogates (so the rows holding
    them are rejected, naming the bytes), or U+FFFD for the wide encodings that cannot do that."""
    wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    return "replace" if wide else "surrogateescape"


def _size_of(raw: IO[bytes]) -> int | None:
    try:
        status = os.fstat(raw.fileno())
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _read_sample(raw: IO[bytes]) -> bytes:
    chunks, size = [], 0
    while size < SAMPLE_SIZE:
        chunk = raw.read(SAMPLE_SIZE - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
