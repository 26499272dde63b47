"""Applying a repayment to one loan's buckets, undoing it, and the oldest unpaid instalment.

A loan's state between two ends of day is its buckets (``LoanState``). A repayment is split
by ``aging.allocate`` (due buckets in the product's order, then interest accrued but not yet
due, then a prepayment of principal not yet due) into a ``Split`` that says which bucket each
fen went to, so that a reversal can put every fen back where it came from.

Payments meet instalments oldest first, interest and principal each on their own: the oldest
unpaid due date is that of the first instalment whose charged interest or principal is not met.

A payment dated an instalment's due date is paying on time: before it is split, that
instalment falls due (``on_day``: charged with the end of day's own rule, ``eod.period_charge``)
so the payment meets it as due, and the evening's end of day finds it due already. What a
borrower owes on a day, and the payoff that closes the loan that day, is ``quote``: the one
figure repayments are split against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from kvcredit.lending.domain.aging import DEFAULT_ORDER, Bucket, Owed, allocate
from kvcredit.lending.domain.eod import period_charge
from kvcredit.lending.domain.schedule import DAILY
from kvcredit.money import div_half_up


@dataclass(frozen=True)
class LoanState:
    outstanding: int  # principal not yet repaid, due or not
    due_principal: int
    due_interest: int
    penalty: int
    acc_whole: int  # interest accrued this period, whole fen ...
    acc_rem: int  # ... and the remainder in 1/(360e8) fen
    acc_paid: int = 0  # accrued interest paid early this period

    def __post_init__(self) -> None:
        values = (self.due_principal, self.due_interest, self.penalty, self.acc_whole)
        if min((*values, self.acc_rem, self.acc_paid)) < 0 or self.due_principal > self.outstanding:
            raise ValueError("a loan's buckets are non-negative and due principal <= outstanding")

    @property
    def accrued(self) -> int:
        """Interest accrued and not yet due, whole fen: the exact accrual rounded half up once
        (the figure shown, quoted and paid)."""
        return self.acc_whole + div_half_up(self.acc_rem, DAILY)

    @property
    def owed(self) -> Owed:
        return Owed(
            penalty_fen=self.penalty,
            interest_fen=self.due_interest,
            principal_due_fen=self.due_principal,
            principal_not_due_fen=self.outstanding - self.due_principal,
            interest_accrued_fen=self.accrued,
        )

    @property
    def settled(self) -> bool:
        """Nothing is owed: the end of day closes the loan."""
        return self.owed.total_fen == 0


@dataclass(frozen=True)
class Split:
    """Where each fen of a repayment went."""

    penalty: int
    interest_due: int
    interest_accrued: int
    principal_due: int
    principal_prepaid: int

    @property
    def total(self) -> int:
        return (
            self.penalty
            + self.interest_due
            + self.interest_accrued
            + self.principal_due
            + self.principal_prepaid
        )

    @property
    def principal(self) -> int:
        return self.principal_due + self.principal_prepaid


def apply_repayment(
    state: LoanState, amount_fen: int, *, order: Sequence[Bucket] = DEFAULT_ORDER
) -> tuple[LoanState, Split]:
    """The state after the repayment, and its split. Raises ``Overpayment`` naming the amount
    owed when the repayment is larger than everything owed."""
    owed = state.owed
    a = allocate(amount_fen, owed, order=order)
    split = Split(
        penalty=a.penalty_fen,
        interest_due=min(a.interest_fen, owed.interest_fen),
        interest_accrued=a.interest_fen - min(a.interest_fen, owed.interest_fen),
        principal_due=min(a.principal_fen, owed.principal_due_fen),
        principal_prepaid=a.principal_fen - min(a.principal_fen, owed.principal_due_fen),
    )
    if split.interest_accrued == state.accrued:
        acc_whole, acc_rem = 0, 0
    else:  # less than the rounded figure: the exact rest stays, whole fen and remainder
        exact = (state.acc_whole - split.interest_accrued) * DAILY + state.acc_rem
        acc_whole, acc_rem = divmod(exact, DAILY)
    new = replace(
        state,
        outstanding=state.outstanding - split.principal,
        due_principal=state.due_principal - split.principal_due,
        due_interest=state.due_interest - split.interest_due,
        penalty=state.penalty - split.penalty,
        acc_whole=acc_whole,
        acc_rem=acc_rem,
        acc_paid=state.acc_paid + split.interest_accrued,
    )
    return new, split


def reverse_repayment(state: LoanState, split: Split) -> LoanState:
    """Put every fen of a repayment back in the bucket it came from. Interest accrued that it
    paid returns to the current period's accrual (and is charged at the next due date)."""
    return replace(
        state,
        outstanding=state.outstanding + split.principal,
        due_principal=state.due_principal + split.principal_due,
        due_interest=state.due_interest + split.interest_due,
        penalty=state.penalty + split.penalty,
        acc_whole=state.acc_whole + split.interest_accrued,
        acc_paid=max(state.acc_paid - split.interest_accrued, 0),
    )


