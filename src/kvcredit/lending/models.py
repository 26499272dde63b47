"""The dated rate table: a rate stays in force from its effective date until the next row."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

# Rates are stored exactly as integer parts per million a year: 4.35 % = 43_500 ppm.
PPM_PER_PERCENT = 10_000


class Rate(models.Model):
    rate_type = models.CharField(max_length=40)
    effective_date = models.DateField()
    annual_rate_ppm = models.IntegerField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["rate_type", "effective_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rate_type", "effective_date"], name="rate_type_date"),
            models.CheckConstraint(
                condition=Q(annual_rate_ppm__gte=0) & Q(annual_rate_ppm__lte=1_000_000),
                name="rate_ppm_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rate_type} {self.effective_date} {self.annual_rate_ppm}ppm"
