"""The fund rules a claim's amount obeys beyond its share: caps, the bank's allowance, staged
payments and the conditions that deny compensation.

Plain arguments in, plain values out (the rulebook's figures are passed by the caller). Money in
integer fen; rates as exact decimals. Pure (no Django); mypy strict.

- **Caps**: a claim pays ``min(share, per-loan cap, the bank's cap for the year left, the
  bank's allowance left)``; ``capped`` says which limit bound it.
- **Allowance** (Chongqing's 商业价值 programme): x% of each loan a bank lends accrues to the
  bank's allowance and is carried forward; what the bank may draw is that accrual less what it
  has drawn, at most y% of the bank's balance (principal outstanding) now.
- **Stages** (India's CGTMSE: 75% then 25%): the compensation is paid in stages whose parts
  add up to it exactly (``sharing.split``); a later stage waits for its lock-in (days after the
  first payment).
- **Denials**: loan above the evaluated limit, rate above the ceiling, signed while the bank and
  district pair was suspended, no programme evaluation in force at signing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from kvcredit.fund.domain.sharing import split
from kvcredit.money import div_half_up, round_half_up


def _share(amount_fen: int, rate: Decimal) -> int:
    return round_half_up(Fraction(amount_fen) * Fraction(rate))


# ---------------------------------------------------------------- caps


class Limit(StrEnum):
    """What bound a claim's amount below its share."""

    PER_LOAN = "PER_LOAN"
    BANK_YEAR = "BANK_YEAR"
    ALLOWANCE = "ALLOWANCE"


@dataclass(frozen=True)
class Capped:
    share_fen: int  # the share of the overdue principal, before any cap
    amount_fen: int  # what the claim pays
    limited_by: tuple[Limit, ...]  # the limits equal to the amount, when it is below the share

    @property
    def cut_fen(self) -> int:
        return self.share_fen - self.amount_fen


def capped(
    share_fen: int,
    *,
    per_loan_cap_fen: int | None = None,
    bank_year_cap_fen: int | None = None,
    bank_year_paid_fen: int = 0,
    allowance_left_fen: int | None = None,
) -> Capped:
    """The claim pays its share, at most each cap's room left (None: no such cap)."""
    if share_fen < 0:
        raise ValueError("a share must not be negative")
    room: dict[Limit, int] = {}
    if per_loan_cap_fen is not None:
        room[Limit.PER_LOAN] = max(per_loan_cap_fen, 0)
    if bank_year_cap_fen is not None:
        room[Limit.BANK_YEAR] = max(bank_year_cap_fen - bank_year_paid_fen, 0)
    if allowance_left_fen is not None:
        room[Limit.ALLOWANCE] = max(allowance_left_fen, 0)
    amount = min([share_fen, *room.values()])
    bound = tuple(k for k, v in room.items() if v == amount) if amount < share_fen else ()
    return Capped(share_fen, amount, bound)


# ---------------------------------------------------------------- allowance


@dataclass(frozen=True)
class Allowance:
    """A bank's compensation allowance now."""

    accrued_fen: int  # x% of each loan lent, summed (carried forward, never reset)
    used_fen: int  # compensation drawn against it
    cap_fen: int  # y% of the bank's balance now
    available_fen: int  # min(accrued - used, cap), never below zero

    @property
    def carried_fen(self) -> int:
        """What is left of the accrual (before the cap)."""
        return max(self.accrued_fen - self.used_fen, 0)


def allowance(
    *,
    loans_lent_fen: Iterable[int],
    used_fen: int,
    balance_fen: int,
    accrual_rate: Decimal,
    cap_rate: Decimal | None,
) -> Allowance:
    """The bank's allowance: ``accrual_rate`` of each loan (rounded per loan, half up),
    less what was drawn, at most ``cap_rate`` of ``balance_fen`` (None: no cap)."""
    if not 0 <= accrual_rate <= 1 or (cap_rate is not None and not 0 <= cap_rate <= 1):
        raise ValueError("allowance rates must be between 0 and 1")
    accrued = sum(_share(a, accrual_rate) for a in loans_lent_fen)
    carried = max(accrued - used_fen, 0)
    cap = _share(max(balance_fen, 0), cap_rate) if cap_rate is not None else carried
    return Allowance(accrued, used_fen, cap, min(carried, cap))


