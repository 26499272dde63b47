"""Interest subsidies (贴息): what a dated subsidy rule pays on one instalment, exact to the fen.

Pure (no Django). A rule pays a share of the interest an enterprise has *paid* on an instalment:

- basis ``INTEREST``: ``share`` of the interest paid;
- basis ``RATE``: ``share`` of a benchmark rate (e.g. 50 % of the one-year LPR in force when the
  loan was signed), i.e. the interest paid times ``share × benchmark / loan rate``, never more
  than the interest paid (a subsidy rate above the loan's own rate pays all its interest).

Across a window edge the instalment's interest is subsidised pro rata by days: its period runs
from the previous due date (the disbursement for the first instalment) up to the day before its
due date, the days the interest accrued on, and only the days of that period inside the rule's
window ``[window_from, window_to)`` count. The exact value (a ``Fraction``) is rounded once,
half up, to the fen (``kvcredit.money.round_half_up``).

A subsidy is paid only on interest actually paid: an instalment whose interest has fallen due
and has been met in full. Each (instalment, rule) pair is paid once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from kvcredit.money import round_half_up


class Basis(StrEnum):
    INTEREST = "INTEREST"  # a share of the interest paid
    RATE = "RATE"  # a share of a benchmark rate, applied to the loan's interest


class Payer(StrEnum):
    POOL = "POOL"  # the district's risk-compensation pool pays from its cash
    BUDGET = "BUDGET"  # the district's budget pays; the pool's books record it


class Payee(StrEnum):
    ENTERPRISE = "ENTERPRISE"
    BANK = "BANK"


@dataclass(frozen=True)
class SubsidyRule:
    """One dated subsidy rule. ``window_to`` is exclusive (None: open-ended). ``districts``
    (codes) limits it to loans of those districts (empty: every district); ``first_time_only``
    to first-time borrowers."""

    key: str
    window_from: dt.date
    window_to: dt.date | None
    share: Fraction
    basis: Basis = Basis.INTEREST
    benchmark: str = "LPR_1Y"  # the rate basis of the benchmark (basis RATE), in force at signing
    payer: Payer = Payer.BUDGET
    payee: Payee = Payee.ENTERPRISE
    budget: str = ""  # the budget that pays (payer BUDGET), as the rulebook names it
    districts: tuple[str, ...] = ()
    signed_from: dt.date | None = None  # loans signed in [signed_from, signed_to] ...
    signed_to: dt.date | None = None
    max_amount_fen: int | None = None  # ... of at most this amount
    first_time_only: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError("a subsidy share lies in (0, 1]")
        if self.window_to is not None and self.window_to <= self.window_from:
            raise ValueError("a subsidy window ends after it starts")

    def applies_to(
        self,
        *,
        district: str,
        first_time_borrower: bool = False,
        signing_date: dt.date | None = None,
        amount_fen: int | None = None,
    ) -> bool:
        """Does the rule cover a loan of this district, signed then, of this amount?"""
        if self.districts and district not in self.districts:
            return False
        if signing_date is not None:
            if self.signed_from is not None and signing_date < self.signed_from:
                return False
            if self.signed_to is not None and signing_date > self.signed_to:
                return False
        if self.max_amount_fen is not None and (amount_fen or 0) > self.max_amount_fen:
            return False
        return first_time_borrower or not self.first_time_only


def days_inside(
    period_from: dt.date, period_to: dt.date, window_from: dt.date, window_to: dt.date | None
) -> int:
    """Days d with period_from <= d < period_to and window_from <= d < window_to."""
    start = max(period_from, window_from)
    end = period_to if window_to is None else min(period_to, window_to)
    return max((end - start).days, 0)


@dataclass(frozen=True)
class PaidInstalment:
    """An instalment whose interest fell due and was paid in full."""

    seq: int
    period_from: dt.date  # the previous due date, or the disbursement
    due_date: dt.date
    interest_paid_fen: int
    rate_units: int  # the loan's annual rate, 1e-8 units


@dataclass(frozen=True)
class SubsidyAmount:
    amount_fen: int
    exact: Fraction  # before rounding
    days_in_window: int
    days_in_period: int
    ratio: Fraction  # the share of the interest paid that the rule pays (before the days)


def subsidy_ratio(rule: SubsidyRule, *, rate_units: int, benchmark_units: int | None) -> Fraction:
    """The share of the interest paid that the rule pays, for a full period inside its window."""
    if rule.basis is Basis.INTEREST:
        return rule.share
    if benchmark_units is None or benchmark_units <= 0 or rate_units <= 0:
        return Fraction(0)
    return min(Fraction(1), rule.share * Fraction(benchmark_units, rate_units))


def instalment_subsidy(
    rule: SubsidyRule, inst: PaidInstalment, *, benchmark_units: int | None = None
) -> SubsidyAmount:
    """The subsidy ``rule`` pays on ``inst``: interest paid × ratio × days inside the window /
    days of the period, rounded once, half up, to the fen."""
    days = (inst.due_date - inst.period_from).days
    inside = days_inside(inst.period_from, inst.due_date, rule.window_from, rule.window_to)
    ratio = subsidy_ratio(rule, rate_units=inst.rate_units, benchmark_units=benchmark_units)
    if days <= 0 or inside == 0 or inst.interest_paid_fen <= 0 or ratio == 0:
        return SubsidyAmount(0, Fraction(0), inside, max(days, 0), ratio)
    exact = inst.interest_paid_fen * ratio * Fraction(inside, days)
    return SubsidyAmount(round_half_up(exact), exact, inside, days, ratio)


def rules_touching(
    rules: Iterable[SubsidyRule], period_from: dt.date, due_date: dt.date
) -> list[SubsidyRule]:
    """The rules whose window overlaps the instalment's period."""
    return [r for r in rules if days_inside(period_from, due_date, r.window_from, r.window_to) > 0]
