"""What a rulebook would change on the current book (the preview before publishing).

    effects_on_book(rb, on)  -> {"breakers": [...], "fees": {...}, "loans": {...}, "lines": [...]}

- breakers: each bank x district pair's state under the rulebook's breaker, from the book as it
  stands (the figures of the end of day), against its state now: the pairs that would trip
  (warn or stop) and the suspended pairs the new rules would not suspend (the trustee may lift);
- fees: the fee rate and the cut on the effective date, old and new;
- loans: live loans outside the new loan rules (amount, term): they keep their terms (publishing
  never rewrites the past), new ones would be refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from kvcredit.rulebook.domain import Rulebook

_ORDER = ("NORMAL", "WARNING", "SUSPENDED")


def _breakers(rb: Rulebook, on: dt.date) -> list[dict[str, Any]]:
    from kvcredit.fund import breakers, config
    from kvcredit.fund.domain import breaker as db
    from kvcredit.fund.models import Breaker

    rules = config.from_rulebook(rb)
    after = breakers._window_start(on, rules)
    comp, lent = breakers._compensated(after), breakers._lent(after)
    now = {
        (b.bank_id, b.district_id): b for b in Breaker.objects.select_related("bank", "district")
    }
    out = []
    for key, (outstanding, npl) in sorted(breakers.exposures_from_loans().items()):
        loans, lent_fen = lent.get(key, (0, 0))
        e = db.Exposure(outstanding, npl, comp.get(key, 0), lent_fen, loans)
        new = db.next_state(db.BreakerState.NORMAL, e, rules).value
        b = now.get(key)
        state = b.state if b is not None else "NORMAL"
        if new == state:
            continue
        if state == "SUSPENDED":
            change = "could_lift"
        elif (new, state) in (
            ("SUSPENDED", "NORMAL"),
            ("SUSPENDED", "WARNING"),
            ("WARNING", "NORMAL"),
        ):
            change = "would_trip"
        else:
            change = "would_ease"
        out.append(
            {
                "bank": b.bank.code if b else key[0],
                "district": b.district.code if b else key[1],
                "now": state,
                "new": new,
                "change": change,
                "loans": loans,
                "npl": str(db.as_percent(db.npl_ratio(e))),
                "compensation": str(db.as_percent(db.compensation_ratio(e))),
            }
        )
    return out


def _loans(rb: Rulebook) -> dict[str, int]:
    from kvcredit.lending.models import LIVE_STATUSES, Loan

    live = Loan.objects.filter(status__in=LIVE_STATUSES)
    over_amount = (
        live.filter(amount_fen__gt=rb.loan.max_amount_fen).count()
        if rb.loan.max_amount_fen is not None
        else 0
    )
    over_term = live.filter(term_months__gt=rb.loan.max_term_months).count()
    return {"live": live.count(), "over_amount": over_amount, "over_term": over_term}


def effects_on_book(rb: Rulebook, against: Rulebook | None, on: dt.date) -> dict[str, Any]:
    """The rulebook's effects on the book as it stands on ``on`` (see the module)."""
    pairs = _breakers(rb, on)
    day = max(on, rb.effective)
    fees = {
        "rate_now": str(against.fund.fees.rate) if against else "",
        "rate_new": str(rb.fund.fees.rate),
        "cut_now": str(against.fund.fees.cut_on(day)) if against else "",
        "cut_new": str(rb.fund.fees.cut_on(day)),
    }
    loans = _loans(rb)
    lines = []
    trip = [p for p in pairs if p["change"] == "would_trip"]
    lift = [p for p in pairs if p["change"] == "could_lift"]
    ease = [p for p in pairs if p["change"] == "would_ease"]
    for label, group in (
        (_("pairs that would trip"), trip),
        (_("suspended pairs the new rules would not suspend"), lift),
        (_("pairs whose warning would end"), ease),
    ):
        if group:
            names = ", ".join(f"{p['bank']}×{p['district']} ({p['now']}→{p['new']})" for p in group)
            lines.append(f"{label}: {names}")
    if fees["rate_now"] != fees["rate_new"] or fees["cut_now"] != fees["cut_new"]:
        lines.append(
            _("service fee: rate %(a)s → %(b)s, cut on %(day)s %(c)s → %(d)s")
            % {
                "a": fees["rate_now"] or "—",
                "b": fees["rate_new"],
                "day": day.isoformat(),
                "c": fees["cut_now"] or "—",
                "d": fees["cut_new"],
            }
        )
    if loans["over_amount"] or loans["over_term"]:
        lines.append(
            _(
                "%(amount)s live loans above the new maximum amount and %(term)s above the new "
                "maximum term (they keep their terms; new ones would be refused)"
            )
            % {"amount": loans["over_amount"], "term": loans["over_term"]}
        )
    return {"breakers": pairs, "fees": fees, "loans": loans, "lines": lines}
