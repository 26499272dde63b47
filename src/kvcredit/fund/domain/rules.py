"""The fund's rules: compensation, recovery sharing, contribution split, service fees.

All shares are exact fractions; amounts are integer fen rounded half up once, with the
complementary share taking the remainder so that the parts always add up to the whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from kvcredit.errors import ClaimRefused as ClaimRefused
from kvcredit.money import round_half_up


def share_of(amount_fen: int, share: Decimal) -> int:
    """round_half_up(amount * share) for a non-negative amount."""
    return round_half_up(Fraction(amount_fen) * Fraction(share))


@dataclass(frozen=True)
class FundRules:
    """The fund's rules in force on a date, as the rulebook in force then states them
    (``kvcredit.fund.config.rules(on=...)``); the defaults are the shipped Chongqing rules'
    where they are published, ours where not (and the breaker's: all time, any book, both)."""

    compensation_share: Decimal = Decimal("0.80")  # of overdue principal, paid to the bank
    min_days_overdue: int = 90  # before a claim may be filed (our default)
    city_share: Decimal = Decimal("0.40")  # of contributions: the first party's (city 4 : 6)
    service_fee_rate: Decimal = Decimal("0.01")  # a year, of the loan amount (our default)
    warn_npl_ratio: Decimal = Decimal("0.05")  # circuit breaker (our default, as Hubei)
    suspend_npl_ratio: Decimal = Decimal("0.08")
    # compensation paid over principal lent, per bank and district (our default: as the NPL)
    warn_compensation_ratio: Decimal = Decimal("0.05")
    suspend_compensation_ratio: Decimal = Decimal("0.08")
    bridge_fee_rate: Decimal = Decimal("0.01")  # a year, actual days / 360 (our default)
    # the breaker: which ratios count, over what window, from what book, stopping what
    npl_breaker: bool = True
    compensation_breaker: bool = True
    breaker_window_months: int | None = None  # None: all time
    breaker_min_book_loans: int = 0  # a pair with fewer loans (in the window) never trips
    breaker_stops: str = "both"  # new_loans | claims | both
    bridge_max_days: int = 366
    bridge_max_amount_fen: int | None = None
    # dated fee cuts of the rulebook: (first day, last day, share taken off)
    fee_cuts: tuple[tuple[dt.date, dt.date, Decimal], ...] = ()
    rulebook_hash: str = ""  # the rulebook these rules come from ("" : built in code)

    def __post_init__(self) -> None:
        for name in ("compensation_share", "city_share", "service_fee_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if not 0 <= self.bridge_fee_rate <= 1:
            raise ValueError("bridge_fee_rate must be between 0 and 1")
        if not 0 < self.warn_npl_ratio <= self.suspend_npl_ratio <= 1:
            raise ValueError("need 0 < warning ratio <= suspension ratio <= 1")
        if not 0 < self.warn_compensation_ratio <= self.suspend_compensation_ratio <= 1:
            raise ValueError("need 0 < compensation warning ratio <= suspension ratio <= 1")
        if self.min_days_overdue < 0:
            raise ValueError("min_days_overdue must not be negative")
        if self.breaker_stops not in ("new_loans", "claims", "both"):
            raise ValueError("breaker_stops must be new_loans, claims or both")
        if self.breaker_min_book_loans < 0:
            raise ValueError("breaker_min_book_loans must not be negative")

    @property
    def breaker_stops_new_loans(self) -> bool:
        return self.breaker_stops in ("new_loans", "both")

    @property
    def breaker_stops_claims(self) -> bool:
        return self.breaker_stops in ("claims", "both")

    def fee_reductions(self) -> list[FeeReduction]:
        """The rulebook's dated fee cuts as ``FeeReduction`` ([from, to + 1 day))."""
        return [
            FeeReduction(start, last + dt.timedelta(days=1), cut * 100, "rulebook")
            for start, last, cut in self.fee_cuts
        ]


def claim_amount(*, overdue_principal_fen: int, days_overdue: int, rules: FundRules) -> int:
    """What the pool pays the bank for a loan: the share of the overdue principal."""
    if days_overdue < rules.min_days_overdue:
        raise ClaimRefused(
            f"the loan is {days_overdue} days overdue; a claim needs {rules.min_days_overdue}"
        )
    if overdue_principal_fen <= 0:
        raise ClaimRefused("the loan has no overdue principal")
    return share_of(overdue_principal_fen, rules.compensation_share)


def recovery_split(recovered_fen: int, rules: FundRules) -> tuple[int, int]:
    """(pool, bank) shares of an amount recovered; they add up to the amount."""
    pool = share_of(recovered_fen, rules.compensation_share)
    return pool, recovered_fen - pool


def contribution_split(total_fen: int, rules: FundRules) -> tuple[int, int]:
    """(city, district) shares of a pool's size; they add up to it."""
    city = share_of(total_fen, rules.city_share)
    return city, total_fen - city


@dataclass(frozen=True)
class FeeReduction:
    """``percent_off`` of fees charged in [valid_from, valid_to); ``valid_to`` None is open."""

    valid_from: dt.date
    valid_to: dt.date | None
    percent_off: Decimal
    reason: str = ""

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def service_fee(
    *,
    amount_fen: int,
    term_months: int,
    charged_on: dt.date,
    rules: FundRules,
    reductions: Sequence[FeeReduction] = (),
) -> int:
    """The service fee charged on a loan on ``charged_on``; a reduction in force applies."""
    rate = Fraction(rules.service_fee_rate) * Fraction(term_months, 12)
    for r in reductions:
        if r.covers(charged_on):
            rate *= 1 - Fraction(r.percent_off) / 100
            break
    return round_half_up(amount_fen * rate)


def bridge_fee(*, principal_fen: int, term_days: int, rules: FundRules) -> int:
    """The fee of an emergency bridge loan: the yearly rate on actual days / 360."""
    if principal_fen <= 0 or term_days <= 0:
        raise ValueError("a bridge loan needs a positive amount and term")
    return round_half_up(principal_fen * Fraction(rules.bridge_fee_rate) * Fraction(term_days, 360))


def contributions_owed(*, target_fen: int, rules: FundRules) -> tuple[int, int]:
    """(city, district) amounts owed towards a pool of ``target_fen``."""
    return contribution_split(target_fen, rules)


def bridge_repayment_split(
    *, amount_fen: int, fee_due_fen: int, principal_due_fen: int
) -> tuple[int, int]:
    """(fee, principal) parts of a bridge-loan repayment: the fee first, then principal.

    Refuses a repayment larger than what is owed.
    """
    if amount_fen <= 0:
        raise ValueError("a repayment must be positive")
    if amount_fen > fee_due_fen + principal_due_fen:
        raise ValueError("the repayment is more than the bridge loan owes")
    fee_part = min(amount_fen, fee_due_fen)
    return fee_part, amount_fen - fee_part
