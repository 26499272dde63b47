"""The subsidy and deferral rules in force on a day, from the programme rulebook.

The rulebook (``kvcredit.rulebook``: ``rules_on(day)``) publishes ``[[subsidy]]`` and
``[[deferral]]`` sections as dated windows; this module turns them into the pure rules of
``lending.domain.subsidy`` and ``lending.domain.deferral`` and names the rulebook they came
from (``id@version#hash``), which every subsidy and deferral records.

Conversions (documented in docs/rulebook.md, "Subsidies and deferrals"): a rulebook window
``[from, to]`` includes both days; the pure rules' windows are ``[from, to + 1 day)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from kvcredit.lending.domain import deferral as dd
from kvcredit.lending.domain import subsidy as ds

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class ReliefRules:
    source: str  # id@version#hash16 of the rulebook (empty: none)
    subsidies: list[ds.SubsidyRule] = field(default_factory=list)
    deferrals: list[dd.DeferralRule] = field(default_factory=list)

    content_hash: str = ""  # the rulebook's full content hash (as every decision records)

    def deferral(self, key: str) -> dd.DeferralRule | None:
        return next((r for r in self.deferrals if r.key == key), None)


_override: list[ReliefRules] = []


@contextmanager
def using(rules: ReliefRules) -> Iterator[None]:
    """Apply ``rules`` instead of the rulebook's (tests of rules no rulebook ships)."""
    _override.append(rules)
    try:
        yield
    finally:
        _override.pop()


def source_of(book: Any) -> str:
    return f"{book.id}@{book.version}#{book.content_hash[:16]}"


def subsidy_rule(s: Any) -> ds.SubsidyRule:
    loans = s.loans
    return ds.SubsidyRule(
        key=s.id,
        window_from=s.from_,
        window_to=s.to + DAY,
        share=Fraction(s.share),
        basis=ds.Basis.RATE if s.basis == "share_of_rate" else ds.Basis.INTEREST,
        benchmark=(s.rate or "lpr_1y").upper(),
        payer=ds.Payer.POOL if s.paid_by == "pool" else ds.Payer.BUDGET,
        payee=ds.Payee.BANK if s.paid_to == "bank" else ds.Payee.ENTERPRISE,
        budget=s.budget,
        districts=tuple(loans.districts),
        signed_from=loans.signed_from,
        signed_to=loans.signed_to,
        max_amount_fen=loans.max_amount_fen,
        name=s.name,
    )


def deferral_rule(d: Any) -> dd.DeferralRule:
    parts = set(d.defer)
    return dd.DeferralRule(
        key=d.id,
        window_from=d.loans.due_from,
        window_to=d.loans.due_to + DAY,
        defer_to=d.until,
        defers=(
            dd.Defers.PRINCIPAL_AND_INTEREST
            if parts == {"principal", "interest"}
            else dd.Defers.PRINCIPAL
            if parts == {"principal"}
            else dd.Defers.INTEREST
        ),
        interest_accrues=d.interest_accrues,
        penalty_waived=d.penalty_waived,
        dpd_paused=d.dpd_paused,
        watch_days=d.watch_days,
        grant_from=d.from_,
        grant_to=d.to,
        name=d.name,
    )


def rules_on(day: dt.date) -> ReliefRules:
    """The subsidy and deferral rules of the rulebook in force on ``day``."""
    if _override:
        return _override[-1]
    try:
        from kvcredit.rulebook import services as rulebook
    except ImportError:  # no rulebook app: no subsidies and no deferrals
        return ReliefRules("")
    book = rulebook.rules_on(day)
    return ReliefRules(
        source_of(book),
        [subsidy_rule(s) for s in book.subsidies],
        [deferral_rule(d) for d in book.deferrals],
        book.content_hash,
    )
