"""The lending API's shapes (django-ninja / pydantic): what each resource reads and writes.

Money is yuan text with two decimals; status types are the lifecycle enums."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, StringConstraints

from kvcredit.api.common import (
    Id,
    Text,
    yuan,
)
from kvcredit.lending import repayments
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


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe values (the Idempotency-Key store keeps the response as JSON)."""
    return {
        k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in values.items()
    }


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
        return plain({f: getattr(p, f) for f in ProductOut.model_fields})


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
        return plain({f: getattr(s, f) for f in SuspensionOut.model_fields})


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
        # a list annotates each row with its loan's id (``with_loan_ids``): no query per row
        if hasattr(a, "loan_ref"):
            loan = a.loan_ref
        else:
            loan = Loan.objects.filter(application=a).values_list("id", flat=True).first()
        return plain(
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
    restructured: bool  # a deferral was granted (forbearance)
    pause_to: dt.date | None  # penalty and days past due paused until (as the deferral says)
    watch_until: dt.date | None  # at least special mention until (the watch period)

    @staticmethod
    def of(x: Loan) -> dict[str, Any]:
        out = {f: getattr(x, f) for f in LoanOut.model_fields if hasattr(x, f)}
        pct = lambda units: format(rates.units_to_percent(units), "f")  # noqa: E731
        return plain(
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
        return plain(
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
        return plain(out | {m: yuan(getattr(r, f"{m}_fen")) for m in money})


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
        return plain(out | {"amount": yuan(c.amount_fen)})


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
        return plain({f: getattr(r, f) for f in EodRunOut.model_fields})
