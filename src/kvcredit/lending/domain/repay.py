"""Applying a repayment to one loan's buckets, undoing it, and the oldest unpaid instalment.

A loan's state between two ends of day is its buckets (``LoanState``). A repayment is split
by ``aging.allocate`` (due buckets in the product's order, then interest accrued but not yet
due, then a prepayment of principal not yet due) into a ``Split`` that says which bucket each
fen went to, so that a reversal can put every fen back where it came from.

Payments meet instalments oldest first, interest and principal each on their own: the oldest
unpaid due date is that of the first instalment whose charged interest or principal is not met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kvcredit.lending.domain.aging import DEFAULT_ORDER, Bucket, Owed, allocate
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
        """Interest accrued and not yet due, whole fen (the remainder rounded half up)."""
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
    paid_all_accrued = split.interest_accrued == state.accrued
    new = replace(
        state,
        outstanding=state.outstanding - split.principal,
        due_principal=state.due_principal - split.principal_due,
        due_interest=state.due_interest - split.interest_due,
        penalty=state.penalty - split.penalty,
        acc_whole=0 if paid_all_accrued else state.acc_whole - split.interest_accrued,
        acc_rem=0 if paid_all_accrued else state.acc_rem,
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
