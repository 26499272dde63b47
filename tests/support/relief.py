"""Loans for the subsidy and deferral tests: disbursed 2022-06-15, paid on their due dates."""

from __future__ import annotations

import datetime as dt

from kvcredit.enterprises.models import CreditLine
from kvcredit.lending import loans, repayments, services
from kvcredit.lending.endofday import run_eod
from kvcredit.lending.models import Loan

DAY = dt.timedelta(days=1)
TODAY = dt.date(2026, 11, 29)
START = dt.date(2022, 6, 15)
P = 60_000_000  # 600,000.00 yuan: six equal principal instalments of 100,000.00


def make_loan(world, method="EQUAL_PRINCIPAL", term=6, side="a", start=START) -> Loan:
    prod = services.create_product(
        world.users["admin"],
        code=f"KVC{side}",
        name="知识价值信用贷款",
        rate_basis="PBOC_BENCHMARK",
    )
    line = CreditLine.objects.get(enterprise=world.enterprise[side])
    app = loans.apply(
        world.users[f"enterprise_{side}"],
        bank_id=world.bank[side].pk,
        product_id=prod.pk,
        amount_fen=P,
        term_months=term,
        method=method,
        purpose="研发投入",
        first_time_borrower=True,
        today=line.valid_until - DAY,
    )
    bank = world.users[f"bank_{side}"]
    loans.approve(bank, application_id=app.pk, amount_fen=P, today=start)
    return loans.disburse(bank, application_id=app.pk, disbursed_on=start, today=TODAY)


def pay_instalment_on_due_date(world, loan: Loan, due: dt.date) -> None:
    run_eod(as_of=due - DAY, catch_up=True)
    loan.refresh_from_db()
    owed = repayments.payoff(loan, due) - (loan.outstanding_principal_fen - loan.next_principal_fen)
    repayments.repay(
        world.users["bank_a"], loan_id=loan.pk, amount_fen=owed, paid_on=due, today=TODAY
    )
