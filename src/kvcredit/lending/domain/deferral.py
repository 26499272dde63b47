"""Forbearance (延期还本付息): a dated deferral rule, which loans qualify, and the re-cut plan.

Pure (no Django). A deferral rule (from the rulebook) says:

- which loans qualify: a live loan with an instalment falling due in the window
  ``[window_from, window_to)`` that is not yet paid (``districts`` may limit it);
- what is deferred to ``defer_to``: principal and interest (every instalment not yet fallen due
  with a due date in ``[window_from, defer_to]`` merges into one instalment on ``defer_to``), or
  principal only (those instalments keep their dates and interest; their principal moves to an
  instalment on ``defer_to``), or interest only (as principal and interest, refused when one of
  those instalments charges principal);
- whether interest keeps accruing over the deferral (``interest_accrues``; Chongqing 2022:
  interest as usual), whether penalty interest is waived and whether days past due are paused
  while the deferral runs (``pause``: from the day it is granted up to ``defer_to``);
- the watch period (``watch_days``, ours: 180) after ``defer_to`` during which a restructured
  loan stays at least special mention; an overdue day during the watch restarts it.

The re-cut plan is exact to the fen: each new instalment's interest is the interest the end of
day will charge on it (actual days / 360 on the principal not yet due, days of paused accrual
left out), rounded half up once, provided no prepayment changes the balance meanwhile. After a
deferral the loan's interest is always charged on actual days (an amortising loan's ``rate / 12``
no longer applies: its periods are no longer months).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from kvcredit.money import div_half_up

DAILY = 360 * 10**8  # actual / 360 in rate units of 1e-8 (as lending.domain.schedule.DAILY)
DEFAULT_WATCH_DAYS = 180  # ours: nothing is published


class Defers(StrEnum):
    PRINCIPAL_AND_INTEREST = "PRINCIPAL_AND_INTEREST"
    PRINCIPAL = "PRINCIPAL"
    INTEREST = "INTEREST"  # only where the deferred instalments charge no principal


class CannotRecut(ValueError):
    """The plan cannot be re-cut as the rule asks (interest alone on an instalment of
    principal: the end of day charges a period's interest with its principal)."""


@dataclass(frozen=True)
class DeferralRule:
    key: str
    window_from: dt.date
    window_to: dt.date  # exclusive
    defer_to: dt.date
    defers: Defers = Defers.PRINCIPAL_AND_INTEREST
    interest_accrues: bool = True
    penalty_waived: bool = True
    dpd_paused: bool = True
    watch_days: int = DEFAULT_WATCH_DAYS
    districts: tuple[str, ...] = ()
    grant_from: dt.date | None = None  # a bank may grant it on days in [grant_from, grant_to]
    grant_to: dt.date | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.window_to <= self.window_from:
            raise ValueError("a deferral window ends after it starts")
        if self.defer_to < self.window_from:
            raise ValueError("a deferral defers to a date on or after its window starts")
        if self.watch_days < 0:
            raise ValueError("a watch period is not negative")


@dataclass(frozen=True)
class PlanRow:
    seq: int
    due_date: dt.date
    principal_fen: int
    interest_fen: int = 0


def falls_in_window(rule: DeferralRule, day: dt.date) -> bool:
    return rule.window_from <= day < rule.window_to


def qualifies(
    rule: DeferralRule,
    *,
    live: bool,
    district: str,
    unpaid_due_dates: Sequence[dt.date],
    granted_on: dt.date,
) -> bool:
    """Does a loan qualify on ``granted_on``? It is live, of a district the rule covers, the
    deferral date is still ahead, and an instalment not yet met falls (or fell) due in the
    window. ``unpaid_due_dates``: the due dates of its instalments not yet fully paid."""
    if not live or granted_on >= rule.defer_to or not may_grant_on(rule, granted_on):
        return False
    if rule.districts and district not in rule.districts:
        return False
    return any(falls_in_window(rule, d) for d in unpaid_due_dates)


def may_grant_on(rule: DeferralRule, day: dt.date) -> bool:
    """Is ``day`` inside the rule's dated window for granting (when it has one)?"""
    if rule.grant_from is not None and day < rule.grant_from:
        return False
    return rule.grant_to is None or day <= rule.grant_to


def moved(rule: DeferralRule, row: PlanRow) -> bool:
    """Is this instalment (not yet fallen due) deferred?"""
    return rule.window_from <= row.due_date <= rule.defer_to


def recut(
    rule: DeferralRule,
    rows: Sequence[PlanRow],
    *,
    balance_not_due: int,
    period_from: dt.date,
    rate_units: int,
    granted_on: dt.date,
) -> list[PlanRow]:
    """The instalments not yet fallen due (``rows``, in order) after the deferral, numbered
    from the first of them, with the interest the end of day will charge on each.
    ``balance_not_due``: principal not yet due; ``period_from``: the start of the period
    running now (the last due date, or the disbursement)."""
    if not rows:
        return []
    first_seq = rows[0].seq
    keep_before = [r for r in rows if r.due_date < rule.window_from]
    moving = [r for r in rows if moved(rule, r)]
    after = [r for r in rows if r.due_date > rule.defer_to]
    dates: list[tuple[dt.date, int]] = [(r.due_date, r.principal_fen) for r in keep_before]
    if moving:
        deferred = sum(r.principal_fen for r in moving)
        if rule.defers is Defers.INTEREST and deferred:
            raise CannotRecut("interest alone cannot be deferred on an instalment of principal")
        if rule.defers is Defers.PRINCIPAL:
            dates += [(r.due_date, 0) for r in moving if r.due_date < rule.defer_to]
        dates.append((rule.defer_to, deferred))
    dates += [(r.due_date, r.principal_fen) for r in after]
    out: list[PlanRow] = []
    balance, start = balance_not_due, period_from
    pause = (granted_on, rule.defer_to) if not rule.interest_accrues else None
    for k, (due, principal) in enumerate(dates):
        days = (due - start).days
        if pause is not None:
            days -= _overlap(start, due, *pause)
        interest = div_half_up(balance * rate_units * max(days, 0), DAILY)
        out.append(PlanRow(first_seq + k, due, principal, interest))
        balance -= principal
        start = due
    return out


def _overlap(a: dt.date, b: dt.date, c: dt.date, d: dt.date) -> int:
    """Days in [a, b) ∩ [c, d)."""
    return max((min(b, d) - max(a, c)).days, 0)


# -- the watch period after a restructuring ---------------------------------------------------
def watch_until(
    current: dt.date | None, *, day: dt.date, overdue: bool, watch_days: int
) -> dt.date | None:
    """The last day of the watch after the end of day ``day``: an overdue day restarts it."""
    if current is None:
        return None
    if overdue:
        return max(current, day + dt.timedelta(days=watch_days))
    return current
