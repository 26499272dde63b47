"""Money a bank can trust: one accrued-interest figure and a payoff that closes the loan, penalty
only on principal past due beyond its own grace days, and paying on the due date is on time."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from kvcredit.enterprises.models import CreditLine
from kvcredit.lending import loans, repayments, services
from kvcredit.lending.endofday import run_eod
from kvcredit.lending.models import Instalment, Loan
from kvcredit.money import yuan_to_fen

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TODAY = dt.date(2026, 11, 29)
START = dt.date(2024, 5, 15)
DAY = dt.timedelta(days=1)
METHODS = ("MONTHLY_INTEREST", "QUARTERLY_INTEREST", "EQUAL_INSTALMENT", "EQUAL_PRINCIPAL")


def product(world, grace_days: int = 0):
    return services.create_product(
        world.users["admin"],
        code=f"KVC{grace_days}",
        name="知识价值信用贷款",
        rate_basis="PBOC_BENCHMARK",
        grace_days=grace_days,
    )


def disburse(world, prod, amount_fen: int, method: str, term: int = 3, on=START) -> Loan:
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    app = loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=prod.pk,
        amount_fen=amount_fen,
        term_months=term,
        method=method,
        purpose="研发投入",
        first_time_borrower=True,
        today=line.valid_until - DAY,
    )
    bank = world.users["bank_a"]
    loans.approve(bank, application_id=app.pk, amount_fen=amount_fen, today=on)
    return loans.disburse(bank, application_id=app.pk, disbursed_on=on, today=TODAY)


def pay(world, loan: Loan, amount_fen: int, on: dt.date):
    return repayments.repay(
        world.users["bank_a"], loan_id=loan.pk, amount_fen=amount_fen, paid_on=on, today=TODAY
    )


def half_up(x: Fraction) -> int:
    return int((2 * x.numerator + x.denominator) // (2 * x.denominator))


def api_loan(api_client, world, loan: Loan) -> dict:
    response = api_client.get(f"/api/v1/loans/{loan.pk}", headers=world.auth("bank_a"))
    assert response.status_code == 200, response.content
    return response.json()


def test_the_api_shows_the_exact_accrual_rounded_once_and_its_payoff_closes_the_loan(
    world, api_client
):
    # 1,234,567.89 yuan at 4.35 %: a day is 149.17695... yuan; 20 whole-fen days make
    # 2,983.40, the exact 20 days 2,983.5390 -> 2,983.54
    loan = disburse(world, product(world), 123_456_789, "MONTHLY_INTEREST")
    run_eod(as_of=START + 19 * DAY, catch_up=True)  # 20 days accrued
    body = api_loan(api_client, world, loan)
    exact = Fraction(123_456_789 * 4_350_000 * 20, 360 * 10**8)
    assert yuan_to_fen(body["accrued_interest"]) == half_up(exact) == 298_354
    assert body["payoff_on"] == (START + 20 * DAY).isoformat()
    payoff = yuan_to_fen(body["payoff"])
    assert payoff == 123_456_789 + half_up(exact)
    pay(world, loan, payoff, START + 20 * DAY)
    run_eod(as_of=START + 20 * DAY)
    loan.refresh_from_db()
    assert (loan.status, loan.outstanding_principal_fen) == ("CLOSED", 0)
    assert yuan_to_fen(api_loan(api_client, world, loan)["payoff"]) == 0


@pytest.mark.parametrize("method", METHODS)
def test_paying_the_quoted_payoff_settles_the_loan_on_every_day_of_its_life(world, method):
    loan = disburse(world, product(world), 98_765_433, method)
    bank = world.users["bank_a"]
    day = START
    maturity = loan.maturity_date
    while day <= maturity + 3 * DAY:
        loan.refresh_from_db()
        quoted = repayments.payoff(loan, day)
        r = pay(world, loan, quoted, day)
        loan.refresh_from_db()
        state = repayments.state_of(loan)
        assert state.settled, (day, state)
        assert repayments.payoff(loan, day) == 0
        repayments.reverse(bank, repayment_id=r.pk, today=day)  # and the life goes on
        run_eod(as_of=day)
        day += DAY
    loan.refresh_from_db()
    final = repayments.payoff(loan, day)
    pay(world, loan, final, day)
    run_eod(as_of=day)
    loan.refresh_from_db()
    assert (loan.status, loan.outstanding_principal_fen, loan.penalty_fen) == ("CLOSED", 0, 0)


def test_the_next_instalment_bears_no_penalty_until_it_is_itself_past_its_grace(world):
    loan = disburse(world, product(world, grace_days=3), 120_000_00, "EQUAL_PRINCIPAL", term=3)
    first, second = Instalment.objects.filter(loan=loan).order_by("seq")[:2]
    run_eod(as_of=second.due_date - DAY, catch_up=True)  # the first instalment is overdue
    loan.refresh_from_db()
    before = loan.penalty_fen
    assert loan.days_past_due > 3 and loan.due_principal_fen == first.principal_fen
    rate = loan.penalty_rate_units
    day_on_first = half_up(Fraction(first.principal_fen * rate, 360 * 10**8))
    for k in range(4):  # the second's due date and its three grace days
        run_eod(as_of=second.due_date + k * DAY)
    loan.refresh_from_db()
    assert loan.penalty_fen == before + 4 * day_on_first
    run_eod(as_of=second.due_date + 4 * DAY)  # four days past due: beyond its grace
    loan.refresh_from_db()
    both = first.principal_fen + second.principal_fen
    assert loan.penalty_fen == before + 4 * day_on_first + half_up(
        Fraction(both * rate, 360 * 10**8)
    )


@pytest.mark.parametrize("method", ["EQUAL_INSTALMENT", "EQUAL_PRINCIPAL", "MONTHLY_INTEREST"])
@pytest.mark.parametrize("order", ["pay_then_eod", "eod_then_pay"])
def test_an_instalment_paid_on_its_due_date_is_paid_on_time(world, method, order):
    loan = disburse(world, product(world), 60_000_00, method, term=3)
    rows = list(Instalment.objects.filter(loan=loan).order_by("seq"))
    for inst in rows:
        run_eod(as_of=inst.due_date - DAY, catch_up=True)
        loan.refresh_from_db()
        if order == "pay_then_eod":  # the bank's file arrives before the evening's run
            amount, on = repayments.payoff(loan, inst.due_date), inst.due_date
            amount = min(amount, inst.principal_fen + inst.interest_fen)
            r = pay(world, loan, amount, on)
            assert (r.principal_prepaid_fen, r.interest_accrued_fen) == (0, 0)
            run_eod(as_of=inst.due_date)
        else:  # the run came first: the payment is dated the next open day
            run_eod(as_of=inst.due_date)
            loan.refresh_from_db()
            owed = loan.due_principal_fen + loan.due_interest_fen + loan.penalty_fen
            pay(world, loan, owed, inst.due_date + DAY)
        loan.refresh_from_db()
        assert (loan.days_past_due, loan.category, loan.penalty_fen) == (0, "NORMAL", 0)
        assert loan.oldest_unpaid_due_date is None
        inst.refresh_from_db()
        assert inst.principal_due_fen == inst.principal_fen == inst.principal_paid_fen
        assert inst.interest_due_fen == inst.interest_fen == inst.interest_paid_fen
    run_eod(as_of=loan.maturity_date + 2 * DAY, catch_up=True)
    loan.refresh_from_db()
    assert (loan.status, loan.days_past_due) == ("CLOSED", 0)
