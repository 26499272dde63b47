"""REST resources of the fund under /api/v1/fund/: pools, books, contributions, fees, bridge
loans (claims and breakers in ``api_claims``). Thin: parse, call one service or selector,
render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema

from kvcredit import clock
from kvcredit.api.common import Code, Id, PageIn, filtered, idempotent, page, page_schema, yuan
from kvcredit.api.problems import Problem
from kvcredit.errors import InvalidInput, NotFound
from kvcredit.fund import applied, config, selectors, services, settlements, subsidies
from kvcredit.fund.api_claims import router as claims_router
from kvcredit.fund.schemas import (
    BalancesOut,
    BankLimitsOut,
    BridgeIn,
    BridgeOut,
    ContributionIn,
    ContributionOut,
    ContributionsOwedOut,
    Day,
    EntryOut,
    FeeChargeIn,
    FeeOut,
    FeeReductionIn,
    FeeReductionOut,
    FeesOut,
    PartnerSettlementIn,
    PartnerSettlementOut,
    PartnersOwedOut,
    PoolOut,
    PoolTargetIn,
    RepaymentIn,
    ReverseIn,
    RulesOut,
    TrialBalanceOut,
)
from kvcredit.money import yuan_to_fen

router = Router(tags=["fund"])
router.add_router("", claims_router)
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}
IdemKey = Header(None, alias="Idempotency-Key", max_length=100)


def fen(text: str, field: str = "amount") -> int:
    try:
        return yuan_to_fen(text)
    except ValueError:
        msg = _("%(amount)s has more than two decimal places") % {"amount": text}
        raise InvalidInput([(field, msg)]) from None


class AsOf(Schema):
    as_of: Day | None = None


@router.get("/fund/rules", response={200: RulesOut, **ERRORS})
def get_rules(request: HttpRequest, a: Query[AsOf]) -> Any:
    """The fund rules in force on ``as_of`` (default today), from the rulebook in force then
    (its content hash is ``rules.rulebook_hash``)."""
    return {"rules": config.as_dict(config.rules(a.as_of))}


@router.get("/fund/pools", response={200: page_schema(PoolOut), **ERRORS})
def list_pools(request: HttpRequest, p: Query[PageIn], a: Query[AsOf]) -> Any:
    qs = selectors.pools(request.user)
    return page(qs, p, lambda pool: PoolOut.of(selectors.pool_summary(pool, as_of=a.as_of)))


def _pool(request: HttpRequest, district_id: int) -> Any:
    pool = selectors.pools(request.user).filter(district_id=district_id).first()
    if pool is None:
        raise NotFound(_("no pool for this district"), field="district_id")
    return pool


@router.get("/fund/pools/{district_id}", response={200: PoolOut, **ERRORS})
def get_pool(request: HttpRequest, district_id: Path[Id], a: Query[AsOf]) -> Any:
    """A district's pool: cash, target, what the city and the district owe and have paid."""
    return PoolOut.of(selectors.pool_summary(_pool(request, district_id), as_of=a.as_of))


@router.put("/fund/pools/{district_id}/target", response={200: PoolOut, **ERRORS})
def set_target(request: HttpRequest, district_id: Path[Id], payload: PoolTargetIn) -> Any:
    pool = services.set_pool_target(
        request.user, district_id=district_id, target_fen=fen(payload.target, "target")
    )
    return PoolOut.of(selectors.pool_summary(pool))


@router.get(
    "/fund/pools/{district_id}/contributions-owed",
    response={200: ContributionsOwedOut, **ERRORS},
)
def contributions_owed(request: HttpRequest, district_id: Path[Id], a: Query[AsOf]) -> Any:
    """What each contributing party (named as the rulebook in force names it: city and district,
    province and city) has committed to the pool's target, the minimum it pays in at the start,
    the top-up target, what it has paid and what it still owes."""
    pool = _pool(request, district_id)
    on = a.as_of or clock.today()
    rb = applied.rules_on(on)
    return {
        "district_id": pool.district_id,
        "as_of": on,
        "target": yuan(pool.target_fen),
        "min_initial_paid_in": str(rb.fund.min_initial_paid_in),
        "top_up_target": str(rb.fund.top_up_target),
        "parties": [
            {
                "party": r.id,
                "name": r.name,
                "name_zh": r.name_zh,
                "share": str(r.share),
                "recorded_as": r.slot,
                "committed": yuan(r.owed.committed_fen),
                "initial_due": yuan(r.owed.initial_due_fen),
                "top_up_to": yuan(r.owed.top_up_to_fen),
                "paid": yuan(max(r.owed.paid_fen, 0)),
                "initial_owed": yuan(r.owed.initial_owed_fen),
                "owed": yuan(r.owed.top_up_owed_fen),
            }
            for r in applied.owed(pool, on)
        ],
    }


