"""Rates in force: a dated table where each row holds until the next row of its type."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class RateBasis(StrEnum):
    PBOC_BENCHMARK = "PBOC_BENCHMARK"  # central-bank benchmark rate for the loan's term
    LPR_1Y = "LPR_1Y"  # one-year Loan Prime Rate in force on the signing date


@dataclass(frozen=True)
class RatePoint:
    rate_type: str
    effective_date: dt.date
    annual_rate_percent: Decimal


class RateNotFound(LookupError):
    """No rate of the type was in force on the date."""


class RateTable:
    def __init__(self, points: Iterable[RatePoint]) -> None:
        self._by_type: dict[str, list[RatePoint]] = {}
        for p in sorted(points, key=lambda p: (p.rate_type, p.effective_date)):
            self._by_type.setdefault(p.rate_type, []).append(p)

    def in_force(self, rate_type: str, *, on: dt.date) -> RatePoint:
        rows = self._by_type.get(rate_type, [])
        k = bisect.bisect_right([r.effective_date for r in rows], on)
        if k == 0:
            raise RateNotFound(f"no {rate_type} rate in force on {on.isoformat()}")
        return rows[k - 1]


def benchmark_type_for_term(term_months: int) -> str:
    if term_months <= 12:
        return "PBOC_BENCHMARK_1Y"
    return "PBOC_BENCHMARK_1Y_5Y" if term_months <= 60 else "PBOC_BENCHMARK_OVER_5Y"


def loan_rate(
    table: RateTable, *, basis: RateBasis, spread_bp: int, term_months: int, signing_date: dt.date
) -> Decimal:
    """Annual rate in percent: the basis rate in force on the signing date plus the spread."""
    rate_type = (
        benchmark_type_for_term(term_months) if basis is RateBasis.PBOC_BENCHMARK else "LPR_1Y"
    )
    base = table.in_force(rate_type, on=signing_date).annual_rate_percent
    return base + Decimal(spread_bp) / 100
