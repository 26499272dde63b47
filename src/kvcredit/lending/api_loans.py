"""REST resources for lending: products, suspensions, applications, loans, repayments,
commercial loans, end-of-day runs. Thin: parse, call one service or selector, render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import File, Header, Path, Query, Router, Schema, UploadedFile
from pydantic import Field, StringConstraints

from kvcredit import clock
from kvcredit.api.common import (
    Id,
    PageIn,
    Text,
    content_hash,
    filtered,
    idempotent,
    page,
    page_schema,
    yuan,
)
from kvcredit.api.problems import Problem
from kvcredit.errors import InvalidInput, NotFound
from kvcredit.lending import loans, repayments, selectors, services
from kvcredit.lending.domain import rates
from kvcredit.lending.domain.lifecycle import ApplicationStatus, LoanStatus
from kvcredit.lending.models import (
    Application,
    BankSuspension,
    CommercialLoan,
    EodRun,
    Instalment,
    Loan,
    Product,
    Repayment,
)
from kvcredit.lending.repayment_import import import_repayment_file
from kvcredit.money import yuan_to_fen

router = Router(tags=["loans"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}
IdemKey = Header(None, alias="Idempotency-Key", max_length=100)
Yuan = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$")]
MethodCode = Annotated[
    str,
    StringConstraints(
        pattern=r"^(MONTHLY_INTEREST|QUARTERLY_INTEREST|EQUAL_INSTALMENT|EQUAL_PRINCIPAL)$"
    ),
]
Bucket = Annotated[str, StringConstraints(pattern=r"^(PENALTY|INTEREST|PRINCIPAL)$")]
Basis = Annotated[str, StringConstraints(pattern=r"^(PBOC_BENCHMARK|LPR_1Y)$")]
Term = Annotated[int, Field(ge=1, le=360)]
Day = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2100, 12, 31))]
Note = Annotated[str, StringConstraints(max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]


def _fen(text: str) -> int:
    return yuan_to_fen(Decimal(text))


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe values (the Idempotency-Key store keeps the response as JSON)."""
    return {
        k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in values.items()
    }


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


# -- products --------------------------------------------------------------------------------
class ProductIn(Schema):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    name: Text
    rate_basis: Basis = "LPR_1Y"
    spread_bp: Annotated[int, Field(ge=-10_000, le=10_000)] = 0
    max_term_months: Term = 12
    methods: Annotated[list[MethodCode], Field(min_length=1, max_length=4)] | None = None
    penalty_uplift_percent: Annotated[int, Field(ge=0, le=1_000)] = 50
    grace_days: Annotated[int, Field(ge=0, le=365)] = 0
    allocation_order: Annotated[list[Bucket], Field(min_length=3, max_length=3)] | None = None
    classification_bounds: (
        Annotated[list[Annotated[int, Field(ge=0, le=100_000)]], Field(min_length=4, max_length=4)]
        | None
    ) = None
    approval_valid_days: Annotated[int, Field(ge=1, le=3_650)] = 30


class ProductUpdate(Schema):
    name: Text | None = None
    rate_basis: Basis | None = None
    spread_bp: Annotated[int, Field(ge=-10_000, le=10_000)] | None = None
    max_term_months: Term | None = None
    methods: Annotated[list[MethodCode], Field(min_length=1, max_length=4)] | None = None
    penalty_uplift_percent: Annotated[int, Field(ge=0, le=1_000)] | None = None
    grace_days: Annotated[int, Field(ge=0, le=365)] | None = None
    allocation_order: Annotated[list[Bucket], Field(min_length=3, max_length=3)] | None = None
    classification_bounds: (
        Annotated[list[Annotated[int, Field(ge=0, le=100_000)]], Field(min_length=4, max_length=4)]
        | None
    ) = None
    approval_valid_days: Annotated[int, Field(ge=1, le=3_650)] | None = None
    active: bool | None = None


class ProductOut(Schema):
    id: int
    code: str
    name: str
    rate_basis: str
    spread_bp: int
    max_term_months: int
    methods: list[str]
    day_count: str
    penalty_uplift_percent: int
    grace_days: int
    allocation_order: list[str]
    classification_bounds: list[int]
    approval_valid_days: int
    active: bool

    @staticmethod
    def of(p: Product) -> dict[str, Any]:
        return _plain({f: getattr(p, f) for f in ProductOut.model_fields})


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


