"""The circuit breaker (熔断机制): per bank and district, from the non-performing ratio and
the compensation ratio (those the rulebook uses).

A bank's loans in a district are NORMAL, WARNING (ratio at or above the warning level) or
SUSPENDED (at or above the suspension level). Suspension is sticky: it ends only when the
trustee lifts it with a written reason, never by itself. A pair whose book is smaller than the
rulebook's ``min_book_loans`` (loans lent in the window) never trips: on a book of three loans
one default is a third of it, which says nothing about the bank.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from kvcredit.fund.domain.rules import FundRules
from kvcredit.money import quantize


class BreakerState(StrEnum):
    NORMAL = "NORMAL"
    WARNING = "WARNING"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True)
class Exposure:
    outstanding_fen: int
    non_performing_fen: int  # substandard + doubtful + loss
    compensated_fen: int = 0  # compensation the fund has paid the bank in the district
    lent_fen: int = 0  # principal the bank has lent in the district (in the window)
    book_loans: int | None = None  # loans lent in the window (None: not counted, any book)


def npl_ratio(e: Exposure) -> Fraction:
    return Fraction(e.non_performing_fen, e.outstanding_fen) if e.outstanding_fen else Fraction(0)


def compensation_ratio(e: Exposure) -> Fraction:
    """Compensation paid over principal lent (0 when nothing was lent)."""
    return Fraction(e.compensated_fen, e.lent_fen) if e.lent_fen else Fraction(0)


def _level(ratio: Fraction, warn: Decimal, suspend: Decimal) -> BreakerState:
    if ratio >= Fraction(suspend):
        return BreakerState.SUSPENDED
    return BreakerState.WARNING if ratio >= Fraction(warn) else BreakerState.NORMAL


_ORDER = (BreakerState.NORMAL, BreakerState.WARNING, BreakerState.SUSPENDED)


def next_state(current: BreakerState, e: Exposure, rules: FundRules) -> BreakerState:
    """The state after an end-of-day computation: the worse of the two ratios' levels."""
    if current is BreakerState.SUSPENDED:
        return BreakerState.SUSPENDED
    if e.book_loans is not None and e.book_loans < rules.breaker_min_book_loans:
        return BreakerState.NORMAL
    levels = [BreakerState.NORMAL]
    if rules.npl_breaker:
        levels.append(_level(npl_ratio(e), rules.warn_npl_ratio, rules.suspend_npl_ratio))
    if rules.compensation_breaker:
        levels.append(
            _level(
                compensation_ratio(e),
                rules.warn_compensation_ratio,
                rules.suspend_compensation_ratio,
            )
        )
    return max(levels, key=_ORDER.index)


def lift(current: BreakerState, *, reason: str) -> BreakerState:
    """The trustee lifts a suspension; a written reason is required."""
    if current is not BreakerState.SUSPENDED:
        raise ValueError("only a suspension can be lifted")
    if len(reason.strip()) < 5:
        raise ValueError("lifting a suspension needs a written reason")
    return BreakerState.WARNING


def as_percent(ratio: Fraction) -> Decimal:
    return quantize(Decimal(ratio.numerator) / Decimal(ratio.denominator) * 100)
