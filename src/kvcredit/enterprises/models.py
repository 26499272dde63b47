"""Programme set-up (districts, banks, published policies) and the enterprise registry.

Records of fact are never edited: a data submission is a new version, an evaluation a new row,
a published policy immutable. Money is integer fen (BigIntegerField).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from kvcredit.accounts.models import Organisation
from kvcredit.enterprises.domain.credit_line import CreditLine as LineValue


class District(models.Model):
    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=100, unique=True)
    name_en = models.CharField(max_length=100, blank=True)
    participating_since = models.DateField()
    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="district", null=True
    )

    class Meta:
        ordering = ["code", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Bank(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, unique=True)
    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="bank", null=True
    )
    districts = models.ManyToManyField(District, through="BankAdmission", related_name="banks")

    class Meta:
        ordering = ["code", "id"]

    def __str__(self) -> str:
        return self.name


class BankAdmission(models.Model):
    """A bank admitted to lend in a district."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="admissions")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="admissions")
    admitted_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "district"], name="bank_district_unique")
        ]


class PublishedPolicy(models.Model):
    """An evaluation policy published into the database: immutable; the latest is current."""

    policy_id = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    title = models.CharField(max_length=300)
    content_hash = models.CharField(max_length=64)
    source_toml = models.TextField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    reevaluated = models.IntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["policy_id", "version"], name="policy_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.version}"


class Enterprise(models.Model):
    uscc = models.CharField(max_length=18, unique=True)
    name = models.CharField(max_length=200)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="enterprises")
    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="enterprise"
    )
    registered_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.uscc} {self.name}"


class DataSubmission(models.Model):
    """One version of an enterprise's yearly data, in internal units (fen, counts, 0/1).

    ``data`` holds the data dictionary's fields, ``extra`` those the policy in force declared.
    """

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="submissions")
    year = models.IntegerField()
    version = models.IntegerField()
    data = models.JSONField()
    # The values of the fields the policy in force declared (internal units), by name.
    extra = models.JSONField(default=dict)
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "year", "version"], name="submission_version_unique"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="submission_version_positive"),
        ]

    @property
    def record(self) -> dict[str, int | str]:
        """The whole record the engine evaluates: the dictionary's fields and the declared."""
        return {**self.data, **(self.extra or {})}


class Evaluation(models.Model):
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="evaluations")
    submission = models.ForeignKey(DataSubmission, on_delete=models.PROTECT)
    policy = models.ForeignKey(PublishedPolicy, on_delete=models.PROTECT)
    policy_code = models.CharField(max_length=100)
    policy_version = models.CharField(max_length=50)
    policy_hash = models.CharField(max_length=64)
    eligible = models.BooleanField()
    score = models.CharField(max_length=64)  # the exact decimal text the engine computed
    grade = models.CharField(max_length=16, null=True)
    limit_fen = models.BigIntegerField()
    explanation = models.JSONField()
    evaluated_at = models.DateTimeField()
    valid_from = models.DateField()
    valid_until = models.DateField()  # exclusive: [valid_from, valid_until)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(limit_fen__gte=0), name="evaluation_limit_nonneg"),
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("valid_from")), name="evaluation_period_valid"
            ),
        ]


class CreditLine(models.Model):
    """The enterprise's shared credit limit: limit, reserved, used (fen); available derived."""

    enterprise = models.OneToOneField(
        Enterprise, on_delete=models.PROTECT, related_name="credit_line"
    )
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, null=True)
    limit_fen = models.BigIntegerField(default=0)
    reserved_fen = models.BigIntegerField(default=0)
    used_fen = models.BigIntegerField(default=0)
    valid_until = models.DateField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(limit_fen__gte=0), name="credit_limit_nonneg"),
            models.CheckConstraint(condition=Q(reserved_fen__gte=0), name="credit_reserved_nonneg"),
            models.CheckConstraint(condition=Q(used_fen__gte=0), name="credit_used_nonneg"),
        ]

    @property
    def value(self) -> LineValue:
        """The line as the pure value whose operations hold its arithmetic."""
        return LineValue(self.limit_fen, self.reserved_fen, self.used_fen, self.valid_until)

    def take(self, value: LineValue) -> None:
        """Set the figures from ``value`` (unsaved)."""
        self.limit_fen, self.reserved_fen, self.used_fen = value.limit, value.reserved, value.used
        self.valid_until = value.valid_until

    @property
    def available_fen(self) -> int:
        return self.value.available


class ReevaluationJob(models.Model):
    """Re-evaluating every enterprise under a newly published policy, batch by batch.

    ``done`` grows as each batch commits, so a client polling the job sees the progress. A job
    whose policy is no longer current stops (SUPERSEDED); an interrupted one can be resumed:
    it skips the credit lines already evaluated under its policy.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        DONE = "DONE"
        FAILED = "FAILED"
        SUPERSEDED = "SUPERSEDED"

    policy = models.OneToOneField(
        PublishedPolicy, on_delete=models.PROTECT, related_name="reevaluation"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    error = models.CharField(max_length=500, blank=True)
    # Declared fields that enterprises have not supplied: {field: {"missing": n, "outcomes":
    # {outcome: n}}}, the outcomes those enterprises got with the field's default.
    missing_fields = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done__gte=0) & Q(total__gte=0), name="reevaluation_counts_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "RUNNING", "DONE", "FAILED", "SUPERSEDED"]),
                name="reevaluation_status_valid",
            ),
        ]
