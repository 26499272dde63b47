"""Organisations, users (one organisation each) and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from kvcredit.roles import ORGANISATION_KINDS, ROLE_LABELS
from kvcredit.site.choices import text_choices

# The organisation kinds are the roles of ``kvcredit.roles`` (but the system's own): each code
# and label is defined there once.
OrgKind = text_choices("OrgKind", {r: ROLE_LABELS[r] for r in ORGANISATION_KINDS}, module=__name__)


# Kinds that see the whole programme.
PROGRAMME_WIDE = frozenset({OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE})


class Organisation(models.Model):
    kind = models.CharField(max_length=16, choices=OrgKind.choices)
    name = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="organisation_kind_name_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=OrgKind.values), name="organisation_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class User(AbstractUser):
    """A person or a machine client; belongs to exactly one organisation."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="users", null=True
    )

    @property
    def kind(self) -> str | None:
        return self.organisation.kind if self.organisation_id else None


class ApiToken(models.Model):
    """A bearer token for machine clients. Only the SHA-256 digest of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # the bearer token the request that created this one authenticated with (None: a session
    # or the CLI); revoking a token revokes the tokens it created, and theirs
    created_by_token = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
