"""What a step on a claim, a breaker or a bridge loan will do, computed before it is
confirmed: the same checks and the same pure arithmetic as the service (``claims.pay``,
``claims.reject``, ``claims.close``, ``breakers.lift``, ``services.lend_bridge``), read only.
The console's confirmation page shows the answer; the service re-checks under its locks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.enterprises.models import Enterprise
from kvcredit.errors import Conflict, InsufficientFunds, InvalidInput, NotFound
from kvcredit.fund import books, claims, config, selectors
from kvcredit.fund.domain import breaker as db
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import rules as dr
from kvcredit.fund.models import BreakerLevel
from kvcredit.fund.services import short_of_funds

CLAIM_ACTIONS = {
    dc.Step.PAY: gettext_noop("approve claims"),
    dc.Step.REJECT: gettext_noop("reject claims"),
    dc.Step.CLOSE: gettext_noop("close claims"),
    dc.Step.WRITE_OFF: gettext_noop("close claims"),
}


@dataclass(frozen=True)
class ClaimChange:
    """A claim step: the claim's state after, the amount paid (0 but for pay), the pool's
    spendable cash before and after, whether the claim waits for funds, the loan after."""

    claim: Any
    step: str
    status_after: str
    amount_fen: int
    pool_before_fen: int
    pool_after_fen: int
    waits: bool
    loan_status_after: str


def preview_claim_step(actor: Any, *, claim_id: int, step: str, on: dt.date) -> ClaimChange:
    if step not in CLAIM_ACTIONS:
        raise InvalidInput([("step", _("not allowed now"))])
    action = CLAIM_ACTIONS[dc.Step(step)]
    require(actor, OrgKind.TRUSTEE, action=action)
    c = selectors.claims(actor).select_related("loan", "pool__district").filter(pk=claim_id)
    claim = c.first()
    if claim is None:
        raise NotFound(_("no such claim"), field="claim_id")
    pool = claim.pool
    spendable = books.spendable(pool, on=on)
    loan = claim.loan
    amount, waits, loan_after = 0, False, loan.status
    if step == dc.Step.PAY and claim.status == dc.ClaimStatus.PARTLY_PAID:
        staged = claims.plan_stage(actor, claim, on, action, lock=False)
        to, amount = staged.to, staged.amount_fen
        waits = amount > spendable
    elif step == dc.Step.PAY:
        plan = claims.plan_payment(actor, claim, on, action, lock=False)
        to, amount = plan.to, plan.amounts[0]
        waits = amount > spendable
        if not waits:
            loan_after = "COMPENSATED"
    else:
        to = claims._take(actor, claim.status, dc.Step(step), action)
    if step in (dc.Step.CLOSE, dc.Step.WRITE_OFF):
        loan_after = "CLOSED" if loan.status == "CLOSED" else "WRITTEN_OFF"
    return ClaimChange(
        claim=claim,
        step=step,
        status_after=str(claim.status if waits else to),
        amount_fen=0 if waits else amount,
        pool_before_fen=spendable,
        pool_after_fen=spendable - (0 if waits else amount),
        waits=waits,
        loan_status_after=loan_after,
    )


@dataclass(frozen=True)
class BreakerChange:
    breaker: Any
    state_after: str


def preview_lift(actor: Any, *, breaker_id: int) -> BreakerChange:
    """Lifting a suspension: the breaker goes to the state the pure rule says (WARNING)."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("lift suspensions"))
    b = selectors.breakers(actor).filter(pk=breaker_id).first()
    if b is None:
        raise NotFound(_("no such breaker"), field="breaker_id")
    if b.state != BreakerLevel.SUSPENDED:
        raise Conflict(_("only a suspended breaker can be lifted"))
    return BreakerChange(b, db.lift(db.BreakerState(b.state), reason="preview").value)


@dataclass(frozen=True)
class BridgeChange:
    enterprise: Any
    principal_fen: int
    fee_fen: int
    due_on: dt.date
    pool_before_fen: int
    pool_after_fen: int


def preview_bridge(
    actor: Any, *, enterprise_id: int, principal_fen: int, term_days: int, on: dt.date
) -> BridgeChange:
    """A bridge loan: its fee, due date, and the district pool's spendable cash after;
    refused as ``services.lend_bridge`` would when the pool cannot lend it."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("make bridge loans"))
    if principal_fen <= 0:
        raise InvalidInput([("principal", _("must be more than zero"))])
    if not 1 <= term_days <= 366:
        raise InvalidInput([("term_days", _("between 1 and 366 days"))])
    ent = Enterprise.objects.filter(pk=enterprise_id).select_related("district").first()
    if ent is None:
        raise NotFound(_("no such enterprise"), field="enterprise_id")
    fee = dr.bridge_fee(principal_fen=principal_fen, term_days=term_days, rules=config.rules())
    spendable = books.spendable(books.pool_of(ent.district), on=on)
    if principal_fen > spendable:
        raise short_of_funds(InsufficientFunds(principal_fen, spendable))
    return BridgeChange(
        ent,
        principal_fen,
        fee,
        on + dt.timedelta(days=term_days),
        spendable,
        spendable - principal_fen,
    )


@dataclass(frozen=True)
class FeeCharge:
    """Charging service fees: how many loans, the total, the reduction in force that day."""

    loans: int
    total_fen: int
    percent_off_bp: int | None


def preview_fees(actor: Any, *, loan_id: int | None, on: dt.date) -> FeeCharge:
    """What ``services.charge_service_fee`` (one loan) or ``charge_service_fees`` (every loan
    disbursed by ``on`` without a fee) will charge, at the rate and reduction in force."""
    from kvcredit.fund import services
    from kvcredit.fund.models import ServiceFee
    from kvcredit.lending import selectors as lending_selectors

    require(actor, OrgKind.TRUSTEE, action=gettext_noop("charge service fees"))
    loans = lending_selectors.loans(actor).filter(disbursed_on__lte=on)
    if loan_id is not None:
        loan = lending_selectors.loans(actor).filter(pk=loan_id).first()
        if loan is None:
            raise NotFound(_("no such loan"), field="loan_id")
        if ServiceFee.objects.filter(loan=loan).exists():
            raise Conflict(_("this loan's service fee has already been charged"), field="loan_id")
        if loan.disbursed_on > on:
            raise InvalidInput([("on", _("the loan is not disbursed yet on this date"))])
        loans = loans.filter(pk=loan_id)
    charged = ServiceFee.objects.values_list("loan_id", flat=True)
    rows = loans.exclude(pk__in=charged).values_list("amount_fen", "term_months")
    found = services._reductions()
    reductions = [d for _r, d in found]
    rules = config.rules()
    total = count = 0
    for amount_fen, term_months in rows.iterator():
        count += 1
        total += dr.service_fee(
            amount_fen=amount_fen,
            term_months=term_months,
            charged_on=on,
            rules=rules,
            reductions=reductions,
        )
    applied = next((r for r, d in found if d.covers(on)), None)
    return FeeCharge(count, total, applied.percent_off_bp if applied else None)
