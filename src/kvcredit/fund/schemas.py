"""API schemas of the fund: money as yuan text (two decimals), dates ISO."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import StringConstraints

from kvcredit.api.common import Id, Text, Yuan, YuanOut, yuan
from kvcredit.fund import selectors
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import compensation as dcomp
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
    cut: str  # the share of the fee taken off (exact decimal text; "" for none)
    cut_reason: str
    waived: bool
    payer: str
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
            "cut": f.cut,
            "cut_reason": f.cut_reason,
            "waived": f.waived,
            "payer": f.payer,
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


class ClaimStageOut(Schema):
    seq: int  # 1-based
    share: str
    amount: YuanOut  # planned at the first payment; once paid, what was paid
    due_on: dt.date  # the end of its lock-in, or its not-before date
    not_before: dt.date | None
    after_recovery_concluded: bool  # it waits for the recovery proceedings too
    payable_since: dt.date | None  # when it became payable (None: waits for the proceedings)
    paid_on: dt.date | None
    entry_id: int | None
    rulebook_hash: str


class LossShareOut(Schema):
    """A party's part of the claim's loss (``recovery_id`` null) or of a recovery."""

    party: str
    name: str
    name_zh: str
    share: str
    amount: YuanOut
    recovery_id: int | None
    entry_id: int | None


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
    share: YuanOut  # the fund's part of the loss, before caps
    limited_by: list[str]  # the caps that bound the amount (PER_LOAN, BANK_YEAR, ALLOWANCE)
    stages_total: int
    stages_paid: int
    recovery_concluded_on: dt.date | None  # the trustee recorded the proceedings' end
    paid: YuanOut  # the stages paid so far
    partner_recovered: YuanOut
    stages: list[ClaimStageOut]
    loss_shares: list[LossShareOut]
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
            "share": yuan(c.share_fen),
            "limited_by": [x for x in c.limited_by.split(",") if x],
            "stages_total": c.stages_total,
            "stages_paid": c.stages_paid,
            "recovery_concluded_on": c.recovery_concluded_on,
            "paid": yuan(c.paid_fen),
            "partner_recovered": yuan(c.partner_recovered_fen),
            "stages": [
                {
                    "seq": st.seq + 1,
                    "share": st.share,
                    "amount": yuan(st.amount_fen),
                    "due_on": st.due_on,
                    "not_before": st.not_before,
                    "after_recovery_concluded": st.after_recovery_concluded,
                    "payable_since": None
                    if st.seq == 0
                    else dcomp.payable_since(
                        due_on=st.due_on,
                        after_recovery_concluded=st.after_recovery_concluded,
                        recovery_concluded_on=c.recovery_concluded_on,
                    ),
                    "paid_on": st.paid_on,
                    "entry_id": st.entry_id,
                    "rulebook_hash": st.rulebook_hash,
                }
                for st in c.stages.order_by("seq")
            ],
            "loss_shares": [
                {
                    "party": ls.party,
                    "name": ls.name,
                    "name_zh": ls.name_zh,
                    "share": ls.share,
                    "amount": yuan(ls.amount_fen),
                    "recovery_id": ls.recovery_id,
                    "entry_id": ls.entry_id,
                }
                for ls in c.loss_shares.order_by("recovery_id", "id")
            ],
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


class BankLimitsOut(Schema):
    """A bank's compensation limits on ``as_of`` under the rulebook in force then: the allowance
    (null fields where the rulebook has none), the cap per loan and per bank a year."""

    bank_id: int
    bank_code: str
    as_of: dt.date
    rulebook_hash: str
    allowance_applies: bool
    allowance_pct_of_loan: str | None
    allowance_cap_pct_of_balance: str | None
    allowance_carry_forward: bool
    allowance_accrued: YuanOut | None
    allowance_used: YuanOut | None
    allowance_carried: YuanOut | None
    allowance_cap: YuanOut | None
    allowance_available: YuanOut | None
    cap_per_loan: YuanOut | None
    cap_per_bank_per_year: YuanOut | None
    paid_this_year: YuanOut
    left_this_year: YuanOut | None

    @staticmethod
    def of(b: selectors.BankLimits) -> dict[str, Any]:
        a = b.allowance

        def opt(fen: int | None) -> str | None:
            return None if fen is None else yuan(fen)

        return {
            "bank_id": b.bank.pk,
            "bank_code": b.bank.code,
            "as_of": b.on,
            "rulebook_hash": b.rulebook_hash,
            "allowance_applies": a is not None,
            "allowance_pct_of_loan": None if b.pct_of_loan is None else str(b.pct_of_loan),
            "allowance_cap_pct_of_balance": (
                None if b.cap_pct_of_balance is None else str(b.cap_pct_of_balance)
            ),
            "allowance_carry_forward": b.carry_forward,
            "allowance_accrued": opt(a and a.accrued_fen),
            "allowance_used": opt(a and a.used_fen),
            "allowance_carried": opt(a and a.carried_fen),
            "allowance_cap": opt(a and a.cap_fen),
            "allowance_available": opt(a and a.available_fen),
            "cap_per_loan": opt(b.cap_per_loan_fen),
            "cap_per_bank_per_year": opt(b.cap_per_bank_per_year_fen),
            "paid_this_year": yuan(b.year_paid_fen),
            "left_this_year": opt(b.year_left_fen),
        }


class PartyOwedOut(Schema):
    """A contributing party as the rulebook names it, and what it owes its pool."""

    party: str
    name: str
    name_zh: str
    share: str
    recorded_as: str  # the contributor code its payments are recorded under
    committed: YuanOut
    initial_due: YuanOut
    top_up_to: YuanOut
    paid: YuanOut
    initial_owed: YuanOut
    owed: YuanOut


class ContributionsOwedOut(Schema):
    district_id: int
    as_of: dt.date
    target: YuanOut
    min_initial_paid_in: str
    top_up_target: str
    parties: list[PartyOwedOut]


Ref = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")
]


class PartnerSettlementIn(Schema):
    party: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    direction: Literal["RECEIVED", "PAID_OUT", "REFUNDED"]
    amount: Yuan
    on: Day
    reference: Ref
    note: Annotated[str, StringConstraints(max_length=300)] = ""


class PartnerSettlementOut(Schema):
    id: int
    district_id: int
    party: str
    direction: str
    amount: YuanOut
    on: dt.date
    reference: str
    entry_id: int
    rulebook_hash: str

    @staticmethod
    def of(s: Any) -> dict[str, Any]:
        return {
            "id": s.pk,
            "district_id": s.pool.district_id,
            "party": s.party,
            "direction": s.direction,
            "amount": yuan(s.amount_fen),
            "on": s.settled_on.isoformat(),
            "reference": s.reference,
            "entry_id": s.entry_id,
            "rulebook_hash": s.rulebook_hash,
        }


class PartnerOwedOut(Schema):
    party: str
    name: str
    name_zh: str
    shares: YuanOut  # its parts of paid losses
    recovered: YuanOut  # its parts of recoveries
    received: YuanOut  # what it has paid in
    paid_out: YuanOut  # what of it the fund has paid on
    refunded: YuanOut  # what the fund paid it back of later recoveries
    owed: YuanOut  # what it still owes
    refundable: YuanOut  # what the fund owes it back
    payable: YuanOut  # what the fund may pay on now


class PartnersOwedOut(Schema):
    district_id: int
    partners: list[PartnerOwedOut]
    settlements: list[PartnerSettlementOut]
