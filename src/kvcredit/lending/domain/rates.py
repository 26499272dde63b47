"""Rates: their one unit, and the rates in force (a dated table where each row holds until the
next row of its type).

The rate unit: an annual rate is a whole number of 1e-8 (``RATE_SCALE``): 4.35 % is 4_350_000,
so every interest figure is an exact integer division. The reference-rate table stores parts
per million (4.35 % is 43_500 ppm, a unit ``UNITS_PER_PPM`` times coarser: published rates
have at most four decimals of a percent). People read and type percent. Every conversion
between the three is here.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from kvcredit.errors import RateNotFound as RateNotFound

RATE_SCALE = 10**8  # an annual rate as a fraction times 1e8: the unit of a loan's rate
UNITS_PER_PERCENT = RATE_SCALE // 100  # 4.35 % -> 4_350_000
PPM_PER_PERCENT = 10_000  # the reference-rate table: 4.35 % -> 43_500 ppm
UNITS_PER_PPM = UNITS_PER_PERCENT // PPM_PER_PERCENT  # 100
MAX_PPM = 100 * PPM_PER_PERCENT  # a reference rate lies between 0 and 100 %

__all__ = [
    "MAX_PPM",
    "PPM_PER_PERCENT",
    "RATE_SCALE",
    "UNITS_PER_PERCENT",
    "UNITS_PER_PPM",
    "RateBasis",
    "RateNotFound",
    "RatePoint",
    "RateTable",
    "benchmark_type_for_term",
    "loan_rate",
    "percent_to_ppm",
    "percent_to_units",
    "ppm_to_percent",
    "units_to_percent",
]


def percent_to_units(annual_percent: Decimal) -> int:
    """4.35 (percent) -> 4_350_000; refuses a negative rate or more than six decimals."""
    units = Decimal(annual_percent) * UNITS_PER_PERCENT
    if units != units.to_integral_value() or units < 0:
        raise ValueError(f"rate {annual_percent}% must be >= 0 with at most 6 decimals")
    return int(units)


def units_to_percent(units: int) -> Decimal:
    """4_350_000 -> Decimal("4.35"), exact, without trailing zeros (5_000_000 -> "5")."""
    return (Decimal(int(units)) / UNITS_PER_PERCENT).normalize() + 0


def percent_to_ppm(annual_percent: Decimal) -> int:
    """4.35 (percent) -> 43_500 ppm; refuses a rate outside 0-100 % or with over 4 decimals."""
    ppm = Decimal(annual_percent) * PPM_PER_PERCENT
    if not ppm.is_finite() or ppm != ppm.to_integral_value() or not 0 <= ppm <= MAX_PPM:
        raise ValueError(f"rate {annual_percent}% must be 0-100 with at most 4 decimals")
    return int(ppm)


def ppm_to_percent(ppm: int) -> Decimal:
    """43_500 ppm -> Decimal("4.35")."""
    return (Decimal(ppm) / PPM_PER_PERCENT).quantize(Decimal("0.0001")).normalize()


class RateBasis(StrEnum):
    PBOC_BENCHMARK = "PBOC_BENCHMARK"  # central-bank benchmark rate for the loan's term
    LPR_1Y = "LPR_1Y"  # one-year Loan Prime Rate in force on the signing date


@dataclass(frozen=True)
class RatePoint:
    rate_type: str
    effective_date: dt.date
    annual_rate_percent: Decimal


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
