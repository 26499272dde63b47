"""REST resources for the enterprise registry: enterprises, submissions, evaluations, lines."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema

from kvcredit import clock
from kvcredit.api.common import Id, PageIn, Text, filtered, idempotent, one, page, page_schema
from kvcredit.api.problems import Problem
from kvcredit.enterprises import selectors, services
from kvcredit.enterprises.schemas import (
    CreditLineOut,
    EnterpriseIn,
    EnterpriseOut,
    EvaluationOut,
    SubmissionIn,
    SubmissionOut,
    Uscc,
    Year,
)
from kvcredit.errors import NotFound

router = Router(tags=["enterprises"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}
IdemKey = Header(None, alias="Idempotency-Key", max_length=100)


class EnterpriseFilter(Schema):
    district_id: Id | None = None
    uscc: Uscc | None = None
    name_contains: Text | None = None


@router.get("/enterprises", response={200: page_schema(EnterpriseOut), **ERRORS})
def list_enterprises(request: HttpRequest, p: Query[PageIn], f: Query[EnterpriseFilter]) -> Any:
    qs = filtered(selectors.enterprises(request.user), f, uscc=None, name_contains="name__contains")
    if f.uscc is not None:
        qs = qs.filter(uscc=f.uscc.upper())
    return page(qs, p, EnterpriseOut.of)


@router.post("/enterprises", response={201: EnterpriseOut, **ERRORS})
def register_enterprise(
    request: HttpRequest, payload: EnterpriseIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        ent = services.register_enterprise(
            request.user, uscc=payload.uscc, name=payload.name, district_id=payload.district_id
        )
        return 201, EnterpriseOut.of(ent)

    return idempotent(request, idempotency_key, run)


def _enterprise(request: HttpRequest, enterprise_id: int) -> Any:
    ent = one(selectors.enterprises(request.user).filter(pk=enterprise_id))
    if ent is None:
        raise NotFound(_("no such enterprise"), field="enterprise_id")
    return ent


@router.get("/enterprises/{enterprise_id}", response={200: EnterpriseOut, **ERRORS})
def get_enterprise(request: HttpRequest, enterprise_id: Path[Id]) -> Any:
    return EnterpriseOut.of(_enterprise(request, enterprise_id))


class SubmissionFilter(Schema):
    year: Year | None = None


@router.get(
    "/enterprises/{enterprise_id}/submissions", response={200: page_schema(SubmissionOut), **ERRORS}
)
def list_submissions(
    request: HttpRequest,
    p: Query[PageIn],
    f: Query[SubmissionFilter],
    enterprise_id: Path[Id],
) -> Any:
    qs = selectors.submissions(request.user).filter(enterprise_id=enterprise_id)
    if (
        not qs.exists()
        and selectors.enterprises(request.user).filter(pk=enterprise_id).count() == 0
    ):
        raise NotFound(_("no such enterprise"), field="enterprise_id")
    return page(filtered(qs, f), p, SubmissionOut.of)


@router.post("/enterprises/{enterprise_id}/submissions", response={201: SubmissionOut, **ERRORS})
def submit_data(
    request: HttpRequest,
    payload: SubmissionIn,
    enterprise_id: Path[Id],
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        values = payload.data.model_dump(exclude_none=True)
        sub, ev = services.submit_data(
            request.user, enterprise_id=enterprise_id, year=payload.year, values=values
        )
        return 201, SubmissionOut.of(sub, ev)

    return idempotent(request, idempotency_key, run)


@router.get("/submissions/{submission_id}", response={200: SubmissionOut, **ERRORS})
def get_submission(request: HttpRequest, submission_id: Path[Id]) -> Any:
    sub = one(selectors.submissions(request.user).filter(pk=submission_id))
    if sub is None:
        raise NotFound(_("no such submission"), field="submission_id")
    return SubmissionOut.of(sub)


class EvaluationFilter(Schema):
    enterprise_id: Id | None = None
    grade: Text | None = None
    eligible: bool | None = None


@router.get("/evaluations", response={200: page_schema(EvaluationOut), **ERRORS})
def list_evaluations(request: HttpRequest, p: Query[PageIn], f: Query[EvaluationFilter]) -> Any:
    qs = filtered(selectors.evaluations(request.user), f)
    user = request.user
    return page(qs, p, lambda ev: EvaluationOut.of(ev, selectors.explanation(user, ev)))


@router.get("/evaluations/{evaluation_id}", response={200: EvaluationOut, **ERRORS})
def get_evaluation(request: HttpRequest, evaluation_id: Path[Id]) -> Any:
    qs = (
        selectors.evaluations(request.user)
        .select_related("policy", "submission")
        .defer("policy__source_toml")
    )
    ev = one(qs.filter(pk=evaluation_id))
    if ev is None:
        raise NotFound(_("no such evaluation"), field="evaluation_id")
    return EvaluationOut.of(ev, selectors.explanation(request.user, ev, suggest=True))


class CreditLineFilter(Schema):
    district_id: Id | None = None
    enterprise_id: Id | None = None
    uscc: Uscc | None = None


@router.get("/credit-lines", response={200: page_schema(CreditLineOut), **ERRORS})
def list_credit_lines(request: HttpRequest, p: Query[PageIn], f: Query[CreditLineFilter]) -> Any:
    qs = filtered(
        selectors.credit_lines(request.user), f, district_id="enterprise__district_id", uscc=None
    )
    if f.uscc is not None:
        qs = qs.filter(enterprise__uscc=f.uscc.upper())
    today = clock.today()
    return page(qs, p, lambda c: CreditLineOut.of(c, today))


# What CreditLineOut shows of a line: the enterprise's USCC and district id, no district row.
_LINE_READ = (
    *("id", "enterprise", "evaluation", "limit_fen", "reserved_fen", "used_fen"),
    *("valid_until", "updated_at", "enterprise__uscc", "enterprise__district"),
)


def _for_reading(qs: Any) -> Any:
    """One credit line's query narrowed to what its API shape reads (one join, few columns):
    the scope's filters stay as the selector wrote them."""
    return qs.select_related(None).select_related("enterprise").only(*_LINE_READ)


@router.get("/credit-lines/{credit_line_id}", response={200: CreditLineOut, **ERRORS})
def get_credit_line(request: HttpRequest, credit_line_id: Path[Id]) -> Any:
    line = one(_for_reading(selectors.credit_lines(request.user)).filter(pk=credit_line_id))
    if line is None:
        raise NotFound(_("no such credit line"), field="credit_line_id")
    return CreditLineOut.of(line, clock.today())


@router.get("/enterprises/{enterprise_id}/credit-line", response={200: CreditLineOut, **ERRORS})
def get_enterprise_credit_line(request: HttpRequest, enterprise_id: Path[Id]) -> Any:
    qs = _for_reading(selectors.credit_lines(request.user))
    line = one(qs.filter(enterprise_id=enterprise_id))
    if line is None:
        raise NotFound(_("no such enterprise"), field="enterprise_id")
    return CreditLineOut.of(line, clock.today())
