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
import re
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
# are named with the encoding option.
SINGLE_BYTE_CANDIDATES = ["cp1252", "latin_1"]
WIDE_CANDIDATES = ["utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"]
_ESCAPED = re.compile("[\udc80-\udcff]+")  # bytes that did not decode (surrogateescape)

# Encodings a user may name: these, and any other text codec that passes a round trip, except
# the special codecs below (they encode domain names or Python literals, not files).
COMMON_ENCODINGS = frozenset(
    codecs.lookup(name).name
    for name in (
        "utf-8",
        "utf-8-sig",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "utf-32-le",
        "utf-32-be",
        "ascii",
        "latin-1",
        "cp1252",
        "cp1250",
        "cp1251",
        "iso8859-15",
        "mac-roman",
        "shift_jis",
        "euc-jp",
        "gb18030",
        "big5",
        "euc-kr",
        "koi8-r",
    )
)
NOT_FILE_ENCODINGS = frozenset(
    ("idna", "punycode", "undefined", "unicode_escape", "raw_unicode_escape", "unicode_internal", "charmap")
)
ROUND_TRIP = 'id,name;note|tab\t"quoted"\r\n0-9 A-Z a-z _.@'
TRY_ENCODINGS = "use a text encoding such as utf-8, utf-16, cp1252 or latin-1"


class ImportFileError(BulkAdminError):
    """The file as a whole cannot be imported: unreadable, undecodable, bad header, broken JSON;
    `option` names the import option at fault, if any."""

    def __init__(self, message: str, *, option: str | None = None) -> None:
        self.option = option
        super().__init__(message)


class UnknownEncoding(ImportFileError):
    """An encoding a user named does not exist or is not a text encoding."""

    def __init__(self, message: str, option: str, encoding: str) -> None:
        super().__init__(message)
        self.option = option
        self.encoding = encoding


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


@dataclass(frozen=True)
class Detected:
    """The encoding a file is read in, and why; `notable` when the summary should say so (the
    file is not plain UTF-8: mostly UTF-8, or another encoding)."""

    encoding: str
    reason: str
    notable: bool = False

    def __str__(self) -> str:
        return f"{self.encoding} ({self.reason})"


@dataclass(frozen=True)
class Utf8Census:
    """How the sample's lines decode as UTF-8: all lines, those holding multi-byte characters
    (counted only when some line is invalid), those with invalid bytes and the first (1-based)."""

    lines: int
    multibyte: int
    invalid: int
    first_invalid: int | None

    @property
    def mostly_utf8(self) -> bool:
        """At least as many lines hold valid UTF-8 multi-byte characters as hold invalid bytes: a
        UTF-8 file with stray bytes. (Text in a single-byte encoding is almost never valid UTF-8
        where it is not ASCII, so its lines with accents are all invalid.)"""
        return self.multibyte >= self.invalid


def detect(sample: bytes, at_eof: bool = False) -> Detected:
    """The encoding of a sample: a BOM's; else UTF-8 when the sample is (mostly) UTF-8, its
    undecodable lines becoming rejected rows; else what charset-normalizer finds among UTF-16/32
    (when NUL bytes show a wide encoding) or cp1252 / Latin-1."""
    for bom, encoding in BOMS:
        if sample.startswith(bom):
            return Detected(encoding, "detected: byte order mark")
    census = utf8_census(sample, at_eof)
    if not census.invalid:
        return Detected("utf-8", "detected: valid UTF-8")
    if census.mostly_utf8:
        reason = f"detected: mostly UTF-8; lines with invalid bytes (first: line {census.first_invalid}) are rejected"
        return Detected("utf-8", reason, notable=True)
    candidates = WIDE_CANDIDATES if b"\x00" in sample else SINGLE_BYTE_CANDIDATES
    best = charset_normalizer.from_bytes(sample, cp_isolation=candidates).best()
    encoding = best.encoding if best is not None else "latin_1"
    share = (
        f"{census.invalid:,} of {census.lines:,} sampled lines hold invalid bytes, first line {census.first_invalid}"
    )
    return Detected(encoding, f"detected: not UTF-8: {share}", notable=True)


def detect_encoding(sample: bytes, at_eof: bool = False) -> str:
    """The name of the encoding `detect` finds."""
    return detect(sample, at_eof).encoding


def utf8_census(sample: bytes, at_eof: bool) -> Utf8Census:
    """Decode the sample line by line as UTF-8; a last line the sample cuts may end mid-character."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_eof)
        return Utf8Census(sample.removesuffix(b"\n").count(b"\n") + 1, 0, 0, None)
    except UnicodeDecodeError:
        pass
    lines = sample.removesuffix(b"\n").split(b"\n")
    multibyte = invalid = 0
    first_invalid = None
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            codecs.getincrementaldecoder("utf-8")().decode(line, final=at_eof or number < len(lines))
            multibyte += 1
        except UnicodeDecodeError:
            invalid += 1
            first_invalid = first_invalid or number
    return Utf8Census(len(lines), multibyte, invalid, first_invalid)


def undecodable_at(text: str, encoding: str) -> str | None:
    """Where `text` (decoded with `decode_errors`) holds bytes that did not decode, e.g.
    "bytes not valid utf-8 at byte 3 (\\xc3)"; None when it holds none."""
    if decode_errors(encoding) == "replace":
        position = text.find("\ufffd")
        return None if position < 0 else f"bytes not valid {encoding} at character {position + 1}"
    found = _ESCAPED.search(text)
    if found is None:
        return None
    offset = len(text[: found.start()].encode(encoding, "surrogateescape"))
    shown = "".join(f"\\x{ord(char) - 0xDC00:02x}" for char in found.group()[:8])
    return f"bytes not valid {encoding} at byte {offset + 1} ({shown})"


def check_encoding(name: str, option: str = "encoding") -> str:
    """The codec name for an encoding a user names (`option`), or `UnknownEncoding` for one that
    does not exist or is no text encoding (base64, zlib, rot13, idna, unicode_escape, ...)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        raise UnknownEncoding(f"Unknown encoding {name!r} ({TRY_ENCODINGS}).", option, name) from None
    if info.name not in COMMON_ENCODINGS and not _is_text_codec(info):
        message = f"{name!r} is not a text encoding ({TRY_ENCODINGS})."
        raise UnknownEncoding(message, option, name)
    return info.name


def _is_text_codec(info: codecs.CodecInfo) -> bool:
    """A codec that turns bytes into text and back (`encodings` has bytes-to-bytes and special
    codecs too), checked by a round trip of the characters files are made of."""
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("-", "_") in NOT_FILE_ENCODINGS:
        return False
    try:
        return info.decode(info.encode(ROUND_TRIP)[0])[0] == ROUND_TRIP
    except (UnicodeError, ValueError, TypeError, LookupError):
        return False


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