@router.get("/fund/banks/{bank_id}/limits", response={200: BankLimitsOut, **ERRORS})
def bank_limits(request: HttpRequest, bank_id: Path[Id], a: Query[AsOf]) -> Any:
    """A bank's compensation allowance (x% of each loan lent, carried forward, at most y% of its
    balance), its cap per loan and per year and what it has drawn this year, under the
    rulebook in force on ``as_of`` (default today). A bank sees its own."""
    bank = selectors.banks(request.user).filter(pk=bank_id).first()
    if bank is None:
        raise NotFound(_("no such bank"), field="bank_id")
    return BankLimitsOut.of(selectors.bank_limits(bank, a.as_of or clock.today()))


@router.get("/fund/pools/{district_id}/balances", response={200: BalancesOut, **ERRORS})
def pool_balances(request: HttpRequest, district_id: Path[Id], a: Query[AsOf]) -> Any:
    s = selectors.pool_summary(_pool(request, district_id), as_of=a.as_of)
    return {"as_of": a.as_of, "balances": {k: yuan(v) for k, v in s.balances.items()}}


class EntryFilter(Schema):
    district_id: Id | None = None
    kind: Code | None = None  # an entry kind: letters, digits, _ (no NUL reaches the database)
    from_date: Day | None = None
    to_date: Day | None = None


@router.get("/fund/entries", response={200: page_schema(EntryOut), **ERRORS})
def list_entries(request: HttpRequest, p: Query[PageIn], f: Query[EntryFilter]) -> Any:
    qs = filtered(
        selectors.entries(request.user),
        f,
        district_id="pool__district_id",
        from_date="entry_date__gte",
        to_date="entry_date__lte",
    )
    return page(qs, p, EntryOut.of)


def _entry(request: HttpRequest, entry_id: int) -> Any:
    e = selectors.entries(request.user).filter(pk=entry_id).first()
    if e is None:
        raise NotFound(_("no such journal entry"), field="entry_id")
    return e


@router.get("/fund/entries/{entry_id}", response={200: EntryOut, **ERRORS})
def get_entry(request: HttpRequest, entry_id: Path[Id]) -> Any:
    return EntryOut.of(_entry(request, entry_id))