def fifo(dues: Sequence[int], paid_total: int) -> list[int]:
    """What ``paid_total`` meets of each amount in ``dues``, oldest first."""
    if paid_total < 0 or paid_total > sum(dues):
        raise ValueError("paid total must lie between 0 and the sum of the amounts due")
    out = []
    left = paid_total
    for due in dues:
        met = min(due, left)
        out.append(met)
        left -= met
    return out


def oldest_unpaid_due(
    due_dates: Sequence[dt.date],
    principal_due: Sequence[int],
    interest_due: Sequence[int],
    *,
    principal_paid: int,
    interest_paid: int,
) -> dt.date | None:
    """The due date of the oldest instalment not fully met (instalments already due, in
    order), or None when everything due is paid."""
    p_met = fifo(principal_due, principal_paid)
    i_met = fifo(interest_due, interest_paid)
    for day, p, pm, i, im in zip(due_dates, principal_due, p_met, interest_due, i_met, strict=True):
        if pm < p or im < i:
            return day
    return None


@dataclass(frozen=True)
class NextDue:
    """The loan's next instalment not yet fallen due, and the terms that price it."""

    due_date: dt.date
    scheduled_principal: int
    is_last: bool
    monthly_rate_interest: bool  # the amortising methods: interest rate / 12
    rate: int  # 1e-8 units


def _one(value: int) -> npt.NDArray[np.int64]:
    return np.array([value], dtype=np.int64)


def fall_due(state: LoanState, nxt: NextDue) -> tuple[LoanState, int, int]:
    """The instalment falls due: its principal and the period's interest move into the due
    buckets and a new period's accrual starts. Returns the state and (principal, interest)."""
    p, i = period_charge(
        not_due=_one(state.outstanding - state.due_principal),
        scheduled_principal=_one(nxt.scheduled_principal),
        is_last=np.array([nxt.is_last]),
        monthly_rate_interest=np.array([nxt.monthly_rate_interest]),
        rate=_one(nxt.rate),
        acc_whole=_one(state.acc_whole),
        acc_rem=_one(state.acc_rem),
        acc_paid=_one(state.acc_paid),
    )
    principal, interest = int(p[0]), int(i[0])
    new = replace(
        state,
        due_principal=state.due_principal + principal,
        due_interest=state.due_interest + interest,
        acc_whole=0,
        acc_rem=0,
        acc_paid=0,
    )
    return new, principal, interest


def on_day(
    state: LoanState, day: dt.date, nxt: NextDue | None
) -> tuple[LoanState, tuple[int, int] | None]:
    """The state a payment dated ``day`` meets (``state`` is the loan after the last end of
    day, which is before ``day``): on the next instalment's due date that instalment is due
    already, as the end of day will charge it that evening. Returns the state and the
    (principal, interest) charged, or None when no instalment falls due on ``day``."""
    if nxt is None or nxt.due_date != day:
        return state, None
    new, principal, interest = fall_due(state, nxt)
    return new, (principal, interest)


def quote(state: LoanState, day: dt.date, nxt: NextDue | None) -> Owed:
    """What the borrower owes on ``day``, bucket by bucket; ``.total_fen`` is the payoff: paid
    that day, it settles the loan (a fen more is refused)."""
    return on_day(state, day, nxt)[0].owed


def payoff_fen(state: LoanState, day: dt.date, nxt: NextDue | None) -> int:
    """The amount that closes the loan when paid on ``day``."""
    return quote(state, day, nxt).total_fen


def repay_on(
    state: LoanState,
    amount_fen: int,
    day: dt.date,
    nxt: NextDue | None,
    *,
    order: Sequence[Bucket] = DEFAULT_ORDER,
) -> tuple[LoanState, Split, tuple[int, int] | None]:
    """A repayment dated ``day``, split against ``quote(state, day, nxt)``: the state after
    it, its split, and the instalment charged first when ``day`` is its due date."""
    due_state, charged = on_day(state, day, nxt)
    new, split = apply_repayment(due_state, amount_fen, order=order)
    return new, split, charged