# ---------------------------------------------------------------- stages


@dataclass(frozen=True)
class Stage:
    """One stage of a claim's payment: ``share`` of the compensation, paid when its condition
    holds. A later stage waits for any of: a lock-in of ``after_days`` after the first stage
    was paid; ``not_before`` a date; the recovery proceedings concluded
    (``after_recovery_concluded``: the trustee recorded their conclusion, ``conclude_recovery``
    of the claim lifecycle). The first stage has none: it is paid when the claim is paid."""

    share: Decimal
    after_days: int = 0
    not_before: dt.date | None = None
    after_recovery_concluded: bool = False


ONE_STAGE: tuple[Stage, ...] = (Stage(Decimal(1)),)


def check_stages(stages: Sequence[Stage]) -> None:
    if not stages:
        raise ValueError("a claim is paid in at least one stage")
    if sum((s.share for s in stages), Decimal(0)) != 1:
        raise ValueError("the stages' shares must add up to 1")
    if any(s.share <= 0 or s.after_days < 0 for s in stages):
        raise ValueError("each stage needs a positive share and no negative lock-in")
    first = stages[0]
    if first.after_days or first.not_before is not None or first.after_recovery_concluded:
        raise ValueError("the first stage is paid when the claim is paid")
    if any(s.after_recovery_concluded for s in stages[:-1]):
        raise ValueError("only the last stage may wait for the recovery proceedings")


def stage_amounts(total_fen: int, stages: Sequence[Stage]) -> list[int]:
    """Each stage's part of ``total_fen``; the parts add up to it exactly."""
    check_stages(stages)
    parts = split(total_fen, [(str(i), s.share) for i, s in enumerate(stages)])
    return [parts[str(i)] for i in range(len(stages))]


def stage_due_dates(stages: Sequence[Stage], first_paid_on: dt.date) -> list[dt.date]:
    """The first day each stage may be paid, once the first was paid on ``first_paid_on``: the
    end of its lock-in, or its ``not_before`` date when later (a stage waiting for the recovery
    proceedings waits for them as well)."""
    out = []
    for s in stages:
        due = first_paid_on + dt.timedelta(days=s.after_days)
        if s.not_before is not None and s.not_before > due:
            due = s.not_before
        out.append(due)
    return out


class StageWait(StrEnum):
    """Why the next stage cannot be paid yet."""

    LOCK_IN = "LOCK_IN"  # its lock-in has not passed, or its not-before date has not come
    RECOVERY = "RECOVERY"  # it waits for the recovery proceedings to conclude
    NO_STAGE_LEFT = "NO_STAGE_LEFT"


def stage_wait(
    *,
    due_on: dt.date,
    after_recovery_concluded: bool,
    recovery_concluded_on: dt.date | None,
    on: dt.date,
) -> StageWait | None:
    """What keeps a later stage (due on ``due_on``) from being paid on ``on``."""
    if on < due_on:
        return StageWait.LOCK_IN
    if after_recovery_concluded and (recovery_concluded_on is None or on < recovery_concluded_on):
        return StageWait.RECOVERY
    return None


def payable_since(
    *, due_on: dt.date, after_recovery_concluded: bool, recovery_concluded_on: dt.date | None
) -> dt.date | None:
    """The day a later stage became (or becomes) payable; None: it waits for the recovery
    proceedings, not concluded yet."""
    if not after_recovery_concluded:
        return due_on
    if recovery_concluded_on is None:
        return None
    return max(due_on, recovery_concluded_on)


def next_stage_wait(
    stages: Sequence[Stage],
    *,
    paid_stages: int,
    first_paid_on: dt.date | None,
    on: dt.date,
    recovery_concluded_on: dt.date | None = None,
) -> StageWait | None:
    """What keeps stage number ``paid_stages`` (0-based) from being paid on ``on``."""
    if paid_stages >= len(stages):
        return StageWait.NO_STAGE_LEFT
    if paid_stages == 0 or first_paid_on is None:
        return None
    s = stages[paid_stages]
    return stage_wait(
        due_on=stage_due_dates(stages, first_paid_on)[paid_stages],
        after_recovery_concluded=s.after_recovery_concluded,
        recovery_concluded_on=recovery_concluded_on,
        on=on,
    )


