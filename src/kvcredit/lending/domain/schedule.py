"""Repayment schedules, exact to the fen, vectorised over many loans.

Amounts are integer fen; annual rates are integers in units of 1e-8 (4.35 % -> 4_350_000), so
every interest figure is an exact integer division rounded half up at each instalment. The
principal of every schedule sums to the amount: the rounding residue goes on the last instalment.

Day counts: the interest-only methods (monthly or quarterly interest, principal at maturity)
charge actual days / 360 between due dates; the amortising methods (equal instalments 等额本息,
equal principal 等额本金) use the monthly rate annual / 12, as banks publish those tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from kvcredit import money
from kvcredit.lending.domain.calendar import add_months_array
from kvcredit.lending.domain.rates import RATE_SCALE
from kvcredit.lending.domain.rates import percent_to_units as rate_units

I64 = npt.NDArray[np.int64]
MONTHLY = 12 * RATE_SCALE
DAILY = 360 * RATE_SCALE
MAX_PRINCIPAL_FEN = 10**10  # 100 million yuan: keeps every product inside int64


class Method(StrEnum):
    MONTHLY_INTEREST = "MONTHLY_INTEREST"  # 按月付息、到期还本
    QUARTERLY_INTEREST = "QUARTERLY_INTEREST"  # 按季付息、到期还本
    EQUAL_INSTALMENT = "EQUAL_INSTALMENT"  # 等额本息
    EQUAL_PRINCIPAL = "EQUAL_PRINCIPAL"  # 等额本金


def div_half_up(num: I64 | int, den: int) -> I64:
    """round_half_up(num / den) for non-negative integers, exactly (``money.div_half_up``
    on an int64 array)."""
    return np.asarray(money.div_half_up(np.asarray(num, dtype=np.int64), den), dtype=np.int64)


def interest_for_days(balance: I64, rate: I64, days: I64) -> I64:
    """round_half_up(balance * rate * days / (360 * 1e8)) without overflowing int64."""
    x = np.asarray(balance, dtype=np.int64) * np.asarray(rate, dtype=np.int64)
    q, r = np.divmod(x, DAILY)
    return np.asarray(q * days + div_half_up(r * days, DAILY), dtype=np.int64)


def equal_payment(principal: I64, rate: I64, periods: int) -> I64:
    """The level payment of an equal-instalment loan, rounded half up to the fen, exactly.

    Computed in floating point, then rows whose value lies near a half fen are recomputed
    with exact fractions, so the rounding is always that of the exact value.
    """
    p = np.asarray(principal, dtype=np.int64)
    rate = np.asarray(rate, dtype=np.int64)
    r = rate / MONTHLY
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.power(1.0 + r, periods)
        exact = np.where(r > 0, p * r * growth / (growth - 1.0), p / periods)
    payment = np.floor(exact + 0.5).astype(np.int64)
    frac = exact - np.floor(exact)
    for k in np.flatnonzero(np.abs(frac - 0.5) < 1e-4):
        payment[k] = _exact_payment(int(p[k]), int(rate[k]), periods)
    return payment


def _exact_payment(principal: int, rate: int, periods: int) -> int:
    r = Fraction(rate, MONTHLY)
    if r == 0:
        value = Fraction(principal, periods)
    else:
        g = (1 + r) ** periods
        value = principal * r * g / (g - 1)
    return money.round_half_up(value)


def amortise(principal: I64, rate: I64, periods: int, method: Method) -> tuple[I64, I64]:
    """(principal, interest) arrays of shape (loans, periods) for the amortising methods."""
    p = np.asarray(principal, dtype=np.int64)
    # period-major storage: each period is one contiguous row; returned transposed (a view)
    prin = np.empty((periods, len(p)), dtype=np.int64)
    intr = np.empty((periods, len(p)), dtype=np.int64)
    balance = p.copy()
    if method is Method.EQUAL_INSTALMENT:
        level = equal_payment(p, rate, periods)
    else:
        level = div_half_up(p, periods)
    for k in range(periods):
        intr[k] = div_half_up(balance * rate, MONTHLY)
        if k == periods - 1:
            prin[k] = balance
        elif method is Method.EQUAL_INSTALMENT:
            np.minimum(level - intr[k], balance, out=prin[k])
        else:
            np.minimum(level, balance, out=prin[k])
        balance -= prin[k]
    return prin.T, intr.T


def due_dates(start: npt.NDArray[np.datetime64], months: list[int]) -> npt.NDArray[np.datetime64]:
    """Due dates (loans, len(months)): computed once per distinct start date, then gathered."""
    uniq, inverse = np.unique(start, return_inverse=True)
    table = np.stack([add_months_array(uniq, m) for m in months], axis=1)
    out: npt.NDArray[np.datetime64] = table[inverse]
    return out


@dataclass(frozen=True)
class Schedule:
    """Schedules of many loans with the same number of periods."""

    due_dates: npt.NDArray[np.datetime64]  # (loans, periods)
    principal: I64
    interest: I64

    def instalments(self, loan: int = 0) -> list[Instalment]:
        return [
            Instalment(
                k + 1,
                self.due_dates[loan, k].astype(dt.date),
                int(self.principal[loan, k]),
                int(self.interest[loan, k]),
            )
            for k in range(self.principal.shape[1])
        ]


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: dt.date
    principal_fen: int
    interest_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen


def build_schedules(
    *,
    principal_fen: I64,
    rate: I64,
    start: npt.NDArray[np.datetime64],
    term_months: int,
    method: Method,
) -> Schedule:
    """Schedules for loans disbursed on ``start`` (datetime64[D]) for ``term_months`` months."""
    p = np.asarray(principal_fen, dtype=np.int64)
    if (p <= 0).any() or (p > MAX_PRINCIPAL_FEN).any():
        raise ValueError("principal must be positive and at most 100,000,000 yuan")
    start = np.asarray(start, dtype="datetime64[D]")
    rate = np.broadcast_to(np.asarray(rate, dtype=np.int64), p.shape)
    step = 3 if method is Method.QUARTERLY_INTEREST else 1
    months = [*range(step, term_months, step), term_months]
    dates = due_dates(start, months)
    if method in (Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL):
        prin, intr = amortise(p, rate, term_months, method)
        return Schedule(dates, prin, intr)
    previous = np.concatenate([start[:, None], dates[:, :-1]], axis=1)
    days = (dates - previous).astype(np.int64)
    intr = interest_for_days(p[:, None], rate[:, None], days)
    prin = np.zeros_like(intr)
    prin[:, -1] = p
    return Schedule(dates, prin, intr)


def build_schedule(
    *,
    principal_fen: int,
    annual_rate_percent: Decimal,
    start: dt.date,
    term_months: int,
    method: Method,
) -> list[Instalment]:
    """One loan's schedule."""
    sched = build_schedules(
        principal_fen=np.array([principal_fen], dtype=np.int64),
        rate=np.array([rate_units(annual_rate_percent)], dtype=np.int64),
        start=np.array([start], dtype="datetime64[D]"),
        term_months=term_months,
        method=method,
    )
    return sched.instalments(0)
