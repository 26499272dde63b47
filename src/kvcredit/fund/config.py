"""The fund's rules on a date: ``rules(on=D)`` is the ``FundRules`` the rulebook in force on D
states (``kvcredit.rulebook.services.rules_on``; the shipped default while none is published).

A decision passes its own date: a claim its filing date, a fee its charge date, the breaker the
business date, a bridge loan its lending date. The rules carry the rulebook's content hash
(``FundRules.rulebook_hash``), which the decision records. Nothing here reads settings: the
rules are published data (docs/rulebook.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from kvcredit import clock
from kvcredit.fund.domain.rules import FundRules
from kvcredit.rulebook.domain import Rulebook

FIELDS = [
    f.name for f in dataclasses.fields(FundRules) if f.name not in ("fee_cuts", "rulebook_hash")
]
_BY_HASH: dict[str, FundRules] = {}


def from_rulebook(rb: Rulebook) -> FundRules:
    """The fund's rules a rulebook states (cached by its content hash)."""
    cached = _BY_HASH.get(rb.content_hash)
    if cached is not None:
        return cached
    f = rb.fund
    b = f.breaker
    npl, comp = b.non_performing, b.compensation
    # a ratio the rulebook does not use still needs valid thresholds: it never counts
    off = npl or comp
    assert off is not None  # the rulebook requires one of them
    cuts = [(w.from_, w.to, w.cut) for w in f.fees.waivers]
    cuts += [(r.from_, r.to, r.cut) for r in f.fees.reductions]
    rules = FundRules(
        compensation_share=f.compensation_share,
        min_days_overdue=f.min_days_overdue,
        city_share=f.parties[0].share,
        service_fee_rate=f.fees.rate,
        warn_npl_ratio=(npl or off).warn,
        suspend_npl_ratio=(npl or off).stop,
        warn_compensation_ratio=(comp or off).warn,
        suspend_compensation_ratio=(comp or off).stop,
        bridge_fee_rate=f.bridge.rate,
        npl_breaker=npl is not None,
        compensation_breaker=comp is not None,
        breaker_window_months=b.window_months,
        breaker_min_book_loans=b.min_book_loans,
        breaker_stops=b.stops,
        bridge_max_days=f.bridge.max_days,
        bridge_max_amount_fen=f.bridge.max_amount_fen,
        fee_cuts=tuple(cuts),
        rulebook_hash=rb.content_hash,
    )
    _BY_HASH[rb.content_hash] = rules
    return rules


def rules(on: dt.date | None = None) -> FundRules:
    """The fund's rules in force on ``on`` (default: today, for what is shown, not decided)."""
    from kvcredit.rulebook.services import rules_on

    return from_rulebook(rules_on(on or clock.today()))


def by_hash(content_hash: str, fallback_on: dt.date) -> FundRules:
    """The rules of the rulebook a decision recorded (its content hash); a decision recorded
    before rulebooks (no hash) takes the rules in force on ``fallback_on``."""
    from kvcredit.rulebook.services import rulebook_by_hash

    rb = rulebook_by_hash(content_hash) if content_hash else None
    return from_rulebook(rb) if rb is not None else rules(fallback_on)


def as_dict(r: FundRules) -> dict[str, str]:
    out = {f: str(getattr(r, f)) for f in FIELDS}
    out["rulebook_hash"] = r.rulebook_hash
    return out
