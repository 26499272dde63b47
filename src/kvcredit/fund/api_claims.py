"""REST resources of compensation claims and circuit breakers under /api/v1/fund/."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema

from kvcredit import clock
from kvcredit.api.common import Code, Id, PageIn, filtered, idempotent, page, page_schema
from kvcredit.api.problems import Problem
from kvcredit.errors import InvalidInput, NotFound
from kvcredit.fund import breakers, claims, selectors
from kvcredit.fund.schemas import (
    BreakerChangeOut,
    BreakerOut,
    ClaimIn,
    ClaimOut,
    ClaimStatusCode,
    CloseIn,
    Day,
    LiftIn,
    NoteIn,
    OnIn,
    RecoveryIn,
)
from kvcredit.money import yuan_to_fen

router = Router(tags=["fund claims and breakers"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}
IdemKey = Header(None, alias="Idempotency-Key", max_length=100)


class ClaimFilter(Schema):
    status: ClaimStatusCode | None = None
    district_id: Id | None = None
    bank_id: Id | None = None
    waiting: bool | None = None


@router.get("/fund/claims", response={200: page_schema(ClaimOut), **ERRORS})
def list_claims(request: HttpRequest, p: Query[PageIn], f: Query[ClaimFilter]) -> Any:
    qs = filtered(selectors.claims(request.user), f, district_id="pool__district_id", waiting=None)
    if f.waiting is not None:
        waiting = selectors.waiting_for_funds()
        qs = qs.filter(waiting) if f.waiting else qs.exclude(waiting)
    return page(qs, p, ClaimOut.of)


def _claim(request: HttpRequest, claim_id: int) -> Any:
    c = selectors.claims(request.user).filter(pk=claim_id).first()
    if c is None:
        raise NotFound(_("no such claim"), field="claim_id")
    return c


@router.get("/fund/claims/{claim_id}", response={200: ClaimOut, **ERRORS})
def get_claim(request: HttpRequest, claim_id: Path[Id]) -> Any:
    return ClaimOut.of(_claim(request, claim_id))


@router.post("/fund/claims", response={201: ClaimOut, **ERRORS})
def register_claim(
    request: HttpRequest, payload: ClaimIn, idempotency_key: str | None = IdemKey
) -> Any:
    """The bank registers an overdue loan (the first step of a claim)."""

    def run() -> tuple[int, Any]:
        c = claims.register(request.user, loan_id=payload.loan_id, on=payload.on or clock.today())
        return 201, ClaimOut.of(_claim(request, c.pk))

    return idempotent(request, idempotency_key, run)


def _step(request: HttpRequest, claim_id: int, key: str | None, do: Any) -> Any:
    def run() -> tuple[int, Any]:
        _claim(request, claim_id)
        c = do()
        status = 202 if c.waiting_for_funds else 200
        return status, ClaimOut.of(_claim(request, claim_id))

    return idempotent(request, key, run)


@router.post("/fund/claims/{claim_id}/file", response={200: ClaimOut, **ERRORS})
def file_claim(
    request: HttpRequest, claim_id: Path[Id], payload: OnIn, idempotency_key: str | None = IdemKey
) -> Any:
    """The bank files the claim: the fund's share of the overdue principal."""
    on = payload.on or clock.today()
    return _step(
        request,
        claim_id,
        idempotency_key,
        lambda: claims.file(request.user, claim_id=claim_id, on=on),
    )


@router.post("/fund/claims/{claim_id}/check", response={200: ClaimOut, **ERRORS})
def check_claim(
    request: HttpRequest, claim_id: Path[Id], payload: NoteIn, idempotency_key: str | None = IdemKey
) -> Any:
    """A trustee user checks the claim (maker)."""
    on = payload.on or clock.today()
    return _step(
        request,
        claim_id,
        idempotency_key,
        lambda: claims.check(request.user, claim_id=claim_id, on=on, note=payload.note),
    )


@router.post("/fund/claims/{claim_id}/pay", response={200: ClaimOut, 202: ClaimOut, **ERRORS})
def pay_claim(
    request: HttpRequest, claim_id: Path[Id], payload: OnIn, idempotency_key: str | None = IdemKey
) -> Any:
    """Another trustee user approves and pays (checker). 202: the pool cannot cover the claim
    now; it waits (``waiting_for_funds``) and is paid by a later call."""
    on = payload.on or clock.today()
    return _step(
        request,
        claim_id,
        idempotency_key,
        lambda: claims.pay(request.user, claim_id=claim_id, on=on),
    )


