"""Reads on the rate table (programme set-up: every signed-in user)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from kvcredit.accounts.permissions import kind_of
from kvcredit.lending.models import Rate


def rates(user: Any) -> QuerySet[Rate]:
    qs = Rate.objects.all().order_by("rate_type", "effective_date", "id")
    return qs if kind_of(user) is not None else qs.none()


def rate_in_force(user: Any, rate_type: str, on: dt.date) -> Rate | None:
    """The row of ``rate_type`` in force on ``on``: the latest with effective_date <= on."""
    return (
        rates(user)
        .filter(rate_type=rate_type, effective_date__lte=on)
        .order_by("-effective_date")
        .first()
    )
