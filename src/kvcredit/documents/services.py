"""Attaching a file to an application or a claim: checked, stored, hashed, audited.

Who may attach: to an application, its bank (the contract) and its enterprise; to a claim, its
bank (the overdue notice, the evidence) and the trustee. Everyone who sees the object reads its
documents (``documents.selectors``). A version, once stored, is never changed: a correction is
``attach(..., document_id=...)``, the next version of the same document."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.documents import selectors
from kvcredit.documents.domain.kinds import (
    MEDIA_TYPES,
    DocumentKind,
    FileType,
    ObjectType,
    Refusal,
    check,
    kinds_for,
)
from kvcredit.documents.models import Document, DocumentVersion, document_storage
from kvcredit.errors import InvalidInput, NotFound, UploadTooLarge

WRITERS = {
    ObjectType.APPLICATION: (OrgKind.BANK, OrgKind.ENTERPRISE),
    ObjectType.CLAIM: (OrgKind.BANK, OrgKind.TRUSTEE),
}


def max_bytes() -> int:
    return int(settings.KVCREDIT_DOCUMENT_MAX_BYTES)


def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MB"


def too_large(filename: str, limit: int) -> UploadTooLarge:
    """The refusal of a file over ``limit`` bytes (the API answers 413)."""
    return UploadTooLarge(
        _("%(name)s: the file is over %(limit)s, the largest document accepted")
        % {"name": filename, "limit": _mb(limit)}
    )


def _refuse(why: Refusal, filename: str) -> Exception:
    if why.code == "TOO_LARGE":
        return too_large(filename, int(why.detail))
    if why.code == "EMPTY":
        message = _("the file is empty")
    elif why.code == "EXTENSION":
        found, ext = why.detail.split(" ", 1)
        message = _("the file's content is %(type)s but its name ends in %(ext)s") % {
            "type": found,
            "ext": ext,
        }
    else:
        message = _("the file is not a PDF, PNG, JPEG, XLSX or DOCX (judged by its content)")
    return InvalidInput([("file", f"{filename}: {message}")])


def _safe_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    return (base or "document")[-120:]


def attach(
    actor: Any,
    *,
    obj: ObjectType,
    obj_id: int,
    data: bytes,
    filename: str,
    kind: str = "",
    title: str = "",
    document_id: int | None = None,
    now: dt.datetime | None = None,
) -> DocumentVersion:
    """Store ``data`` as a new document of the object (``kind``, ``title``) or as the next
    version of its document ``document_id``; return the version."""
    who = require(actor, *WRITERS[obj], action=gettext_noop("attach documents"))
    target = selectors.owner(actor, obj, obj_id)
    if who == OrgKind.BANK and target.bank.organisation_id != actor.organisation_id:
        raise NotFound(_("no such object"))  # (the selectors scope a bank already)
    name = _safe_name(filename)
    verdict = check(data, name, max_bytes=max_bytes())
    if isinstance(verdict, Refusal):
        raise _refuse(verdict, name)
    file_type: FileType = verdict
    if len(title) > 200 or any(not ch.isprintable() for ch in title):
        raise InvalidInput([("title", _("at most 200 printable characters"))])
    at = now or timezone.now()
    digest = hashlib.sha256(data).hexdigest()
    field = "application_id" if obj == ObjectType.APPLICATION else "claim_id"
    with transaction.atomic():
        if document_id is None:
            allowed = kinds_for(obj)
            if kind not in {k.value for k in allowed}:
                names = ", ".join(k.value for k in allowed)
                raise InvalidInput([("kind", _("one of %(kinds)s") % {"kinds": names})])
            doc = Document.objects.create(
                **{field: obj_id},
                kind=DocumentKind(kind).value,
                title=title,
                created_at=at,
                created_by=actor,
            )
            number = 1
        else:
            doc = (
                Document.objects.select_for_update()
                .filter(pk=document_id, **{field: obj_id})
                .first()
            )
            if doc is None:
                raise NotFound(_("no such document"), field="document_id")
            last = doc.versions.order_by("-version").values_list("version", flat=True).first()
            number = (last or 0) + 1
        version = DocumentVersion(
            document=doc,
            version=number,
            filename=name,
            file_type=file_type.value,
            content_type=MEDIA_TYPES[file_type],
            size_bytes=len(data),
            sha256=digest,
            uploaded_at=at,
            uploaded_by=actor,
        )
        storage = document_storage()
        obj_path = f"{obj.value.lower()}/{obj_id}/{doc.pk}"
        version.stored_as = storage.save(
            f"{obj_path}/v{number}-{digest[:16]}-{name}", ContentFile(data)
        )  # stored before the row; a new name each time, never over another file
        try:
            version.save()
            audit.record(
                actor,
                "DOCUMENT_ATTACH",
                "document",
                doc.pk,
                after={
                    "object": obj.value,
                    "object_id": obj_id,
                    "kind": doc.kind,
                    "version": number,
                    "filename": name,
                    "type": file_type.value,
                    "size_bytes": len(data),
                    "sha256": digest,
                    "stored_as": version.stored_as,
                },
                now=at,
            )
        except BaseException:
            storage.delete(version.stored_as)  # no row: no file either
            raise
    return version


def read(version: DocumentVersion) -> bytes:
    """The stored bytes of a version (checked against its recorded SHA-256)."""
    with document_storage().open(version.stored_as, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != version.sha256:
        raise InvalidInput([("file", _("the stored file does not match its recorded SHA-256"))])
    return data