# -- suspensions -----------------------------------------------------------------------------
class SuspensionIn(Schema):
    bank_id: Id
    district_id: Id
    from_date: Day
    reason: Note = ""


class LiftIn(Schema):
    to_date: Day


class SuspensionOut(Schema):
    id: int
    bank_id: int
    district_id: int
    from_date: dt.date
    to_date: dt.date | None
    reason: str

    @staticmethod
    def of(s: BankSuspension) -> dict[str, Any]:
        return _plain({f: getattr(s, f) for f in SuspensionOut.model_fields})


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


# -- applications ----------------------------------------------------------------------------
class ApplicationIn(Schema):
    bank_id: Id
    product_id: Id
    amount: Yuan
    term_months: Term
    method: MethodCode
    purpose: Text
    first_time_borrower: bool


class ApproveIn(Schema):
    amount: Yuan


class RejectIn(Schema):
    reason: Text


class DisburseIn(Schema):
    disbursed_on: Day
    signing_date: Day | None = None


class ApplicationOut(Schema):
    id: int
    enterprise_id: int
    bank_id: int
    product_id: int
    amount: str
    term_months: int
    method: str
    purpose: str
    first_time_borrower: bool
    status: ApplicationStatus
    approved_amount: str | None
    reject_reason: str
    submitted_at: dt.datetime
    decided_at: dt.datetime | None
    expires_on: dt.date | None
    loan_id: int | None

    @staticmethod
    def of(a: Application) -> dict[str, Any]:
        loan = Loan.objects.filter(application=a).values_list("id", flat=True).first()
        return _plain(
            {
                "id": a.pk,
                "enterprise_id": a.enterprise_id,
                "bank_id": a.bank_id,
                "product_id": a.product_id,
                "amount": yuan(a.amount_fen),
                "term_months": a.term_months,
                "method": a.method,
                "purpose": a.purpose,
                "first_time_borrower": a.first_time_borrower,
                "status": a.status,
                "approved_amount": None
                if a.approved_amount_fen is None
                else yuan(a.approved_amount_fen),
                "reject_reason": a.reject_reason,
                "submitted_at": a.submitted_at,
                "decided_at": a.decided_at,
                "expires_on": a.expires_on,
                "loan_id": loan,
            }
        )


class ApplicationFilter(Schema):
    status: ApplicationStatus | None = None  # the application lifecycle's codes
    enterprise_id: Id | None = None


@router.get("/applications", response={200: page_schema(ApplicationOut), **ERRORS})
def list_applications(request: HttpRequest, p: Query[PageIn], f: Query[ApplicationFilter]) -> Any:
    return page(filtered(selectors.applications(request.user), f), p, ApplicationOut.of)


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


# -- loans -----------------------------------------------------------------------------------
class LoanOut(Schema):
    id: int
    application_id: int | None
    renewal_of_id: int | None
    enterprise_id: int
    bank_id: int
    district_id: int
    product_id: int
    amount: str
    term_months: int
    method: str
    signing_date: dt.date
    disbursed_on: dt.date
    maturity_date: dt.date
    rate_type: str
    annual_rate_percent: str
    penalty_rate_percent: str
    grace_days: int
    first_time_borrower: bool
    status: LoanStatus
    outstanding_principal: str
    due_principal: str
    due_interest: str
    penalty: str
    accrued_interest: str  # the exact accrual rounded half up once
    payoff: str  # paid on payoff_on, closes the loan (0.00 once off the book)
    payoff_on: dt.date  # the loan's next value date
    next_due_date: dt.date | None
    oldest_unpaid_due_date: dt.date | None
    days_past_due: int
    category: str
    matured: bool
    last_eod_date: dt.date | None
    closed_on: dt.date | None

    @staticmethod
    def of(x: Loan) -> dict[str, Any]:
        out = {f: getattr(x, f) for f in LoanOut.model_fields if hasattr(x, f)}
        pct = lambda units: format(rates.units_to_percent(units), "f")  # noqa: E731
        return _plain(
            out
            | {
                "amount": yuan(x.amount_fen),
                "annual_rate_percent": pct(x.rate_units),
                "penalty_rate_percent": pct(x.penalty_rate_units),
                "outstanding_principal": yuan(x.outstanding_principal_fen),
                "due_principal": yuan(x.due_principal_fen),
                "due_interest": yuan(x.due_interest_fen),
                "penalty": yuan(x.penalty_fen),
                "accrued_interest": yuan(repayments.accrued_fen(x)),
                "payoff": yuan(repayments.payoff(x)),
                "payoff_on": repayments.value_date(x),
            }
        )


