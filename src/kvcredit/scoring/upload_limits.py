"""Bounds on what a file may cost to read: bytes uncompressed and data rows.

An XLSX (or ODS) is a zip: a small file can inflate to gigabytes. ``check_size`` refuses a file
whose uncompressed size is over the bound before any spreadsheet reader sees it: first by the
sizes its members declare, then by inflating each member in chunks and counting what actually
comes out, stopping at the bound (so a member that lies about its size costs at most the bound,
and memory stays one chunk). A CSV, Parquet or old XLS is bounded by its size on disk. The row
bound is applied by the readers (they read at most ``max_rows + 1`` rows, see ``too_many_rows``).

Pure: the service passes its settings (``KVCREDIT_UPLOAD_MAX_BYTES``, ``KVCREDIT_UPLOAD_MAX_ROWS``);
``Limits()`` bounds nothing (the local ``kvcredit evaluate`` of a large file).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from kvcredit.errors import InputFileError, UploadTooLarge

CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    max_bytes: int | None = None  # uncompressed bytes
    max_rows: int | None = None  # data rows (the header not counted)

    def read_rows(self) -> int | None:
        """How many rows a reader reads: one more than allowed, to tell that there are more."""
        return None if self.max_rows is None else self.max_rows + 1


NO_LIMITS = Limits()


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


def _too_big(name: str, limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"{name}: 文件解压后超过 {_mib(limit)} 的上限，未读取 / "
        f"the file is over the limit of {_mib(limit)} uncompressed; it was not read"
    )


def check_size(path: Path, limits: Limits, name: str | None = None) -> None:
    """Refuse ``path`` when it is (or inflates to) more than ``limits.max_bytes``.

    ``name``: the file's name as the user knows it (an upload is stored under another), for
    the message; default ``path.name``.
    """
    name = name or path.name
    limit = limits.max_bytes
    if limit is None:
        return
    if path.stat().st_size > limit:
        raise _too_big(name, limit)
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > limit:  # what the members declare
                raise _too_big(name, limit)
            total = 0
            for member in members:  # what they actually inflate to, read with a bound
                with archive.open(member) as stream:
                    while chunk := stream.read(CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise _too_big(name, limit)
    except UploadTooLarge:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise InputFileError(
            f"{name}: 文件已损坏，无法读取 / the file is damaged and cannot be read ({exc})"
        ) from exc


def too_many_rows(path: Path, rows: int, limits: Limits, name: str | None = None) -> None:
    """Refuse a file with more data rows than ``limits.max_rows``."""
    if limits.max_rows is not None and rows > limits.max_rows:
        raise UploadTooLarge(
            f"{name or path.name}: 超过 {limits.max_rows} 行的上限 / "
            f"the file has more than {limits.max_rows} rows, the limit"
        )
