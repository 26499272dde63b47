"""API schemas of the fund: money as yuan text (two decimals), dates ISO."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import StringConstraints

from kvcredit.api.common import Id, Text, Yuan, YuanOut, yuan
from kvcredit.fund import selectors
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import ledger as dl
from kvcredit.fund.models import (
    Breaker,
    BreakerChange,
    BridgeLoan,
    Claim,
    Contribution,
    FeeReduction,
    JournalEntry,
    ServiceFee,
)

Reason = Annotated[
    str, StringConstraints(min_length=5, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Percent = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$")]
Day = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2200, 12, 31))]


class OnIn(Schema):
    on: Day | None = None  # default: today


class PoolTargetIn(Schema):
    target: Yuan


class PoolOut(Schema):
    id: int
    district_id: int
    district_code: str
    district_name: str
    target: YuanOut
    cash: YuanOut
    city_owed: YuanOut
    city_paid: YuanOut
    district_owed: YuanOut
    district_paid: YuanOut
    compensation_paid: YuanOut
    recoveries: YuanOut
    service_fees: YuanOut
    bridge_loans_outstanding: YuanOut
    claims_waiting: int
    claims_waiting_amount: YuanOut

    @staticmethod
    def of(s: selectors.PoolSummary) -> dict[str, Any]:
        k = dl.PoolAccount
        p = s.pool
        return {
            "id": p.pk,
            "district_id": p.district_id,
            "district_code": p.district.code,
            "district_name": p.district.name,
            "target": yuan(p.target_fen),
            "cash": yuan(s.balance(k.BANK)),
            "city_owed": yuan(s.city_owed_fen),
            "city_paid": yuan(s.balance(k.CITY_CONTRIBUTIONS)),
            "district_owed": yuan(s.district_owed_fen),
            "district_paid": yuan(s.balance(k.DISTRICT_CONTRIBUTIONS)),
            "compensation_paid": yuan(s.balance(k.COMPENSATION_PAID)),
            "recoveries": yuan(s.balance(k.RECOVERIES)),
            "service_fees": yuan(s.balance(k.SERVICE_FEES)),
            "bridge_loans_outstanding": yuan(s.balance(k.BRIDGE_LOANS)),
            "claims_waiting": s.waiting_claims,
            "claims_waiting_amount": yuan(s.waiting_fen),
        }


class PostingOut(Schema):
    account: str
    debit: YuanOut
    credit: YuanOut


class EntryOut(Schema):
    id: int
    district_code: str
    entry_date: dt.date
    kind: str
    description: str
    reverses: int | None
    reversed_by: int | None
    postings: list[PostingOut]

    @staticmethod
    def of(e: JournalEntry) -> dict[str, Any]:
        back = getattr(e, "reversed_by", None)
        return {
            "id": e.pk,
            "district_code": e.pool.district.code,
            "entry_date": e.entry_date,
            "kind": e.kind,
            "description": e.description,
            "reverses": e.reverses_id,
            "reversed_by": back.pk if back is not None else None,
            "postings": [
                {
                    "account": p.account.code,
                    "debit": yuan(max(p.amount_fen, 0)),
                    "credit": yuan(max(-p.amount_fen, 0)),
                }
                for p in e.postings.all()
            ],
        }


class ReverseIn(Schema):
    reason: Reason
    on: Day | None = None


class TrialLineOut(Schema):
    account: str
    type: str
    debit: YuanOut
    credit: YuanOut


class TrialBalanceOut(Schema):
    as_of: dt.date | None
    lines: list[TrialLineOut]
    total_debit: YuanOut
    total_credit: YuanOut


class BalancesOut(Schema):
    as_of: dt.date | None
    balances: dict[str, str]  # account -> debit-positive yuan ("-12.00" is a credit)


class ContributionIn(Schema):
    district_id: Id
    contributor: Literal["CITY", "DISTRICT"]
    amount: Yuan
    paid_date: Day
    reference: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = (
        ""
    )


class ContributionOut(Schema):
    id: int
    district_id: int
    contributor: str
    amount: YuanOut
    paid_date: dt.date
    reference: str
    entry_id: int

    @staticmethod
    def of(c: Contribution) -> dict[str, Any]:
        return {
            "id": c.pk,
            "district_id": c.pool.district_id,
            "contributor": c.contributor,
            "amount": yuan(c.amount_fen),
            "paid_date": c.paid_date,
            "reference": c.reference,
            "entry_id": c.entry_id,
        }


class FeeReductionIn(Schema):
    valid_from: Day
    valid_to: Day | None = None
    percent_off: Percent
    reason: Text


class FeeReductionOut(Schema):
    id: int
    valid_from: dt.date
    valid_to: dt.date | None
    percent_off: str
    reason: str

    @staticmethod
    def of(r: FeeReduction) -> dict[str, Any]:
        return {
            "id": r.pk,
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "percent_off": f"{r.percent_off_bp / 100:.2f}",
            "reason": r.reason,
        }


class FeeChargeIn(Schema):
    loan_id: Id | None = None  # one loan, or every loan without a fee yet
    on: Day | None = None


class FeeOut(Schema):
    id: int
    loan_id: int
    district_id: int
    charged_on: dt.date
    base: YuanOut
    rate: str
    reduction_id: int | None
    amount: YuanOut

    @staticmethod
    def of(f: ServiceFee) -> dict[str, Any]:
        return {
            "id": f.pk,
            "loan_id": f.loan_id,
            "district_id": f.pool.district_id,
            "charged_on": f.charged_on,
            "base": yuan(f.base_fen),
            "rate": f.rate,
            "reduction_id": f.reduction_id,
            "amount": yuan(f.amount_fen),
        }


class FeesOut(Schema):
    count: int
    items: list[FeeOut]


class BridgeIn(Schema):
    enterprise_id: Id
    bank_id: Id | None = None
    principal: Yuan
    term_days: int = Field(..., ge=1, le=366)
    on: Day | None = None
    purpose: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


class RepaymentIn(Schema):
    amount: Yuan
    on: Day | None = None


class BridgeOut(Schema):
    id: int
    district_id: int
    enterprise_id: int
    bank_id: int | None
    purpose: str
    principal: YuanOut
    fee: YuanOut
    term_days: int
    lent_on: dt.date
    due_on: dt.date
    repaid_principal: YuanOut
    repaid_fee: YuanOut
    outstanding: YuanOut
    fee_due: YuanOut
    status: str

    @staticmethod
    def of(b: BridgeLoan) -> dict[str, Any]:
        return {
            "id": b.pk,
            "district_id": b.pool.district_id,
            "enterprise_id": b.enterprise_id,
            "bank_id": b.bank_id,
            "purpose": b.purpose,
            "principal": yuan(b.principal_fen),
            "fee": yuan(b.fee_fen),
            "term_days": b.term_days,
            "lent_on": b.lent_on,
            "due_on": b.due_on,
            "repaid_principal": yuan(b.repaid_principal_fen),
            "repaid_fee": yuan(b.repaid_fee_fen),
            "outstanding": yuan(b.outstanding_fen),
            "fee_due": yuan(b.fee_due_fen),
            "status": "REPAID" if b.outstanding_fen == 0 and b.fee_due_fen == 0 else "OUTSTANDING",
        }


class ClaimIn(Schema):
    loan_id: Id
    on: Day | None = None


class NoteIn(Schema):
    note: Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    on: Day | None = None


class CloseIn(Schema):
    outcome: Literal["CLOSED", "WRITTEN_OFF"]
    reason: Reason
    on: Day | None = None


class RecoveryIn(Schema):
    amount: Yuan
    on: Day | None = None


# The claim lifecycle's codes (``fund.domain.claim``) as the API's type: defined there once.
ClaimStatusCode = Literal[tuple(s.value for s in dc.ClaimStatus)]  # type: ignore[valid-type]


class ClaimEventOut(Schema):
    from_status: ClaimStatusCode | Literal[""]
    to_status: ClaimStatusCode
    on_date: dt.date
    note: str
    actor: str


class ClaimOut(Schema):
    id: int
    loan_id: int
    bank_id: int
    district_id: int
    status: ClaimStatusCode
    registered_on: dt.date
    filed_on: dt.date | None
    days_overdue: int
    overdue_principal: YuanOut
    amount: YuanOut
    filed_amount: YuanOut
    checked_by: str | None
    approved_by: str | None
    waiting_for_funds: bool
    waiting_since: dt.date | None
    paid_on: dt.date | None
    payment_entry_id: int | None
    recovered: YuanOut
    pool_recovered: YuanOut
    bank_recovered: YuanOut
    closed_on: dt.date | None
    note: str
    events: list[ClaimEventOut]

    @staticmethod
    def of(c: Claim) -> dict[str, Any]:
        return {
            "id": c.pk,
            "loan_id": c.loan_id,
            "bank_id": c.bank_id,
            "district_id": c.pool.district_id,
            "status": c.status,
            "registered_on": c.registered_on,
            "filed_on": c.filed_on,
            "days_overdue": c.days_overdue,
            "overdue_principal": yuan(c.overdue_principal_fen),
            "amount": yuan(c.amount_fen),
            "filed_amount": yuan(c.filed_amount_fen),
            "checked_by": c.checked_by.username if c.checked_by_id else None,
            "approved_by": c.approved_by.username if c.approved_by_id else None,
            "waiting_for_funds": c.waiting_for_funds,
            "waiting_since": c.waiting_since,
            "paid_on": c.paid_on,
            "payment_entry_id": c.payment_entry_id,
            "recovered": yuan(c.recovered_fen),
            "pool_recovered": yuan(c.pool_recovered_fen),
            "bank_recovered": yuan(c.bank_recovered_fen),
            "closed_on": c.closed_on,
            "note": c.note,
            "events": [
                {
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "on_date": e.on_date,
                    "note": e.note,
                    "actor": e.actor.username,
                }
                for e in c.events.select_related("actor").order_by("id")
            ],
        }


class BreakerChangeOut(Schema):
    id: int
    breaker_id: int
    from_state: str
    to_state: str
    as_of_date: dt.date
    npl_ratio_percent: str
    compensation_ratio_percent: str
    reason: str
    actor: str | None
    changed_at: dt.datetime

    @staticmethod
    def of(ch: BreakerChange) -> dict[str, Any]:
        return {
            "id": ch.pk,
            "breaker_id": ch.breaker_id,
            "from_state": ch.from_state,
            "to_state": ch.to_state,
            "as_of_date": ch.as_of_date,
            "npl_ratio_percent": ch.npl_ratio,
            "compensation_ratio_percent": ch.compensation_ratio,
            "reason": ch.reason,
            "actor": ch.actor.username if ch.actor_id else None,
            "changed_at": ch.changed_at,
        }


class BreakerOut(Schema):
    id: int
    bank_id: int
    district_id: int
    state: str
    as_of_date: dt.date | None
    outstanding: YuanOut
    non_performing: YuanOut
    compensated: YuanOut
    lent: YuanOut

    @staticmethod
    def of(b: Breaker) -> dict[str, Any]:
        return {
            "id": b.pk,
            "bank_id": b.bank_id,
            "district_id": b.district_id,
            "state": b.state,
            "as_of_date": b.as_of_date,
            "outstanding": yuan(b.outstanding_fen),
            "non_performing": yuan(b.non_performing_fen),
            "compensated": yuan(b.compensated_fen),
            "lent": yuan(b.lent_fen),
        }


class LiftIn(Schema):
    reason: Reason
    on: Day | None = None


class RulesOut(Schema):
    rules: dict[str, str]