class LoanFilter(Schema):
    status: LoanStatus | None = None  # the loan lifecycle's codes (live: lifecycle.LIVE)
    category: Annotated[str, StringConstraints(pattern=r"^[A-Z_]{1,16}$")] | None = None
    enterprise_id: Id | None = None


class InstalmentOut(Schema):
    seq: int
    due_date: dt.date
    principal: str
    interest: str
    principal_due: str | None
    interest_due: str | None
    principal_paid: str
    interest_paid: str

    @staticmethod
    def of(i: Instalment) -> dict[str, Any]:
        return _plain(
            {
                "seq": i.seq,
                "due_date": i.due_date,
                "principal": yuan(i.principal_fen),
                "interest": yuan(i.interest_fen),
                "principal_due": None if i.principal_due_fen is None else yuan(i.principal_due_fen),
                "interest_due": None if i.interest_due_fen is None else yuan(i.interest_due_fen),
                "principal_paid": yuan(i.principal_paid_fen),
                "interest_paid": yuan(i.interest_paid_fen),
            }
        )


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


# -- repayments ------------------------------------------------------------------------------
class RepaymentIn(Schema):
    amount: Yuan
    paid_on: Day
    reference: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = (
        ""
    )
    note: Note = ""


class ReverseIn(Schema):
    note: Note = ""


class RepaymentOut(Schema):
    id: int
    loan_id: int
    kind: str
    reverses_id: int | None
    paid_on: dt.date
    amount: str
    penalty: str
    interest_due: str
    interest_accrued: str
    principal_due: str
    principal_prepaid: str
    reference: str
    note: str
    recorded_at: dt.datetime

    @staticmethod
    def of(r: Repayment) -> dict[str, Any]:
        money = (
            "amount",
            "penalty",
            "interest_due",
            "interest_accrued",
            "principal_due",
            "principal_prepaid",
        )
        out = {f: getattr(r, f) for f in RepaymentOut.model_fields if f not in money}
        return _plain(out | {m: yuan(getattr(r, f"{m}_fen")) for m in money})


class RepaymentFilter(Schema):
    loan_id: Id | None = None


class RowErrorOut(Schema):
    row: int
    field: str
    message_zh: str
    message_en: str


class ImportOut(Schema):
    applied: int
    repayment_ids: list[int]
    errors: list[RowErrorOut]


# (before /repayments/{repayment_id}, which would otherwise take the path 'import')
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


# -- commercial loans ------------------------------------------------------------------------
class CommercialIn(Schema):
    enterprise_id: Id
    amount: Yuan
    loan_date: Day
    term_months: Term
    reference: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = (
        ""
    )


class CommercialOut(Schema):
    id: int
    bank_id: int
    enterprise_id: int
    amount: str
    loan_date: dt.date
    term_months: int
    reference: str

    @staticmethod
    def of(c: CommercialLoan) -> dict[str, Any]:
        out = {f: getattr(c, f) for f in CommercialOut.model_fields if f != "amount"}
        return _plain(out | {"amount": yuan(c.amount_fen)})


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


# -- end-of-day runs (read only: the run itself is `kvcredit eod`) ---------------------------
class EodRunOut(Schema):
    run_date: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime
    loans: int
    fell_due: int
    matured: int
    closed: int
    expired_applications: int
    categories: dict[str, int]

    @staticmethod
    def of(r: EodRun) -> dict[str, Any]:
        return _plain({f: getattr(r, f) for f in EodRunOut.model_fields})


@router.get("/eod-runs", response={200: page_schema(EodRunOut), **ERRORS})
def list_eod_runs(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.eod_runs(request.user), p, EodRunOut.of)
