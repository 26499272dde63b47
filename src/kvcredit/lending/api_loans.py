"""REST resources for lending: products, suspensions, applications, loans, repayments,
commercial loans, end-of-day runs. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import File, Header, Path, Query, Router, UploadedFile

from kvcredit import clock
from kvcredit.api.common import (
    Id,
    PageIn,
    content_hash,
    filtered,
    idempotent,
    page,
    page_schema,
)
from kvcredit.api.problems import Problem
from kvcredit.errors import InvalidInput, NotFound
from kvcredit.lending import loans, repayments, selectors, services
from kvcredit.lending.repayment_import import import_repayment_file
from kvcredit.lending.schemas import (
    ApplicationFilter,
    ApplicationIn,
    ApplicationOut,
    ApproveIn,
    CommercialIn,
    CommercialOut,
    DisburseIn,
    EodRunOut,
    ImportOut,
    InstalmentOut,
    LiftIn,
    LoanFilter,
    LoanOut,
    ProductIn,
    ProductOut,
    ProductUpdate,
    RejectIn,
    RepaymentFilter,
    RepaymentIn,
    RepaymentOut,
    ReverseIn,
    SuspensionIn,
    SuspensionOut,
)
from kvcredit.money import yuan_to_fen

router = Router(tags=["loans"])


ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}


IdemKey = Header(None, alias="Idempotency-Key", max_length=100)


def _fen(text: str) -> int:
    return yuan_to_fen(Decimal(text))


NO_SUCH = {
    "product": gettext_noop("no such product"),
    "application": gettext_noop("no such application"),
    "loan": gettext_noop("no such loan"),
    "repayment": gettext_noop("no such repayment"),
}


def _get(qs: Any, pk: int, what: str) -> Any:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(_(NO_SUCH[what]), field=f"{what}_id")
    return obj


@router.get("/products", response={200: page_schema(ProductOut), **ERRORS})
def list_products(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.products(request.user), p, ProductOut.of)


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS})
def get_product(request: HttpRequest, product_id: Path[Id]) -> Any:
    return ProductOut.of(_get(selectors.products(request.user), product_id, "product"))


@router.post("/products", response={201: ProductOut, **ERRORS})
def create_product(
    request: HttpRequest, payload: ProductIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        return 201, ProductOut.of(services.create_product(request.user, **payload.model_dump()))

    return idempotent(request, idempotency_key, run)


@router.post("/products/{product_id}", response={200: ProductOut, **ERRORS})
def update_product(
    request: HttpRequest,
    product_id: Path[Id],
    payload: ProductUpdate,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        p = services.update_product(request.user, product_id=product_id, **payload.model_dump())
        return 200, ProductOut.of(p)

    return idempotent(request, idempotency_key, run)


@router.get("/suspensions", response={200: page_schema(SuspensionOut), **ERRORS})
def list_suspensions(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.suspensions(request.user), p, SuspensionOut.of)


@router.post("/suspensions", response={201: SuspensionOut, **ERRORS})
def suspend(
    request: HttpRequest, payload: SuspensionIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        return 201, SuspensionOut.of(services.suspend_bank(request.user, **payload.model_dump()))

    return idempotent(request, idempotency_key, run)


@router.post("/suspensions/{suspension_id}/lift", response={200: SuspensionOut, **ERRORS})
def lift(
    request: HttpRequest,
    suspension_id: Path[Id],
    payload: LiftIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        s = services.lift_suspension(
            request.user, suspension_id=suspension_id, to_date=payload.to_date
        )
        return 200, SuspensionOut.of(s)

    return idempotent(request, idempotency_key, run)


@router.get("/applications", response={200: page_schema(ApplicationOut), **ERRORS})
def list_applications(request: HttpRequest, p: Query[PageIn], f: Query[ApplicationFilter]) -> Any:
    qs = filtered(selectors.applications(request.user), f).annotate(loan_ref=F("loan__id"))
    return page(qs, p, ApplicationOut.of)


@router.get("/applications/{application_id}", response={200: ApplicationOut, **ERRORS})
def get_application(request: HttpRequest, application_id: Path[Id]) -> Any:
    return ApplicationOut.of(
        _get(selectors.applications(request.user), application_id, "application")
    )


@router.post("/applications", response={201: ApplicationOut, **ERRORS})
def apply(
    request: HttpRequest, payload: ApplicationIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        values = payload.model_dump()
        values["amount_fen"] = _fen(values.pop("amount"))
        app = loans.apply(request.user, today=clock.today(), **values)
        return 201, ApplicationOut.of(app)

    return idempotent(request, idempotency_key, run)


@router.post("/applications/{application_id}/approve", response={200: ApplicationOut, **ERRORS})
def approve(
    request: HttpRequest,
    application_id: Path[Id],
    payload: ApproveIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        app = loans.approve(
            request.user,
            application_id=application_id,
            amount_fen=_fen(payload.amount),
            today=clock.today(),
        )
        return 200, ApplicationOut.of(app)

    return idempotent(request, idempotency_key, run)


@router.post("/applications/{application_id}/reject", response={200: ApplicationOut, **ERRORS})
def reject(
    request: HttpRequest,
    application_id: Path[Id],
    payload: RejectIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        app = loans.reject(request.user, application_id=application_id, reason=payload.reason)
        return 200, ApplicationOut.of(app)

    return idempotent(request, idempotency_key, run)


@router.post("/applications/{application_id}/withdraw", response={200: ApplicationOut, **ERRORS})
def withdraw(
    request: HttpRequest, application_id: Path[Id], idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        return 200, ApplicationOut.of(loans.withdraw(request.user, application_id=application_id))

    return idempotent(request, idempotency_key, run)


@router.post("/applications/{application_id}/disburse", response={201: LoanOut, **ERRORS})
def disburse(
    request: HttpRequest,
    application_id: Path[Id],
    payload: DisburseIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        loan = loans.disburse(
            request.user,
            application_id=application_id,
            disbursed_on=payload.disbursed_on,
            signing_date=payload.signing_date,
            today=clock.today(),
        )
        return 201, LoanOut.of(loan)

    return idempotent(request, idempotency_key, run)


@router.get("/loans", response={200: page_schema(LoanOut), **ERRORS})
def list_loans(request: HttpRequest, p: Query[PageIn], f: Query[LoanFilter]) -> Any:
    return page(filtered(selectors.loans(request.user), f), p, LoanOut.of)


@router.get("/loans/{loan_id}", response={200: LoanOut, **ERRORS})
def get_loan(request: HttpRequest, loan_id: Path[Id]) -> Any:
    return LoanOut.of(_get(selectors.loans(request.user), loan_id, "loan"))


@router.get("/loans/{loan_id}/instalments", response={200: list[InstalmentOut], **ERRORS})
def list_instalments(request: HttpRequest, loan_id: Path[Id]) -> Any:
    _get(selectors.loans(request.user), loan_id, "loan")
    return [InstalmentOut.of(i) for i in selectors.instalments(request.user, loan_id)]


@router.post("/loans/{loan_id}/renew", response={201: LoanOut, **ERRORS})
def renew(request: HttpRequest, loan_id: Path[Id], idempotency_key: str | None = IdemKey) -> Any:
    def run() -> tuple[int, Any]:
        return 201, LoanOut.of(loans.renew(request.user, loan_id=loan_id, today=clock.today()))

    return idempotent(request, idempotency_key, run)


@router.post("/repayments/import", response={200: ImportOut, **ERRORS})
def import_file(
    request: HttpRequest, file: File[UploadedFile], idempotency_key: str | None = IdemKey
) -> Any:
    """A CSV or XLSX of repayments: each row posted once (the bank's reference is the key),
    bad rows reported (row, field, zh, en). See ``lending.repayment_import``."""
    if (file.size or 0) > 20 * 1024 * 1024:
        raise InvalidInput([("file", _("at most 20 MB"))])
    data = file.read()

    def run() -> tuple[int, Any]:
        report = import_repayment_file(request.user, data, file.name or "", today=clock.today())
        errors = [e.__dict__ for e in report.errors]
        return 200, {
            "applied": report.applied,
            "repayment_ids": report.repayment_ids,
            "errors": errors,
        }

    # the parsed request is the file's content (a multipart body differs on every retry)
    return idempotent(request, idempotency_key, run, fingerprint=content_hash(data))


@router.get("/repayments", response={200: page_schema(RepaymentOut), **ERRORS})
def list_repayments(request: HttpRequest, p: Query[PageIn], f: Query[RepaymentFilter]) -> Any:
    return page(filtered(selectors.repayments(request.user), f), p, RepaymentOut.of)


@router.get("/repayments/{repayment_id}", response={200: RepaymentOut, **ERRORS})
def get_repayment(request: HttpRequest, repayment_id: Path[Id]) -> Any:
    return RepaymentOut.of(_get(selectors.repayments(request.user), repayment_id, "repayment"))


@router.post("/loans/{loan_id}/repayments", response={201: RepaymentOut, **ERRORS})
def repay(
    request: HttpRequest,
    loan_id: Path[Id],
    payload: RepaymentIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        r = repayments.repay(
            request.user,
            loan_id=loan_id,
            amount_fen=_fen(payload.amount),
            paid_on=payload.paid_on,
            reference=payload.reference,
            note=payload.note,
            today=clock.today(),
        )
        return 201, RepaymentOut.of(r)

    return idempotent(request, idempotency_key, run)


@router.post("/repayments/{repayment_id}/reverse", response={201: RepaymentOut, **ERRORS})
def reverse(
    request: HttpRequest,
    repayment_id: Path[Id],
    payload: ReverseIn,
    idempotency_key: str | None = IdemKey,
) -> Any:
    def run() -> tuple[int, Any]:
        r = repayments.reverse(
            request.user, repayment_id=repayment_id, note=payload.note, today=clock.today()
        )
        return 201, RepaymentOut.of(r)

    return idempotent(request, idempotency_key, run)


@router.get("/commercial-loans", response={200: page_schema(CommercialOut), **ERRORS})
def list_commercial(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.commercial_loans(request.user), p, CommercialOut.of)


@router.post("/commercial-loans", response={201: CommercialOut, **ERRORS})
def record_commercial(
    request: HttpRequest, payload: CommercialIn, idempotency_key: str | None = IdemKey
) -> Any:
    def run() -> tuple[int, Any]:
        c = services.record_commercial_loan(
            request.user,
            enterprise_id=payload.enterprise_id,
            amount_fen=_fen(payload.amount),
            loan_date=payload.loan_date,
            term_months=payload.term_months,
            reference=payload.reference,
            today=clock.today(),
        )
        return 201, CommercialOut.of(c)

    return idempotent(request, idempotency_key, run)


@router.get("/eod-runs", response={200: page_schema(EodRunOut), **ERRORS})
def list_eod_runs(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.eod_runs(request.user), p, EodRunOut.of)
