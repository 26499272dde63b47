"""REST resources of documents: ``/api/v1/applications/{id}/documents`` and
``/api/v1/fund/claims/{id}/documents`` (list, upload as multipart, download a version)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Path, Router, Schema, Status, UploadedFile

from kvcredit.api.common import Id
from kvcredit.api.problems import Problem
from kvcredit.documents import selectors, services
from kvcredit.documents.domain.kinds import ObjectType
from kvcredit.documents.http import file_response
from kvcredit.documents.models import Document, DocumentVersion

router = Router(tags=["documents"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 413, 422)}


class VersionOut(Schema):
    version: int
    filename: str
    file_type: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str
    url: str


class DocumentOut(Schema):
    id: int
    object: str
    object_id: int
    kind: str
    title: str
    created_at: dt.datetime
    versions: list[VersionOut]  # newest first

    @staticmethod
    def of(d: Document) -> dict[str, Any]:
        obj, obj_id = (
            (ObjectType.APPLICATION, d.application_id)
            if d.application_id
            else (ObjectType.CLAIM, d.claim_id)
        )
        base = (
            f"/api/v1/applications/{obj_id}"
            if obj == ObjectType.APPLICATION
            else f"/api/v1/fund/claims/{obj_id}"
        )
        versions = sorted(d.versions.all(), key=lambda v: -v.version)
        return {
            "id": d.pk,
            "object": obj.value,
            "object_id": obj_id,
            "kind": d.kind,
            "title": d.title,
            "created_at": d.created_at,
            "versions": [
                _version(v, f"{base}/documents/{d.pk}/versions/{v.version}") for v in versions
            ],
        }


def _version(v: DocumentVersion, url: str) -> dict[str, Any]:
    return {
        "version": v.version,
        "filename": v.filename,
        "file_type": v.file_type,
        "content_type": v.content_type,
        "size_bytes": v.size_bytes,
        "sha256": v.sha256,
        "uploaded_at": v.uploaded_at,
        "uploaded_by": v.uploaded_by.username,
        "url": url,
    }


def _list(request: HttpRequest, obj: ObjectType, obj_id: int) -> Any:
    return [DocumentOut.of(d) for d in selectors.documents(request.user, obj, obj_id)]


def _upload(
    request: HttpRequest,
    obj: ObjectType,
    obj_id: int,
    file: UploadedFile,
    kind: str,
    title: str,
    document_id: int | None,
) -> Any:
    limit = services.max_bytes()
    if (file.size or 0) > limit:  # refused before the bytes are read
        raise services.too_large(file.name or "", limit)
    v = services.attach(
        request.user,
        obj=obj,
        obj_id=obj_id,
        data=file.read(limit + 1),
        filename=file.name or "",
        kind=kind,
        title=title,
        document_id=document_id,
    )
    doc = selectors.documents(request.user, obj, obj_id).get(pk=v.document_id)
    return Status(201, DocumentOut.of(doc))


def _download(
    request: HttpRequest, obj: ObjectType, obj_id: int, document_id: int, version: int
) -> HttpResponse:
    v = selectors.version(request.user, obj, obj_id, document_id, version)
    return file_response(v)


@router.get("/applications/{application_id}/documents", response={200: list[DocumentOut], **ERRORS})
def list_application_documents(request: HttpRequest, application_id: Path[Id]) -> Any:
    return _list(request, ObjectType.APPLICATION, application_id)


@router.post("/applications/{application_id}/documents", response={201: DocumentOut, **ERRORS})
def upload_application_document(
    request: HttpRequest,
    application_id: Path[Id],
    file: File[UploadedFile],
    kind: Form[str] = "",
    title: Form[str] = "",
    document_id: Form[int | None] = None,
) -> Any:
    """A new document (``kind``: CONTRACT or OTHER) or, with ``document_id``, its next version."""
    return _upload(request, ObjectType.APPLICATION, application_id, file, kind, title, document_id)


@router.get(
    "/applications/{application_id}/documents/{document_id}/versions/{version}",
    response={200: None, **ERRORS},
)
def download_application_document(
    request: HttpRequest, application_id: Path[Id], document_id: Path[Id], version: Path[Id]
) -> HttpResponse:
    return _download(request, ObjectType.APPLICATION, application_id, document_id, version)


@router.get("/fund/claims/{claim_id}/documents", response={200: list[DocumentOut], **ERRORS})
def list_claim_documents(request: HttpRequest, claim_id: Path[Id]) -> Any:
    return _list(request, ObjectType.CLAIM, claim_id)


@router.post("/fund/claims/{claim_id}/documents", response={201: DocumentOut, **ERRORS})
def upload_claim_document(
    request: HttpRequest,
    claim_id: Path[Id],
    file: File[UploadedFile],
    kind: Form[str] = "",
    title: Form[str] = "",
    document_id: Form[int | None] = None,
) -> Any:
    """A new document (``kind``: OVERDUE_NOTICE, EVIDENCE or OTHER) or, with ``document_id``,
    its next version."""
    return _upload(request, ObjectType.CLAIM, claim_id, file, kind, title, document_id)


@router.get(
    "/fund/claims/{claim_id}/documents/{document_id}/versions/{version}",
    response={200: None, **ERRORS},
)
def download_claim_document(
    request: HttpRequest, claim_id: Path[Id], document_id: Path[Id], version: Path[Id]
) -> HttpResponse:
    return _download(request, ObjectType.CLAIM, claim_id, document_id, version)