def final_stage_fen(
    *, amount_fen: int, loss_fen: int, recovered_fen: int, pool_recovered_fen: int, paid_fen: int
) -> int:
    """The last stage of a claim that waited for the recovery proceedings, paid once they have
    concluded: what makes the fund's net outlay on the claim its compensation on the loss left
    after recoveries.

    The fund owes ``amount × (loss − recovered) / loss`` in all (its compensation scaled to the
    loss not recovered, rounded half up once, to the fen). It has paid ``paid_fen`` in earlier
    stages and taken back ``pool_recovered_fen`` of the recoveries (its recovery share), so its
    net outlay is ``paid − pool_recovered``; the last stage is the difference, never negative
    and never more than the compensation left unpaid (``amount − paid``). With recoveries shared
    as the compensation is (fund 80 %, bank 20 %), the last stage is its planned part: the
    recoveries already came back to the pool in the same proportion."""
    if loss_fen <= 0:
        return 0
    owed = div_half_up(amount_fen * max(loss_fen - recovered_fen, 0), loss_fen)
    return max(0, min(amount_fen - paid_fen, owed - (paid_fen - pool_recovered_fen)))


# ---------------------------------------------------------------- denials


class Denial(StrEnum):
    """A condition that denies compensation on a loan."""

    # the codes are the rulebook's (``fund.denials``)
    ABOVE_LIMIT = "above_evaluated_limit"  # lent above the limit the programme evaluated
    RATE_ABOVE_CEILING = "rate_above_ceiling"
    SIGNED_WHILE_SUSPENDED = "signed_while_suspended"  # the bank × district pair was suspended
    NO_PROGRAMME_EVALUATION = "not_evaluated_by_programme"  # no evaluation in force at signing


@dataclass(frozen=True)
class DenialRules:
    """Which conditions the rulebook applies (all off: nothing is denied)."""

    above_limit: bool = False
    rate_above_ceiling: bool = False
    signed_while_suspended: bool = False
    requires_programme_evaluation: bool = False

    @classmethod
    def of(cls, codes: Iterable[str]) -> DenialRules:
        """From the rulebook's list of denial codes (an unknown code is refused)."""
        on = {Denial(c) for c in codes}
        return cls(
            Denial.ABOVE_LIMIT in on,
            Denial.RATE_ABOVE_CEILING in on,
            Denial.SIGNED_WHILE_SUSPENDED in on,
            Denial.NO_PROGRAMME_EVALUATION in on,
        )


@dataclass(frozen=True)
class LoanAtSigning:
    """What was true of a loan when it was signed."""

    amount_fen: int
    rate_units: int  # annual rate, 1e-8 units
    evaluated_limit_fen: int | None  # None: no programme evaluation in force at signing
    rate_ceiling_units: int | None  # None: no ceiling known
    pair_suspended: bool


def denials(loan: LoanAtSigning, rules: DenialRules) -> tuple[Denial, ...]:
    """Every condition of ``rules`` the loan meets, in a fixed order (empty: compensable)."""
    out: list[Denial] = []
    if rules.requires_programme_evaluation and loan.evaluated_limit_fen is None:
        out.append(Denial.NO_PROGRAMME_EVALUATION)
    if (
        rules.above_limit
        and loan.evaluated_limit_fen is not None
        and loan.amount_fen > loan.evaluated_limit_fen
    ):
        out.append(Denial.ABOVE_LIMIT)
    if (
        rules.rate_above_ceiling
        and loan.rate_ceiling_units is not None
        and loan.rate_units > loan.rate_ceiling_units
    ):
        out.append(Denial.RATE_ABOVE_CEILING)
    if rules.signed_while_suspended and loan.pair_suspended:
        out.append(Denial.SIGNED_WHILE_SUSPENDED)
    return tuple(out)


def suspended_on(changes: Iterable[tuple[dt.date, str]], day: dt.date) -> bool:
    """Was the breaker SUSPENDED on ``day``, from its history of (as-of date, new state)?
    The last change dated on or before ``day`` wins; none: not suspended."""
    state = ""
    for when, to in sorted(changes, key=lambda c: c[0]):
        if when <= day:
            state = to
    return state == "SUSPENDED"