@router.post("/fund/entries/{entry_id}/reverse", response={201: EntryOut, **ERRORS})
def reverse_entry(
    request: HttpRequest,
    entry_id: Path[Id],
    payload: ReverseIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    """Correct an entry by a reversing entry (entries are never edited)."""

    def run() -> tuple[int, Any]:
        _entry(request, entry_id)
        row = services.reverse_entry(
            request.user, entry_id=entry_id, on=payload.on or clock.today(), reason=payload.reason
        )
        return 201, EntryOut.of(_entry(request, row.pk))

    return idempotent(request, idempotency_key, run)


class TrialFilter(Schema):
    as_of: Day | None = None
    district_id: Id | None = None


@router.get("/fund/trial-balance", response={200: TrialBalanceOut, **ERRORS})
def trial_balance(request: HttpRequest, f: Query[TrialFilter]) -> Any:
    """Debit and credit balance of every account of the pools the user sees."""
    lines = selectors.trial_balance(request.user, as_of=f.as_of, district_id=f.district_id)
    return {
        "as_of": f.as_of,
        "lines": [
            {
                "account": x.account,
                "type": x.type.value,
                "debit": yuan(x.debit_fen),
                "credit": yuan(x.credit_fen),
            }
            for x in lines
        ],
        "total_debit": yuan(sum(x.debit_fen for x in lines)),
        "total_credit": yuan(sum(x.credit_fen for x in lines)),
    }


class DistrictFilter(Schema):
    district_id: Id | None = None


@router.get("/fund/contributions", response={200: page_schema(ContributionOut), **ERRORS})
def list_contributions(request: HttpRequest, p: Query[PageIn], f: Query[DistrictFilter]) -> Any:
    qs = filtered(selectors.contributions(request.user), f, district_id="pool__district_id")
    return page(qs, p, ContributionOut.of)


@router.post("/fund/contributions", response={201: ContributionOut, **ERRORS})
def record_contribution(
    request: HttpRequest, payload: ContributionIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        c = services.record_contribution(
            request.user,
            district_id=payload.district_id,
            contributor=payload.contributor,
            amount_fen=fen(payload.amount),
            paid_date=payload.paid_date,
            reference=payload.reference,
        )
        return 201, ContributionOut.of(c)

    return idempotent(request, idempotency_key, run)


@router.get("/fund/fee-reductions", response={200: page_schema(FeeReductionOut), **ERRORS})
def list_fee_reductions(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.fee_reductions(request.user), p, FeeReductionOut.of)


@router.post("/fund/fee-reductions", response={201: FeeReductionOut, **ERRORS})
def add_fee_reduction(
    request: HttpRequest, payload: FeeReductionIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        r = services.add_fee_reduction(
            request.user,
            valid_from=payload.valid_from,
            valid_to=payload.valid_to,
            percent_off=Decimal(payload.percent_off),
            reason=payload.reason,
        )
        return 201, FeeReductionOut.of(r)

    return idempotent(request, idempotency_key, run)


@router.get("/fund/fees", response={200: page_schema(FeeOut), **ERRORS})
def list_fees(request: HttpRequest, p: Query[PageIn], f: Query[DistrictFilter]) -> Any:
    qs = filtered(selectors.fees(request.user), f, district_id="pool__district_id")
    return page(qs, p, FeeOut.of)


@router.post("/fund/fees/charge", response={201: FeesOut, **ERRORS})
def charge_fees(
    request: HttpRequest, payload: FeeChargeIn, idempotency_key: str | None = IdemKey
) -> Any:
    """Charge one loan's service fee, or every loan's that has none yet."""

    def run() -> tuple[int, Any]:
        on = payload.on or clock.today()
        if payload.loan_id is not None:
            done = [services.charge_service_fee(request.user, loan_id=payload.loan_id, on=on)]
        else:
            done = services.charge_service_fees(request.user, on=on)
        return 201, {"count": len(done), "items": [FeeOut.of(x) for x in done]}

    return idempotent(request, idempotency_key, run)


@router.get("/fund/bridge-loans", response={200: page_schema(BridgeOut), **ERRORS})
def list_bridge_loans(request: HttpRequest, p: Query[PageIn], f: Query[DistrictFilter]) -> Any:
    qs = filtered(selectors.bridge_loans(request.user), f, district_id="pool__district_id")
    return page(qs, p, BridgeOut.of)


def _bridge(request: HttpRequest, bridge_id: int) -> Any:
    b = selectors.bridge_loans(request.user).filter(pk=bridge_id).first()
    if b is None:
        raise NotFound(_("no such bridge loan"), field="bridge_id")
    return b


@router.get("/fund/bridge-loans/{bridge_id}", response={200: BridgeOut, **ERRORS})
def get_bridge_loan(request: HttpRequest, bridge_id: Path[Id]) -> Any:
    return BridgeOut.of(_bridge(request, bridge_id))


@router.post("/fund/bridge-loans", response={201: BridgeOut, **ERRORS})
def lend_bridge(
    request: HttpRequest, payload: BridgeIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        b = services.lend_bridge(
            request.user,
            enterprise_id=payload.enterprise_id,
            principal_fen=fen(payload.principal, "principal"),
            term_days=payload.term_days,
            on=payload.on or clock.today(),
            bank_id=payload.bank_id,
            purpose=payload.purpose,
        )
        return 201, BridgeOut.of(b)

    return idempotent(request, idempotency_key, run)


@router.post("/fund/bridge-loans/{bridge_id}/repayments", response={201: BridgeOut, **ERRORS})
def repay_bridge(
    request: HttpRequest,
    bridge_id: Path[Id],
    payload: RepaymentIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        _bridge(request, bridge_id)
        services.repay_bridge(
            request.user,
            bridge_id=bridge_id,
            amount_fen=fen(payload.amount),
            on=payload.on or clock.today(),
        )
        return 201, BridgeOut.of(_bridge(request, bridge_id))

    return idempotent(request, idempotency_key, run)


# -- interest subsidies (贴息) ------------------------------------------------------------------
class SubsidyOut(Schema):
    id: int
    loan_id: int
    instalment_seq: int
    enterprise_id: int
    bank_id: int
    district: str
    rule: str
    rulebook: str
    payer: str
    payee: str
    period_from: dt.date
    due_date: dt.date
    days_in_period: int
    days_in_window: int
    interest_paid: str
    ratio: str
    amount: str
    paid_on: dt.date
    entry_id: int | None
    clawed_back_on: dt.date | None  # taken back: the repayment that paid the interest reversed
    clawback_entry_id: int | None

    @staticmethod
    def of(s: Any) -> dict[str, Any]:
        return {
            "id": s.pk,
            "loan_id": s.loan_id,
            "instalment_seq": s.instalment.seq,
            "enterprise_id": s.enterprise_id,
            "bank_id": s.bank_id,
            "district": s.pool.district.code,
            "rule": s.rule_key,
            "rulebook": s.rulebook,
            "payer": s.payer,
            "payee": s.payee,
            "period_from": s.period_from,
            "due_date": s.due_date,
            "days_in_period": s.days_in_period,
            "days_in_window": s.days_in_window,
            "interest_paid": yuan(s.interest_paid_fen),
            "ratio": s.ratio,
            "amount": yuan(s.amount_fen),
            "paid_on": s.paid_on,
            "entry_id": s.entry_id,
            "clawed_back_on": s.clawed_back_on,
            "clawback_entry_id": s.clawback_entry_id,
        }


class SubsidyFilter(Schema):
    loan_id: Id | None = None
    paid_from: Day | None = None
    paid_to: Day | None = None


@router.get("/fund/subsidies", response={200: page_schema(SubsidyOut), **ERRORS})
def list_subsidies(request: HttpRequest, p: Query[PageIn], f: Query[SubsidyFilter]) -> Any:
    """The interest subsidies the caller may see: an enterprise its own, a bank its loans', a
    district its pool's, the administrator and the trustee all."""
    qs = subsidies.subsidies(request.user).select_related("instalment").order_by("id")
    if f.loan_id is not None:
        qs = qs.filter(loan_id=f.loan_id)
    if f.paid_from is not None:
        qs = qs.filter(paid_on__gte=f.paid_from)
    if f.paid_to is not None:
        qs = qs.filter(paid_on__lte=f.paid_to)
    return page(qs, p, SubsidyOut.of)


@router.get("/fund/pools/{district_id}/partners-owed", response={200: PartnersOwedOut, **ERRORS})
def partners_owed(request: HttpRequest, district_id: Path[Id]) -> Any:
    """What each loss-sharing partner (a guarantee company, an insurer ...) of the pool owes
    of the claims paid, what it has paid in and what the fund has paid on; with the
    settlements recorded. The trustee sees every pool, a district its own."""
    pool, rows = settlements.positions(request.user, district_id=district_id)
    done = pool.partner_settlements.select_related("pool").order_by("settled_on", "id")
    return {
        "district_id": pool.district_id,
        "partners": [
            {
                "party": r["party"],
                "name": r["name"],
                "name_zh": r["name_zh"],
                **{
                    k: yuan(r[f"{k}_fen"])
                    for k in (
                        "shares",
                        "recovered",
                        "received",
                        "paid_out",
                        "refunded",
                        "owed",
                        "refundable",
                        "payable",
                    )
                },
            }
            for r in rows
        ],
        "settlements": [PartnerSettlementOut.of(s) for s in done],
    }


@router.post(
    "/fund/pools/{district_id}/partner-settlements",
    response={201: PartnerSettlementOut, **ERRORS},
)
def settle_partner(
    request: HttpRequest,
    district_id: Path[Id],
    payload: PartnerSettlementIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    """The trustee records a partner's part settled: paid in by the partner (RECEIVED) or paid
    on by the fund (PAID_OUT). The reference is unique: the same request again returns the
    settlement made, without posting twice."""

    def run() -> tuple[int, Any]:
        s = settlements.settle(
            request.user,
            district_id=district_id,
            party=payload.party,
            direction=payload.direction,
            amount_fen=fen(payload.amount),
            on=payload.on,
            reference=payload.reference,
            note=payload.note,
        )
        return 201, PartnerSettlementOut.of(s)

    return idempotent(request, idempotency_key, run)
