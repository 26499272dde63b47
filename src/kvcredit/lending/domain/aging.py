"""Ageing a loan book: days past due, five-category classification, penalty accrual, allocation.

Vectorised over loans where the end-of-day run needs it; every function takes the date as an
argument. Categories follow the Chinese five-category system (正常、关注、次级、可疑、损失).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from kvcredit.errors import Overpayment as Overpayment

# Category and NON_PERFORMING live in lifecycle; re-exported here for the ageing code's readers.
from kvcredit.lending.domain.lifecycle import DEFAULT_BOUNDS
from kvcredit.lending.domain.lifecycle import NON_PERFORMING as NON_PERFORMING
from kvcredit.lending.domain.lifecycle import Category as Category
from kvcredit.lending.domain.schedule import DAILY, div_half_up

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClassificationRules:
    """Upper bounds of days past due for normal, special mention, substandard and doubtful;
    beyond the last bound a loan is a loss. Default 0 / 90 / 180 / 360."""

    bounds: tuple[int, int, int, int] = DEFAULT_BOUNDS

    def __post_init__(self) -> None:
        if list(self.bounds) != sorted(set(self.bounds)) or self.bounds[0] < 0:
            raise ValueError("classification bounds must be rising and non-negative")

    def classify(self, dpd: I64) -> I64:
        """Category code per loan: the number of bounds its days past due exceed."""
        codes = np.searchsorted(np.array(self.bounds), np.asarray(dpd), side="left")
        return np.asarray(codes, dtype=np.int64)


def days_past_due(
    oldest_unpaid_due: npt.NDArray[np.datetime64], *, as_of: dt.date, grace_days: int
) -> I64:
    """Days since the oldest unpaid due date, once the grace period has passed (else 0).

    ``oldest_unpaid_due`` is NaT for loans with nothing unpaid and due.
    """
    due = np.asarray(oldest_unpaid_due, dtype="datetime64[D]")
    days = (np.datetime64(as_of.isoformat(), "D") - due).astype(np.int64)
    overdue = ~np.isnat(due) & (days > grace_days)
    return np.where(overdue, days, 0).astype(np.int64)


def daily_penalty(overdue_principal: I64, penalty_rate: I64) -> I64:
    """One day of penalty interest on overdue principal, actual/360, rounded half up."""
    return div_half_up(np.asarray(overdue_principal) * np.asarray(penalty_rate), DAILY)


def penalty_rate_units(rate: int, uplift_percent: int = 50) -> int:
    """The overdue penalty rate: the loan rate plus ``uplift_percent`` of it (default +50 %)."""
    return rate * (100 + uplift_percent) // 100


class Bucket(StrEnum):
    PENALTY = "PENALTY"
    INTEREST = "INTEREST"
    PRINCIPAL = "PRINCIPAL"


DEFAULT_ORDER: tuple[Bucket, ...] = (Bucket.PENALTY, Bucket.INTEREST, Bucket.PRINCIPAL)


@dataclass(frozen=True)
class Owed:
    """What a borrower owes now: due amounts, and principal not yet due (prepayable)."""

    penalty_fen: int
    interest_fen: int  # interest due (plus, if the caller lumps them, interest accrued)
    principal_due_fen: int
    principal_not_due_fen: int
    interest_accrued_fen: int = 0  # accrued, not yet due: paid only with a prepayment

    @property
    def total_fen(self) -> int:
        return (
            self.penalty_fen
            + self.interest_fen
            + self.principal_due_fen
            + self.principal_not_due_fen
            + self.interest_accrued_fen
        )


@dataclass(frozen=True)
class Allocation:
    penalty_fen: int
    interest_fen: int
    principal_fen: int  # due principal first, then prepayment of principal not yet due

    @property
    def total_fen(self) -> int:
        return self.penalty_fen + self.interest_fen + self.principal_fen


def allocate(amount_fen: int, owed: Owed, *, order: Sequence[Bucket] = DEFAULT_ORDER) -> Allocation:
    """Split a repayment over what is owed in ``order``; never pays more than is owed.

    The due buckets are met in ``order``; what is left pays the interest accrued but not yet
    due (``interest_accrued_fen``), then prepays principal not yet due."""
    if amount_fen <= 0:
        raise ValueError("a repayment must be a positive amount")
    if amount_fen > owed.total_fen:
        raise Overpayment(amount_fen, owed.total_fen)
    if sorted(order) != sorted(Bucket):
        raise ValueError("the allocation order must name penalty, interest and principal once")
    left = amount_fen
    paid: dict[Bucket, int] = {}
    due = {
        Bucket.PENALTY: owed.penalty_fen,
        Bucket.INTEREST: owed.interest_fen,
        Bucket.PRINCIPAL: owed.principal_due_fen,
    }
    for bucket in order:
        paid[bucket] = min(left, due[bucket])
        left -= paid[bucket]
    accrued = min(left, owed.interest_accrued_fen)
    prepaid = min(left - accrued, owed.principal_not_due_fen)
    return Allocation(
        paid[Bucket.PENALTY], paid[Bucket.INTEREST] + accrued, paid[Bucket.PRINCIPAL] + prepaid
    )
