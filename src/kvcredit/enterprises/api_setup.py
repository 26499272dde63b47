"""REST resources for programme set-up: districts, banks and their admissions, policies."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router

from kvcredit.api.common import Id, PageIn, idempotent, page, page_schema
from kvcredit.api.problems import Problem
from kvcredit.enterprises import policies, selectors, services
from kvcredit.enterprises.models import ReevaluationJob
from kvcredit.enterprises.schemas import (
    AdmissionIn,
    BankIn,
    BankOut,
    DistrictIn,
    DistrictOut,
    FieldOut,
    PolicyIn,
    PolicyOut,
    PolicySourceOut,
    PublishOut,
    ReevaluationOut,
)
from kvcredit.errors import NotFound

router = Router(tags=["programme"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}
IdemKey = Header(None, alias="Idempotency-Key", max_length=100)


@router.get("/districts", response={200: page_schema(DistrictOut), **ERRORS})
def list_districts(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.districts(request.user), p, DistrictOut.of)


@router.get("/districts/{district_id}", response={200: DistrictOut, **ERRORS})
def get_district(request: HttpRequest, district_id: Path[Id]) -> Any:
    d = selectors.districts(request.user).filter(pk=district_id).first()
    if d is None:
        raise NotFound(_("no such district"), field="district_id")
    return DistrictOut.of(d)


@router.post("/districts", response={201: DistrictOut, **ERRORS})
def create_district(
    request: HttpRequest, payload: DistrictIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        d = services.create_district(request.user, **payload.model_dump())
        return 201, DistrictOut.of(d)

    return idempotent(request, idempotency_key, run)


@router.get("/banks", response={200: page_schema(BankOut), **ERRORS})
def list_banks(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.banks(request.user), p, BankOut.of)


@router.get("/banks/{bank_id}", response={200: BankOut, **ERRORS})
def get_bank(request: HttpRequest, bank_id: Path[Id]) -> Any:
    b = selectors.banks(request.user).filter(pk=bank_id).first()
    if b is None:
        raise NotFound(_("no such bank"), field="bank_id")
    return BankOut.of(b)


@router.post("/banks", response={201: BankOut, **ERRORS})
def create_bank(
    request: HttpRequest, payload: BankIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        b = services.create_bank(request.user, code=payload.code, name=payload.name)
        return 201, BankOut.of(b)

    return idempotent(request, idempotency_key, run)


@router.post("/banks/{bank_id}/districts", response={201: BankOut, **ERRORS})
def admit_bank(
    request: HttpRequest,
    payload: AdmissionIn,
    bank_id: Path[Id],
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        adm = services.admit_bank(request.user, bank_id=bank_id, district_id=payload.district_id)
        return 201, BankOut.of(adm.bank)

    return idempotent(request, idempotency_key, run)


@router.get("/policies", response={200: page_schema(PolicyOut), **ERRORS})
def list_policies(request: HttpRequest, p: Query[PageIn]) -> Any:
    current = selectors.current_policy()
    cid = current.id if current else None
    return page(selectors.policies(request.user), p, lambda x: PolicyOut.of(x, cid))


@router.get("/policies/current/fields", response={200: list[FieldOut], **ERRORS})
def current_policy_fields(request: HttpRequest) -> Any:
    """The fields the policy in force declares beyond the data dictionary: give them in a
    submission's ``data.extra`` (empty when no policy is published or it declares none)."""
    return [FieldOut.of(f) for f in selectors.current_declared_fields(request.user)]


@router.get("/policies/{policy_pk}", response={200: PolicySourceOut, **ERRORS})
def get_policy(request: HttpRequest, policy_pk: Path[Id]) -> Any:
    pol = selectors.policies(request.user).filter(pk=policy_pk).first()
    if pol is None:
        raise NotFound(_("no such policy"), field="policy_pk")
    current = selectors.current_policy()
    return {**PolicyOut.of(pol, current.id if current else None), "source_toml": pol.source_toml}


@router.post("/policies", response={201: PublishOut, **ERRORS})
def publish_policy(
    request: HttpRequest, payload: PolicyIn, idempotency_key: str | None = IdemKey
) -> Any:
    """Publish a policy; every enterprise is re-evaluated by the job this answers (poll it)."""

    def run() -> tuple[int, Any]:
        pol, job = policies.publish_and_queue(request.user, source_toml=payload.source_toml)
        rj = ReevaluationJob.objects.get(policy=pol)
        return 201, {
            **PolicyOut.of(pol, pol.id),
            "reevaluation": ReevaluationOut.of(rj),
            "job_id": job.pk,
        }

    return idempotent(request, idempotency_key, run)


@router.get("/reevaluations", response={200: page_schema(ReevaluationOut), **ERRORS})
def list_reevaluations(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.reevaluations(request.user), p, ReevaluationOut.of)


@router.get("/reevaluations/{job_id}", response={200: ReevaluationOut, **ERRORS})
def get_reevaluation(request: HttpRequest, job_id: Path[Id]) -> Any:
    job = selectors.reevaluations(request.user).filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("no such re-evaluation job"), field="job_id")
    return ReevaluationOut.of(job)
