"""Every read of documents, scoped like their object: whoever sees the application or the claim
(``lending.selectors.applications``, ``fund.selectors.claims``) sees its documents."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from kvcredit.documents.domain.kinds import ObjectType
from kvcredit.documents.models import Document, DocumentVersion
from kvcredit.errors import NotFound


def owner(user: Any, obj: ObjectType, obj_id: int) -> Any:
    """The application or claim ``obj_id`` if ``user`` may see it (NotFound otherwise)."""
    from django.utils.translation import gettext as _

    if obj == ObjectType.APPLICATION:
        from kvcredit.lending.selectors import applications

        found = applications(user).filter(pk=obj_id).first()
        if found is None:
            raise NotFound(_("no such application"), field="application_id")
        return found
    from kvcredit.fund.selectors import claims

    found = claims(user).filter(pk=obj_id).first()
    if found is None:
        raise NotFound(_("no such claim"), field="claim_id")
    return found


def _of(obj: ObjectType, obj_id: int) -> QuerySet[Document]:
    field = "application_id" if obj == ObjectType.APPLICATION else "claim_id"
    versions = DocumentVersion.objects.select_related("uploaded_by").order_by("-version")
    return (
        Document.objects.filter(**{field: obj_id})
        .prefetch_related(Prefetch("versions", queryset=versions))
        .order_by("kind", "id")
    )


def documents(user: Any, obj: ObjectType, obj_id: int) -> QuerySet[Document]:
    """The documents of an object the user may see, each with its versions, newest first."""
    owner(user, obj, obj_id)
    return _of(obj, obj_id)


def version(
    user: Any, obj: ObjectType, obj_id: int, document_id: int, number: int
) -> DocumentVersion:
    from django.utils.translation import gettext as _

    owner(user, obj, obj_id)
    field = "document__application_id" if obj == ObjectType.APPLICATION else "document__claim_id"
    found = (
        DocumentVersion.objects.filter(**{field: obj_id}, document_id=document_id, version=number)
        .select_related("document")
        .first()
    )
    if found is None:
        raise NotFound(_("no such document version"), field="version")
    return found
