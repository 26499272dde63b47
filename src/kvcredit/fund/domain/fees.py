"""Service fees with dated reductions and waivers, and what contributing parties owe.

Plain arguments in (the rulebook's figures), plain values out; integer fen, exact rates.
Pure (no Django); mypy strict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from kvcredit.fund.domain.sharing import Weight, split
from kvcredit.money import round_half_up


class Payer(StrEnum):
    """Who pays the trustee's service fee."""

    BANK = "BANK"
    ENTERPRISE = "ENTERPRISE"


@dataclass(frozen=True)
class Cut:
    """``cut`` (0.2 = 20 % off) of the fee for fees charged from ``valid_from`` to ``valid_to``,
    both days included (the rulebook's windows); a waiver takes the whole fee."""

    valid_from: dt.date
    valid_to: dt.date
    cut: Decimal
    reason: str = ""
    waiver: bool = False

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to


@dataclass(frozen=True)
class Fee:
    amount_fen: int
    rate: Decimal  # the yearly rate applied, after the cut (exact)
    cut: Cut | None  # the reduction or waiver applied, if any
    payer: Payer

    @property
    def waived(self) -> bool:
        return self.cut is not None and self.cut.waiver


def _decimal(f: Fraction) -> Decimal:
    return Decimal(f.numerator) / Decimal(f.denominator)


def cut_on(cuts: Sequence[Cut], day: dt.date) -> Cut | None:
    """The cut in force on ``day``: a waiver first, else the first reduction covering it."""
    covering = [c for c in cuts if c.covers(day)]
    return next((c for c in covering if c.waiver), covering[0] if covering else None)


def service_fee(
    *,
    amount_fen: int,
    term_months: int,
    charged_on: dt.date,
    rate: Decimal,
    cuts: Sequence[Cut] = (),
    payer: Payer = Payer.BANK,
) -> Fee:
    """The yearly ``rate`` on the loan amount for its term in months, with the cut in force on
    ``charged_on`` applied (a waiver makes it zero)."""
    if amount_fen < 0 or term_months < 0 or not 0 <= rate <= 1:
        raise ValueError("a fee needs a non-negative amount and term and a rate in [0, 1]")
    cut = cut_on(cuts, charged_on)
    yearly = Fraction(rate)
    if cut is not None:
        yearly *= 0 if cut.waiver else 1 - min(Fraction(cut.cut), Fraction(1))
    fen = round_half_up(amount_fen * yearly * Fraction(term_months, 12))
    return Fee(fen, _decimal(yearly), cut, payer)


# ---------------------------------------------------------------- contributions


@dataclass(frozen=True)
class Owed:
    """One contributing party's position towards its pool's target."""

    party: str  # the name the rulebook gives (city, district, province ...)
    committed_fen: int  # its share of the target
    initial_due_fen: int  # the minimum to pay in at the start
    top_up_to_fen: int  # what it is to reach by topping up (the top-up target of its share)
    paid_fen: int
    initial_owed_fen: int  # what it still owes of the minimum initial payment
    top_up_owed_fen: int  # what it still owes to reach the top-up target

    @property
    def owed_fen(self) -> int:
        return self.top_up_owed_fen


def contributions_owed(
    *,
    target_fen: int,
    shares: Sequence[tuple[str, Weight]],
    paid_fen: Mapping[str, int],
    initial_share: Decimal,
    top_up_target: Decimal = Decimal(1),
) -> list[Owed]:
    """Each party's commitment (its share of the target, parts adding up to the target), the
    minimum it pays in at the start (``initial_share`` of its commitment, half up), what it
    tops up to (``top_up_target`` of its commitment) and what it still owes of either."""
    if not 0 <= initial_share <= top_up_target <= 1:
        raise ValueError("need 0 <= initial share <= top-up target <= 1")
    committed = split(max(target_fen, 0), shares)
    out = []
    for name, _w in shares:
        c = committed[name]
        initial = round_half_up(Fraction(c) * Fraction(initial_share))
        top = round_half_up(Fraction(c) * Fraction(top_up_target))
        paid = paid_fen.get(name, 0)
        out.append(Owed(name, c, initial, top, paid, max(initial - paid, 0), max(top - paid, 0)))
    return out
