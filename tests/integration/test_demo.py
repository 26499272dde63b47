"""The demo generator on a small programme: the fund's books balance, the figures move."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.django_db


def test_a_small_demo_balances_its_books_and_has_figures() -> None:
    from kvcredit import demo
    from kvcredit.accounts.models import User
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.fund.models import Contribution, FeeReduction, ServiceFee
    from kvcredit.lending.models import EodRun, Loan, Repayment
    from kvcredit.reporting import programme

    report = demo.load(seed=11, enterprises=300, until=dt.date(2025, 6, 30), years=1)
    assert demo.books_balance()
    assert report.loans > 0 and report.repayments > 0
    assert Loan.objects.count() == report.loans
    assert Repayment.objects.count() == report.repayments
    assert EodRun.objects.latest("run_date").run_date == dt.date(2025, 6, 30)
    assert Contribution.objects.exists() and ServiceFee.objects.exists()
    assert FeeReduction.objects.count() == 1
    roles = {c.role for c in report.credentials}
    assert roles == {"administrator", "bank", "district", "trustee", "enterprise"}
    assert User.objects.get(username="trustee2").check_password(demo.DEMO_PASSWORD)
    stats = programme.statistics(ensure_system_user(), by="district")
    total = stats["total"]
    assert total.enterprise_times == report.loans
    assert total.amount_lent_fen > 0 and total.enterprises > 0
    assert any(fen > 0 for _d, fen in stats["pools"])
