"""A document slot on an application or a claim, and its versions (immutable records)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kvcredit.documents.domain.kinds import DocumentKind, FileType


def document_storage() -> Storage:
    """The storage named ``documents`` in ``STORAGES`` (read when a file is stored or opened)."""
    return storages["documents"]


class Kind(models.TextChoices):
    CONTRACT = DocumentKind.CONTRACT.value, _("loan contract")
    OVERDUE_NOTICE = DocumentKind.OVERDUE_NOTICE.value, _("overdue notice")
    EVIDENCE = DocumentKind.EVIDENCE.value, _("evidence")
    OTHER = DocumentKind.OTHER.value, _("other document")


class Type(models.TextChoices):
    PDF = FileType.PDF.value, "PDF"
    PNG = FileType.PNG.value, "PNG"
    JPEG = FileType.JPEG.value, "JPEG"
    XLSX = FileType.XLSX.value, "XLSX"
    DOCX = FileType.DOCX.value, "DOCX"


class Document(models.Model):
    """One document of an object (exactly one of ``application`` and ``claim``)."""

    application = models.ForeignKey(
        "lending.Application",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    claim = models.ForeignKey(
        "fund.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(application__isnull=False, claim__isnull=True)
                | Q(application__isnull=True, claim__isnull=False),
                name="document_one_object",
            )
        ]

    def latest(self) -> DocumentVersion | None:
        return self.versions.order_by("-version").first()


class DocumentVersion(models.Model):
    """One upload to a document: its bytes in the storage (``document_storage``, looked up on
    every use, so ``STORAGES`` decides), their type, size and SHA-256."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    stored_as = models.CharField(max_length=400)  # the name in the documents storage
    filename = models.CharField(max_length=200)
    file_type = models.CharField(max_length=8, choices=Type.choices)
    content_type = models.CharField(max_length=100)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["document_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["document", "version"], name="document_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="document_version_from_1"),
            models.CheckConstraint(condition=Q(size_bytes__gt=0), name="document_size"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # a version is a record of fact: written once, never changed
        if self.pk is not None and not self._state.adding:
            raise ValueError("a document version is immutable: upload a new version")
        super().save(*args, **kwargs)
