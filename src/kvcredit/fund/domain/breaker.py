"""The circuit breaker (熔断机制): per bank and district, from the non-performing ratio.

A bank's loans in a district are NORMAL, WARNING (ratio at or above the warning level) or
SUSPENDED (at or above the suspension level). Suspension is sticky: it ends only when the
trustee lifts it with a written reason, never by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from kvcredit.fund.domain.rules import FundRules


class BreakerState(StrEnum):
    NORMAL = "NORMAL"
    WARNING = "WARNING"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True)
class Exposure:
    outstanding_fen: int
    non_performing_fen: int  # substandard + doubtful + loss
    compensated_fen: int = 0


def npl_ratio(e: Exposure) -> Fraction:
    return Fraction(e.non_performing_fen, e.outstanding_fen) if e.outstanding_fen else Fraction(0)


def next_state(current: BreakerState, e: Exposure, rules: FundRules) -> BreakerState:
    """The state after an end-of-day computation."""
    ratio = npl_ratio(e)
    if current is BreakerState.SUSPENDED or ratio >= Fraction(rules.suspend_npl_ratio):
        return BreakerState.SUSPENDED
    return BreakerState.WARNING if ratio >= Fraction(rules.warn_npl_ratio) else BreakerState.NORMAL


def lift(current: BreakerState, *, reason: str) -> BreakerState:
    """The trustee lifts a suspension; a written reason is required."""
    if current is not BreakerState.SUSPENDED:
        raise ValueError("only a suspension can be lifted")
    if len(reason.strip()) < 5:
        raise ValueError("lifting a suspension needs a written reason")
    return BreakerState.WARNING


def as_percent(ratio: Fraction) -> Decimal:
    return (Decimal(ratio.numerator) / Decimal(ratio.denominator) * 100).quantize(Decimal("0.01"))
