"""Loans in a given state, for the fund's tests (not part of the package).

The lending app owns loans; this writes the rows directly so a test can put a loan in exactly
the state a rule needs (days past due, principal due, category).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from kvcredit.lending.models import Loan, LoanStatus, Method, Product, RateBasis

CATEGORY_BY_DPD = ((360, "LOSS"), (180, "DOUBTFUL"), (90, "SUBSTANDARD"), (0, "SPECIAL_MENTION"))


def product() -> Product:
    p, _ = Product.objects.get_or_create(
        code="FUND_TEST",
        defaults={
            "name": "fund test product",
            "rate_basis": RateBasis.PBOC_BENCHMARK,
            "created_at": timezone.now(),
        },
    )
    return p


def category_of(dpd: int) -> str:
    return next((c for bound, c in CATEGORY_BY_DPD if dpd > bound), "NORMAL")


def make_loan(
    *,
    enterprise: Any,
    bank: Any,
    amount_fen: int = 100_000_000,
    due_principal_fen: int = 0,
    days_past_due: int = 0,
    disbursed_on: dt.date = dt.date(2024, 1, 15),
    term_months: int = 12,
    outstanding_fen: int | None = None,
) -> Loan:
    outstanding = amount_fen if outstanding_fen is None else outstanding_fen
    return Loan.objects.create(
        enterprise=enterprise,
        bank=bank,
        district=enterprise.district,
        product=product(),
        amount_fen=amount_fen,
        term_months=term_months,
        method=Method.MONTHLY_INTEREST,
        signing_date=disbursed_on,
        disbursed_on=disbursed_on,
        maturity_date=disbursed_on + dt.timedelta(days=30 * term_months),
        rate_type="PBOC_1Y",
        rate_units=4_350_000,
        penalty_rate_units=6_525_000,
        grace_days=0,
        instalment_count=term_months,
        status=LoanStatus.ACTIVE,
        outstanding_principal_fen=outstanding,
        due_principal_fen=due_principal_fen,
        days_past_due=days_past_due,
        category=category_of(days_past_due),
        created_at=timezone.now(),
    )
