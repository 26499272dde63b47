"""Published rulebooks: immutable rows; the one in force on a date is the one with the latest
effective date on or before it (``services.in_force``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

from kvcredit.errors import Conflict


def _immutable() -> Conflict:
    return Conflict(_("a published rulebook is immutable"), field="rulebook")


class _Immutable(models.QuerySet["PublishedRulebook"]):
    """Refuses the bulk writes that would bypass ``save`` and ``delete``."""

    def update(self, **kwargs: Any) -> int:
        raise _immutable()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise _immutable()


class PublishedRulebook(models.Model):
    """A rulebook as published: its source text is what applies; the row never changes."""

    rulebook_id = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    effective = models.DateField()
    title = models.CharField(max_length=300)
    content_hash = models.CharField(max_length=64, unique=True)
    source_toml = models.TextField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)

    objects = _Immutable.as_manager()

    class Meta:
        ordering = ["effective", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rulebook_id", "version"], name="rulebook_version_unique"
            ),
            models.UniqueConstraint(fields=["effective"], name="rulebook_effective_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rulebook_id} {self.version} (from {self.effective})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise _immutable()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise _immutable()
