"""Writes on the rate table (administrator only; rows are added, never edited)."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from django.db import transaction

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.errors import Conflict, InvalidInput
from kvcredit.lending.models import PPM_PER_PERCENT, Rate

RATE_TYPE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def percent_to_ppm(percent: Decimal | str) -> int:
    try:
        value = Decimal(percent)
    except InvalidOperation:
        raise InvalidInput([("annual_rate_percent", "not a number")]) from None
    ppm = value * PPM_PER_PERCENT
    if not value.is_finite() or ppm != ppm.to_integral_value() or not 0 <= ppm <= 1_000_000:
        raise InvalidInput([("annual_rate_percent", "between 0 and 100, at most 4 decimals")])
    return int(ppm)


def ppm_to_percent(ppm: int) -> Decimal:
    return (Decimal(ppm) / PPM_PER_PERCENT).quantize(Decimal("0.0001")).normalize()


def add_rate(
    actor: User,
    *,
    rate_type: str,
    effective_date: dt.date,
    annual_rate_percent: Decimal | str,
    note: str = "",
) -> Rate:
    require(actor, OrgKind.ADMINISTRATOR, action="add rates")
    if not rate_type or set(rate_type) - RATE_TYPE_CHARS:
        raise InvalidInput([("rate_type", "UPPER_SNAKE letters, digits and _ only")])
    ppm = percent_to_ppm(annual_rate_percent)
    with transaction.atomic():
        if Rate.objects.filter(rate_type=rate_type, effective_date=effective_date).exists():
            raise Conflict("a rate of this type is in force from this date", field="effective_date")
        rate = Rate.objects.create(
            rate_type=rate_type, effective_date=effective_date, annual_rate_ppm=ppm, note=note
        )
        after = {"rate_type": rate_type, "effective_date": effective_date, "ppm": ppm}
        audit.record(actor, "RATE_ADD", "rate", rate.pk, after=after)
    return rate


def shipped_rates() -> list[dict[str, Any]]:
    """The published change points shipped with the package (data/rates.csv)."""
    text = resources.files("kvcredit.data").joinpath("rates.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_shipped_rates(actor: User) -> int:
    """Add the shipped rates that are not in the table yet; returns how many were added."""
    added = 0
    for row in shipped_rates():
        day = dt.date.fromisoformat(row["effective_date"])
        if Rate.objects.filter(rate_type=row["rate_type"], effective_date=day).exists():
            continue
        add_rate(
            actor,
            rate_type=row["rate_type"],
            effective_date=day,
            annual_rate_percent=row["annual_rate_percent"],
            note=row.get("note") or "",
        )
        added += 1
    return added
