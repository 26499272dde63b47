"""What an attached file is, read from its bytes, and which kinds of document each object takes.

Pure: no Django. The type is sniffed from the content's magic bytes, never taken from the name
or the client's Content-Type: a PDF starts ``%PDF-``, a PNG with its 8-byte signature, a JPEG
``FF D8 FF``; an XLSX and a DOCX are zips (``PK\\x03\\x04``) holding ``[Content_Types].xml``
and ``xl/workbook.xml`` or ``word/document.xml``. A name whose extension says another type is
refused too (a PNG called ``contract.pdf`` is a mistake worth stopping).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from enum import StrEnum


class FileType(StrEnum):
    PDF = "PDF"
    PNG = "PNG"
    JPEG = "JPEG"
    XLSX = "XLSX"
    DOCX = "DOCX"


MEDIA_TYPES = {
    FileType.PDF: "application/pdf",
    FileType.PNG: "image/png",
    FileType.JPEG: "image/jpeg",
    FileType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
EXTENSIONS = {
    FileType.PDF: (".pdf",),
    FileType.PNG: (".png",),
    FileType.JPEG: (".jpg", ".jpeg"),
    FileType.XLSX: (".xlsx",),
    FileType.DOCX: (".docx",),
}


class ObjectType(StrEnum):
    APPLICATION = "APPLICATION"
    CLAIM = "CLAIM"


class DocumentKind(StrEnum):
    CONTRACT = "CONTRACT"  # the loan contract (application)
    OVERDUE_NOTICE = "OVERDUE_NOTICE"  # the bank's overdue notice to the borrower (claim)
    EVIDENCE = "EVIDENCE"  # collection records and other evidence (claim)
    OTHER = "OTHER"  # anything else the object needs


KINDS: dict[ObjectType, tuple[DocumentKind, ...]] = {
    ObjectType.APPLICATION: (DocumentKind.CONTRACT, DocumentKind.OTHER),
    ObjectType.CLAIM: (DocumentKind.OVERDUE_NOTICE, DocumentKind.EVIDENCE, DocumentKind.OTHER),
}


@dataclass(frozen=True)
class Refusal:
    """Why a file is not accepted: ``code`` for the caller to word, ``detail`` for it to fill."""

    code: str  # EMPTY, TOO_LARGE, UNKNOWN_TYPE, EXTENSION
    detail: str = ""


def _zip_type(data: bytes) -> FileType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "xl/workbook.xml" in names:
        return FileType.XLSX
    if "word/document.xml" in names:
        return FileType.DOCX
    return None


def sniff(data: bytes) -> FileType | None:
    """The type of ``data`` by its magic bytes, or None where it is none of the accepted ones."""
    if data.startswith(b"%PDF-"):
        return FileType.PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    return None


def check(data: bytes, filename: str, *, max_bytes: int) -> FileType | Refusal:
    """The file's type, or why it is refused (empty, over ``max_bytes``, not an accepted type,
    or a name whose extension says another type)."""
    if not data:
        return Refusal("EMPTY")
    if len(data) > max_bytes:
        return Refusal("TOO_LARGE", str(max_bytes))
    kind = sniff(data)
    if kind is None:
        return Refusal("UNKNOWN_TYPE")
    name = filename.lower()
    if "." in name.rsplit("/", 1)[-1]:
        ext = "." + name.rsplit(".", 1)[-1]
        if ext not in EXTENSIONS[kind]:
            return Refusal("EXTENSION", f"{kind.value} {ext}")
    return kind


def kinds_for(obj: ObjectType) -> tuple[DocumentKind, ...]:
    return KINDS[obj]
