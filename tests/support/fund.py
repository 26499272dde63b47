"""Loans in a given state, for the fund's tests (not part of the package).

The lending app owns loans; this writes the rows directly so a test can put a loan in exactly
the state a rule needs (days past due, principal due, category).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from kvcredit.fund import claims, services
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


# The parties of a four-party loss split, as the fund rules' tests publish them.
PARTIES = [
    {"id": "fund", "name": "fund", "name_zh": "基金", "compensation": "0.54", "recoveries": "0.54"},
    {"id": "bank", "name": "bank", "name_zh": "银行", "compensation": "0.26", "recoveries": "0.26"},
    {
        "id": "insurer",
        "name": "insurer",
        "name_zh": "保险公司",
        "compensation": "0.2",
        "recoveries": "0.2",
    },
]


def staged_rules(*, allowance: dict[str, Any], **caps: Any) -> dict[str, Any]:
    """The fund rules of a staged claim (75 % now, 25 % after 30 days) split four ways, with a
    bank's ``allowance`` and the given caps (``{"fund.cap_per_loan_yuan": 40_000}``)."""
    return {
        "fund.loss_sharing": {"parties": PARTIES},
        "fund.stages": [
            {"share": "0.75", "after_days": 0},
            {"share": "0.25", "after_days": 30},
        ],
        "fund.allowance": allowance,
        **caps,
    }


def paid_claim(world: Any, trustees: Any, *, on: dt.date, other_lent_fen: int = 0) -> Any:
    """District a's pool funded (target 10 M, 1 M contributed by the city), then a claim on
    bank a's 100,000-yuan loan 120 days past due registered, filed, checked and paid (by a
    second trustee). ``other_lent_fen``: a further loan of bank a's lent first (its allowance)."""
    t = trustees[0]
    d = world.district["a"]
    services.set_pool_target(t, district_id=d.pk, target_fen=10**9)
    services.record_contribution(
        t, district_id=d.pk, contributor="CITY", amount_fen=10**8, paid_date=on
    )
    if other_lent_fen:
        make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=other_lent_fen)
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=10**7,
        due_principal_fen=10**7,
        days_past_due=120,
    )
    bank = world.users["bank_a"]
    c = claims.register(bank, loan_id=loan.pk, on=on)
    claims.file(bank, claim_id=c.pk, on=on)
    claims.check(t, claim_id=c.pk, on=on)
    return claims.pay(trustees[1], claim_id=c.pk, on=on)
