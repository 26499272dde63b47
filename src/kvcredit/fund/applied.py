"""The fund rules of the rulebook in force, applied: the facts the pure rules need, read from the
database, and the rules as the pure code takes them.

The rulebook in force on a date is ``kvcredit.rulebook.services.rules_on`` (the shipped default
while nothing is published); each decision records its content hash. The computations are pure
(``fund.domain.sharing``, ``fund.domain.compensation``, ``fund.domain.fees``); this module only
reads the rulebook and the book:

    losses(rb)              the loss-sharing parties (id, names, compensation and recovery share)
    stages(rb)              the payment stages
    allowance_of(bank, on)  the bank's allowance now (``compensation.Allowance``)
    bank_year_paid(bank, y) compensation paid to the bank in a year
    denials(loan, rb)       the denial conditions the loan meets (at signing)
    fee_cuts(rb)            the rulebook's dated fee reductions and waivers
    owed(pool, on)          what each contributing party (the rulebook's names) still owes
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import get_language

from kvcredit.fund import lending_port
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import compensation as dcomp
from kvcredit.fund.domain import fees as dfee
from kvcredit.lending.domain.rates import benchmark_type_for_term
from kvcredit.rulebook import services as rulebooks
from kvcredit.rulebook.domain import Rulebook


def rules_on(on: dt.date) -> Rulebook:
    return rulebooks.rules_on(on)


def rulebook_of(content_hash: str, on: dt.date) -> Rulebook:
    """The rulebook a decision recorded (by its hash: a published one, or the shipped default
    that applied while nothing was published), else the one in force on ``on``."""
    from kvcredit.rulebook.models import PublishedRulebook

    if content_hash:
        if content_hash == rulebooks.shipped_default().content_hash:
            return rulebooks.shipped_default()
        published = PublishedRulebook.objects.filter(content_hash=content_hash).first()
        if published is not None:
            return rulebooks.parsed(published)
    return rules_on(on)


@dataclass(frozen=True)
class Part:
    """A loss-sharing party: the rulebook's id and names, its shares."""

    id: str
    name: str
    name_zh: str
    compensation: Decimal
    recoveries: Decimal

    @property
    def label(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name


def losses(rb: Rulebook) -> list[Part]:
    """The parties a loss is shared among, fund first where the rulebook lists it so (the
    default two-party sharing lists the fund, then the bank)."""
    return [
        Part(p.id, p.name, p.name_zh, p.compensation, p.recoveries)
        for p in rb.fund.losses().parties
    ]


def stages(rb: Rulebook) -> tuple[dcomp.Stage, ...]:
    got = tuple(
        dcomp.Stage(s.share, s.after_days, s.not_before, s.after_recovery_concluded)
        for s in rb.fund.stages
    )
    return got or dcomp.ONE_STAGE


def _year(on: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(on.year, 1, 1), dt.date(on.year, 12, 31)


def bank_year_paid(bank_id: int, on: dt.date) -> int:
    """The compensation (the fund's amount of each claim) paid to the bank in ``on``'s year."""
    from kvcredit.fund.models import Claim

    start, end = _year(on)
    got = Claim.objects.filter(
        bank_id=bank_id, status__in=dc.PAID, paid_on__gte=start, paid_on__lte=end
    ).aggregate(s=Sum("amount_fen"))["s"]
    return int(got or 0)


def allowance_of(bank_id: int, on: dt.date, rb: Rulebook) -> dcomp.Allowance | None:
    """The bank's allowance on ``on`` under ``rb`` (None: the rulebook has none): the rate of
    each loan it disbursed up to ``on`` (that year only when not carried forward), less the
    compensation paid to it, at most the cap rate of its principal outstanding."""
    from kvcredit.fund.models import Claim

    rule = rb.fund.allowance
    if rule is None:
        return None
    since = None if rule.carry_forward else _year(on)[0]
    lent, balance = lending_port.bank_book(bank_id=bank_id, on=on, since=since)
    claims = Claim.objects.filter(bank_id=bank_id, status__in=dc.PAID, paid_on__lte=on)
    if since is not None:
        claims = claims.filter(paid_on__gte=since)
    return dcomp.allowance(
        loans_lent_fen=lent,
        used_fen=int(claims.aggregate(s=Sum("amount_fen"))["s"] or 0),
        balance_fen=balance,
        accrual_rate=rule.pct_of_loan,
        cap_rate=rule.cap_pct_of_balance,
    )


def _evaluated_limit(loan: Any) -> int | None:
    from kvcredit.enterprises.models import Evaluation

    ev = (
        Evaluation.objects.filter(
            enterprise_id=loan.enterprise_id,
            eligible=True,
            valid_from__lte=loan.signing_date,
            valid_until__gt=loan.signing_date,
        )
        .order_by("-evaluated_at", "-id")
        .first()
    )
    return None if ev is None else int(ev.limit_fen)


def _ceiling_units(loan: Any, rb: Rulebook) -> int | None:
    """The rulebook's rate ceiling on the loan's signing date, in the loan's rate units (1e-8);
    None when the rulebook sets none or the basis rate of that day is not in the table."""
    bound = rb.loan.ceiling
    if bound is None:
        return None
    kind = "LPR_1Y" if bound.basis == "lpr_1y" else benchmark_type_for_term(loan.term_months)
    ppm = lending_port.basis_rate_ppm(kind, loan.signing_date)
    if ppm is None:
        return None
    return int((Decimal(ppm) * bound.multiple + bound.spread_bp * 100) * 100)


def _suspended_at_signing(loan: Any) -> bool:
    return lending_port.pair_suspended_on(
        bank_id=loan.bank_id, district_id=loan.district_id, day=loan.signing_date
    )


def denials(loan: Any, rb: Rulebook) -> tuple[dcomp.Denial, ...]:
    """The rulebook's denial conditions the loan meets, from what was true when it was
    signed (its evaluation, the rate ceiling of that day, the breaker's state that day)."""
    rules = dcomp.DenialRules.of(rb.fund.denials)
    if rules == dcomp.DenialRules():
        return ()
    facts = dcomp.LoanAtSigning(
        amount_fen=loan.amount_fen,
        rate_units=loan.rate_units,
        evaluated_limit_fen=_evaluated_limit(loan),
        rate_ceiling_units=_ceiling_units(loan, rb) if rules.rate_above_ceiling else None,
        pair_suspended=_suspended_at_signing(loan) if rules.signed_while_suspended else False,
    )
    return dcomp.denials(facts, rules)


def fee_cuts(rb: Rulebook, *, zh: bool = False) -> list[dfee.Cut]:
    """The rulebook's dated fee waivers and reductions (both days of a window included), their
    reasons in English (``zh``: in Chinese where the rulebook gives one)."""

    def reason(r: Any) -> str:
        return (r.reason_zh if zh and r.reason_zh else r.reason) or ""

    return [
        *(
            dfee.Cut(w.from_, w.to, Decimal(1), reason(w), waiver=True)
            for w in rb.fund.fees.waivers
        ),
        *(dfee.Cut(r.from_, r.to, r.cut, reason(r)) for r in rb.fund.fees.reductions),
    ]


@dataclass(frozen=True)
class PartyOwed:
    """A contributing party as the rulebook names it, and what it owes its pool."""

    id: str
    name: str
    name_zh: str
    share: Decimal
    slot: str  # the contributor code its payments are recorded under (CITY or DISTRICT)
    owed: dfee.Owed

    @property
    def label(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name


SLOTS = ("CITY", "DISTRICT")


def owed(pool: Any, on: dt.date) -> list[PartyOwed]:
    """Each contributing party of ``pool`` (the rulebook's first party is the upper level,
    recorded as CITY; the second the local one, recorded as DISTRICT), with its commitment
    towards the pool's target, the minimum initial paid-in share, the top-up target, what it
    has paid by ``on`` and what it still owes."""
    from kvcredit.fund.models import Contribution

    rb = rules_on(on)
    parties = rb.fund.parties[: len(SLOTS)]
    paid: dict[str, int] = {}
    for slot, p in zip(SLOTS, parties, strict=False):
        got = Contribution.objects.filter(pool=pool, contributor=slot, paid_date__lte=on).aggregate(
            s=Sum("amount_fen")
        )["s"]
        # a reversed contribution is cancelled in the books, not in this sum: count it out
        paid[p.id] = int(got or 0) - _reversed(pool, slot, on)
    rows = dfee.contributions_owed(
        target_fen=pool.target_fen,
        shares=[(p.id, p.share) for p in parties],
        paid_fen=paid,
        initial_share=rb.fund.min_initial_paid_in,
        top_up_target=rb.fund.top_up_target,
    )
    return [
        PartyOwed(p.id, p.name, p.name_zh, p.share, slot, row)
        for slot, p, row in zip(SLOTS, parties, rows, strict=False)
    ]


def _reversed(pool: Any, slot: str, on: dt.date) -> int:
    from kvcredit.fund.models import Contribution, JournalEntry

    reversed_entries = JournalEntry.objects.filter(
        reverses__isnull=False, entry_date__lte=on, pool=pool
    ).values_list("reverses_id", flat=True)
    got = Contribution.objects.filter(
        pool=pool, contributor=slot, entry_id__in=list(reversed_entries)
    ).aggregate(s=Sum("amount_fen"))["s"]
    return int(got or 0)


def fee_cut_reason(fee: Any) -> str:
    """Why a charged fee was cut, in the active language: the trustee's reduction, or the
    waiver or reduction of the rulebook the fee recorded."""
    if fee.reduction_id is not None:
        return str(fee.reduction.reason)
    if not fee.cut:
        return ""
    rb = rulebook_of(fee.rulebook_hash, fee.charged_on)
    zh = (get_language() or "").startswith("zh")
    found = dfee.cut_on(fee_cuts(rb, zh=zh), fee.charged_on)
    return found.reason if found is not None else str(fee.cut_reason)
