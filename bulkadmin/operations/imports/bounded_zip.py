"""A workbook's zip archive read within bounds: its number of entries checked from the archive's
end record before the directory is read, and each member read through a stream that counts
what it decompresses, refusing a part past its size, past its compression ratio, or with a text
(or attribute) longer than a cell may be, before an XML parser would hold it whole."""

from __future__ import annotations

import io
import re
import zipfile
from typing import IO, Any

from bulkadmin.operations.imports.limits import LimitExceeded, ReadLimits

CHUNK = 64 * 1024  # the most bytes one read hands on
RATIO_GRACE = 1024 * 1024  # a part's first MiB is not held to the ratio (tiny parts compress well)


def check_entries(file: IO[bytes], limits: ReadLimits) -> None:
    """Refuse an archive whose end record declares more entries than allowed, before its whole
    central directory is read into memory."""
    try:
        end = zipfile._EndRecData(file)  # type: ignore[attr-defined]  # the stdlib's reader of that record
    except OSError:
        return  # not readable as a zip: refused by whoever opens it next
    finally:
        file.seek(0)
    if end is not None and end[zipfile._ECD_ENTRIES_TOTAL] > limits.max_entries:  # type: ignore[attr-defined]
        what = f"The workbook (a zip archive) holds {end[zipfile._ECD_ENTRIES_TOTAL]:,} files"  # type: ignore[attr-defined]
        raise LimitExceeded(what, limits.max_entries, "BULKADMIN_XLSX_MAX_ENTRIES")


class BoundedZip(zipfile.ZipFile):
    """A zip archive whose members are read through `BoundedPart` (`read` and `open` alike)."""

    def __init__(self, file: IO[bytes], limits: ReadLimits) -> None:
        check_entries(file, limits)
        super().__init__(file)
        self.limits = limits

    def open(self, name: Any, mode: Any = "r", pwd: bytes | None = None, **kw: Any) -> Any:
        member = super().open(name, mode, pwd, **kw)
        if mode != "r":
            return member
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        return io.BufferedReader(BoundedPart(member, info.filename, info.compress_size, self.limits), CHUNK)


class BoundedPart(io.RawIOBase):
    """One member's bytes, counted as they are decompressed (see the module's doc)."""

    def __init__(self, member: IO[bytes], name: str, compressed: int, limits: ReadLimits) -> None:
        super().__init__()
        self.member, self.name, self.compressed, self.limits = member, name, compressed, limits
        self.size = 0
        self.run = 0  # bytes since the last '<'
        self._long_run = re.compile(b"[^<]{%d}" % (limits.max_cell_bytes + 1))

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.member.read(min(len(buffer), CHUNK))
        count = len(data)
        buffer[:count] = data
        self._count(data)
        return count

    def close(self) -> None:
        self.member.close()
        super().close()

    def _count(self, data: bytes) -> None:
        limits = self.limits
        self.size += len(data)
        if self.size > limits.max_part_bytes:
            what = f"The workbook's part {self.name} decompresses to more bytes than a part may"
            raise LimitExceeded(what, limits.max_part_bytes, "BULKADMIN_XLSX_MAX_PART_BYTES")
        if self.size > RATIO_GRACE and self.size > limits.max_ratio * max(self.compressed, 1):
            what = f"The workbook's part {self.name} grows more by decompression than a part may (a zip bomb?)"
            raise LimitExceeded(what, limits.max_ratio, "BULKADMIN_XLSX_MAX_RATIO")
        first = data.find(b"<")
        if first < 0:
            self.run += len(data)
        else:
            self.run += first
            if self.run <= limits.max_cell_bytes and len(data) > limits.max_cell_bytes:
                self.run = limits.max_cell_bytes + 1 if self._long_run.search(data) else self.run
            if self.run <= limits.max_cell_bytes:
                self.run = len(data) - 1 - data.rfind(b"<")
        if self.run > limits.max_cell_bytes:
            raise LimitExceeded(
                f"The workbook's part {self.name} holds a text longer than a cell may be",
                limits.max_cell_bytes,
                "BULKADMIN_IMPORT_MAX_CELL_BYTES",
            )
