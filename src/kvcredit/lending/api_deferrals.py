"""REST resources for forbearance: an enterprise's deferral requests and the bank's decision.

    GET  /loans/{id}/deferrals          the loan's requests (and the rules it may ask under)
    POST /loans/{id}/deferrals          request a deferral under a rule (enterprise; bank: paper)
    POST /deferrals/{id}/grant          the bank grants: the plan is re-cut
    POST /deferrals/{id}/refuse         the bank refuses, saying why
    POST /deferrals/{id}/withdraw       the enterprise withdraws its request

Thin: parse, call one service or selector, render. A loan outside the caller's scope is 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Path, Router, Schema

from kvcredit import clock
from kvcredit.api.common import Id, idempotent
from kvcredit.api.problems import Problem
from kvcredit.errors import NotFound
from kvcredit.lending import deferrals, selectors
from kvcredit.lending.models import Deferral
from kvcredit.lending.schemas import Note

router = Router(tags=["deferrals"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}
IdemKey = Header(None, alias="Idempotency-Key", max_length=100)


class DeferralIn(Schema):
    rule: str
    reason: Note


class RefuseIn(Schema):
    reason: Note


class DeferralOut(Schema):
    id: int
    loan_id: int
    status: str
    rule: str
    rulebook: str
    defer_to: dt.date
    defers: str
    interest_accrues: bool
    penalty_waived: bool
    dpd_paused: bool
    watch_days: int
    reason: str
    requested_on: dt.date
    decided_on: dt.date | None
    refuse_reason: str
    plan_before: list[list[Any]]
    plan_after: list[list[Any]]

    @staticmethod
    def of(d: Deferral) -> dict[str, Any]:
        out = {f: getattr(d, f) for f in DeferralOut.model_fields if hasattr(d, f)}
        return out | {"rule": d.rule_key}


class RuleOut(Schema):
    key: str
    name: str
    defer_to: dt.date


class LoanDeferralsOut(Schema):
    deferrals: list[DeferralOut]
    eligible_rules: list[RuleOut]


def _loan(request: HttpRequest, loan_id: int) -> Any:
    loan = selectors.loans(request.user).select_related("district").filter(pk=loan_id).first()
    if loan is None:
        raise NotFound(_("no such loan"), field="loan_id")
    return loan


@router.get("/loans/{loan_id}/deferrals", response={200: LoanDeferralsOut, **ERRORS})
def list_deferrals(request: HttpRequest, loan_id: Path[Id]) -> Any:
    loan = _loan(request, loan_id)
    rules = deferrals.eligible_rules(loan, clock.today())
    return {
        "deferrals": [DeferralOut.of(d) for d in loan.deferrals.order_by("id")],
        "eligible_rules": [{"key": r.key, "name": r.name, "defer_to": r.defer_to} for r in rules],
    }


@router.post("/loans/{loan_id}/deferrals", response={201: DeferralOut, **ERRORS})
def request_deferral(
    request: HttpRequest,
    loan_id: Path[Id],
    payload: DeferralIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        d = deferrals.request(
            request.user,
            loan_id=loan_id,
            rule=payload.rule,
            reason=payload.reason,
            today=clock.today(),
        )
        return 201, DeferralOut.of(d)

    return idempotent(request, idempotency_key, run)


@router.post("/deferrals/{deferral_id}/grant", response={200: DeferralOut, **ERRORS})
def grant(
    request: HttpRequest, deferral_id: Path[Id], idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        d = deferrals.grant(request.user, deferral_id=deferral_id, today=clock.today())
        return 200, DeferralOut.of(d)

    return idempotent(request, idempotency_key, run)


@router.post("/deferrals/{deferral_id}/refuse", response={200: DeferralOut, **ERRORS})
def refuse(
    request: HttpRequest,
    deferral_id: Path[Id],
    payload: RefuseIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        d = deferrals.refuse(
            request.user, deferral_id=deferral_id, reason=payload.reason, today=clock.today()
        )
        return 200, DeferralOut.of(d)

    return idempotent(request, idempotency_key, run)


@router.post("/deferrals/{deferral_id}/withdraw", response={200: DeferralOut, **ERRORS})
def withdraw(
    request: HttpRequest, deferral_id: Path[Id], idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        return 200, DeferralOut.of(deferrals.withdraw(request.user, deferral_id=deferral_id))

    return idempotent(request, idempotency_key, run)