@router.post("/fund/claims/{claim_id}/recoveries", response={200: ClaimOut, **ERRORS})
def record_recovery(
    request: HttpRequest,
    claim_id: Path[Id],
    payload: RecoveryIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    """An amount recovered from the borrower, shared pool : bank as compensation was."""
    try:
        amount = yuan_to_fen(payload.amount)
    except ValueError:
        msg = _("%(amount)s has more than two decimal places") % {"amount": payload.amount}
        raise InvalidInput([("amount", msg)]) from None
    on = payload.on or clock.today()
    return _step(
        request,
        claim_id,
        idempotency_key,
        lambda: claims.recover(request.user, claim_id=claim_id, amount_fen=amount, on=on).claim,
    )


@router.post("/fund/claims/{claim_id}/recovery-concluded", response={200: ClaimOut, **ERRORS})
def conclude_recovery(
    request: HttpRequest, claim_id: Path[Id], payload: NoteIn, idempotency_key: str | None = IdemKey
) -> Any:
    """A trustee user records that the recovery proceedings concluded: a last stage waiting
    for them becomes payable (its amount settled on the recoveries received when paid)."""
    on = payload.on or clock.today()
    return _step(
        request,
        claim_id,
        idempotency_key,
        lambda: claims.conclude_recovery(request.user, claim_id=claim_id, on=on, note=payload.note),
    )


@router.post("/fund/claims/{claim_id}/close", response={200: ClaimOut, **ERRORS})
def close_claim(
    request: HttpRequest,
    claim_id: Path[Id],
    payload: CloseIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    on = payload.on or clock.today()
    return _step(
        request,
        claim_id,
        idempotency_key,
        lambda: claims.close(
            request.user,
            claim_id=claim_id,
            on=on,
            written_off=payload.outcome == "WRITTEN_OFF",
            reason=payload.reason,
        ),
    )


@router.post("/fund/claims/{claim_id}/reject", response={200: ClaimOut, **ERRORS})
def reject_claim(
    request: HttpRequest, claim_id: Path[Id], payload: LiftIn, idempotency_key: str | None = IdemKey
) -> Any:
    on = payload.on or clock.today()
    return _step(
        request,
        claim_id,
        idempotency_key,
        lambda: claims.reject(request.user, claim_id=claim_id, on=on, reason=payload.reason),
    )


class BreakerFilter(Schema):
    state: Code | None = None
    bank_id: Id | None = None
    district_id: Id | None = None


@router.get("/fund/breakers", response={200: page_schema(BreakerOut), **ERRORS})
def list_breakers(request: HttpRequest, p: Query[PageIn], f: Query[BreakerFilter]) -> Any:
    return page(filtered(selectors.breakers(request.user), f), p, BreakerOut.of)


def _breaker(request: HttpRequest, breaker_id: int) -> Any:
    b = selectors.breakers(request.user).filter(pk=breaker_id).first()
    if b is None:
        raise NotFound(_("no such breaker"), field="breaker_id")
    return b


class RunIn(Schema):
    as_of: Day | None = None


# (before /fund/breakers/{breaker_id}, which would otherwise take the path 'run')
@router.post("/fund/breakers/run", response={200: page_schema(BreakerChangeOut), **ERRORS})
def run_breakers(request: HttpRequest, payload: RunIn) -> Any:
    """The trustee recomputes every breaker from the loan book (the end of day does it too)."""
    changes = breakers.recompute(request.user, as_of=payload.as_of or clock.today())
    return {"count": len(changes), "items": [BreakerChangeOut.of(c) for c in changes]}


@router.get("/fund/breakers/{breaker_id}", response={200: BreakerOut, **ERRORS})
def get_breaker(request: HttpRequest, breaker_id: Path[Id]) -> Any:
    return BreakerOut.of(_breaker(request, breaker_id))


@router.get(
    "/fund/breakers/{breaker_id}/changes", response={200: page_schema(BreakerChangeOut), **ERRORS}
)
def breaker_history(request: HttpRequest, breaker_id: Path[Id], p: Query[PageIn]) -> Any:
    """Every change of the breaker's state, oldest first."""
    b = _breaker(request, breaker_id)
    qs = selectors.breaker_changes(request.user).filter(breaker=b).select_related("actor")
    return page(qs, p, BreakerChangeOut.of)


@router.post("/fund/breakers/{breaker_id}/lift", response={200: BreakerOut, **ERRORS})
def lift_breaker(
    request: HttpRequest,
    breaker_id: Path[Id],
    payload: LiftIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    """The trustee lifts a suspension, with a written reason."""

    def run() -> tuple[int, Any]:
        _breaker(request, breaker_id)
        b = breakers.lift(
            request.user,
            breaker_id=breaker_id,
            on=payload.on or clock.today(),
            reason=payload.reason,
        )
        return 200, BreakerOut.of(b)

    return idempotent(request, idempotency_key, run)
