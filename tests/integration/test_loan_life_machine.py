"""One loan's life as a hypothesis state machine, through the real services on the database:
disbursement, repayments of random amounts on random days (due dates included), ends of day
and reversals, against an exact reference kept here with fractions (actual/360, the loan's
rate, the product's grace days and allocation order).

Checked after every step: every bucket equals the reference's (accrued interest being the exact
accrual rounded half up once), no balance is negative, the quoted payoff settles the loan, and
a diligent borrower (who pays what is due on each due date) is never past due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kvcredit.enterprises.models import CreditLine
from kvcredit.lending import loans, repayments, services
from kvcredit.lending.endofday import run_eod
from kvcredit.lending.models import Instalment, Loan, Repayment

pytestmark = [pytest.mark.django_db]
TODAY = dt.date(2026, 11, 29)
DAY = dt.timedelta(days=1)
STARTS = (dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2023, 11, 30), dt.date(2024, 5, 15))
METHODS = ("MONTHLY_INTEREST", "QUARTERLY_INTEREST", "EQUAL_INSTALMENT", "EQUAL_PRINCIPAL")
AMORTISING = ("EQUAL_INSTALMENT", "EQUAL_PRINCIPAL")
SCALE = 10**8
FIGURES = {"examples": 0, "steps": 0, "payments": 0, "reversals": 0, "eods": 0, "closed": 0}


def half_up(x: Fraction) -> int:
    return int((2 * x.numerator + x.denominator) // (2 * x.denominator))


@dataclass
class Reference:
    """The loan as the rules say it should be, exactly."""

    rate: Fraction
    penalty_rate: Fraction
    grace: int
    amortising: bool
    schedule: list[tuple[dt.date, int]]  # (due date, scheduled principal)
    outstanding: int
    due_principal: int = 0
    due_interest: int = 0
    penalty: int = 0
    accrued: Fraction = Fraction(0)
    accrued_paid: int = 0
    next_k: int = 0
    charged: list[tuple[dt.date, int, int]] = field(default_factory=list)  # (date, p, i)
    principal_paid: int = 0  # of due principal, instalments oldest first
    interest_paid: int = 0
    closed: bool = False

    def fall_due_if(self, day: dt.date) -> None:
        if self.next_k >= len(self.schedule) or self.schedule[self.next_k][0] != day:
            return
        not_due = self.outstanding - self.due_principal
        last = self.next_k == len(self.schedule) - 1
        p = not_due if last else min(self.schedule[self.next_k][1], not_due)
        if self.amortising and self.accrued_paid == 0:
            i = half_up(not_due * self.rate / 12)
        else:
            i = half_up(self.accrued)
        self.charged.append((day, p, i))
        self.due_principal += p
        self.due_interest += i
        self.accrued, self.accrued_paid = Fraction(0), 0
        self.next_k += 1

    def oldest_unpaid(self) -> dt.date | None:
        p_left, i_left = self.principal_paid, self.interest_paid
        for day, p, i in self.charged:
            pm, im = min(p, p_left), min(i, i_left)
            p_left, i_left = p_left - pm, i_left - im
            if pm < p or im < i:
                return day
        return None

    def end_of_day(self, day: dt.date) -> int:
        """Age one day; returns the days past due."""
        self.fall_due_if(day)
        self.accrued += (self.outstanding - self.due_principal) * self.rate / 360
        young = sum(p for d, p, _i in self.charged if (day - d).days <= self.grace)
        beyond = self.due_principal - min(self.due_principal, young)
        self.penalty += half_up(beyond * self.penalty_rate / 360)
        oldest = self.oldest_unpaid()
        dpd = 0 if oldest is None or (day - oldest).days <= self.grace else (day - oldest).days
        if self.outstanding == self.due_interest == self.penalty == half_up(self.accrued) == 0:
            self.closed = True
        return dpd

    def owed(self, day: dt.date) -> int:
        self.fall_due_if(day)
        return self.outstanding + self.due_interest + self.penalty + half_up(self.accrued)

    def pay(self, amount: int, day: dt.date) -> tuple[int, int, int, int, int]:
        """Penalty, interest due, principal due (the product's default order), then interest
        accrued, then a prepayment: the split."""
        self.fall_due_if(day)
        left = amount
        pen = min(left, self.penalty)
        left -= pen
        i_due = min(left, self.due_interest)
        left -= i_due
        p_due = min(left, self.due_principal)
        left -= p_due
        acc = min(left, half_up(self.accrued))
        left -= acc
        assert left <= self.outstanding - self.due_principal
        self._apply((pen, i_due, acc, p_due, left), +1)
        return pen, i_due, acc, p_due, left

    def _apply(self, split: tuple[int, int, int, int, int], sign: int) -> None:
        pen, i_due, acc, p_due, prepaid = split
        self.penalty -= sign * pen
        self.due_interest -= sign * i_due
        self.due_principal -= sign * p_due
        self.outstanding -= sign * (p_due + prepaid)
        self.principal_paid += sign * p_due
        self.interest_paid += sign * i_due
        if sign > 0 and acc == half_up(self.accrued):
            self.accrued = Fraction(0)
        else:
            self.accrued -= sign * acc
        self.accrued_paid = max(self.accrued_paid + sign * acc, 0)

    def reverse(self, split: tuple[int, int, int, int, int]) -> None:
        self._apply(split, -1)
        self.closed = False


class LoanLife(RuleBasedStateMachine):
    world = None
    products: dict[int, object] = {}

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        FIGURES["examples"] += 1

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @initialize(
        method=st.sampled_from(METHODS),
        term=st.sampled_from((3, 6)),
        start=st.sampled_from(STARTS),
        amount=st.integers(1_000_00, 5_000_000_00),
        grace=st.sampled_from((0, 3)),
        diligent=st.booleans(),
    )
    def disburse(self, method, term, start, amount, grace, diligent) -> None:
        w = self.world
        line = CreditLine.objects.get(enterprise=w.enterprise["a"])
        app = loans.apply(
            w.users["enterprise_a"],
            bank_id=w.bank["a"].pk,
            product_id=self.products[grace].pk,
            amount_fen=amount,
            term_months=term,
            method=method,
            purpose="研发投入",
            first_time_borrower=True,
            today=line.valid_until - DAY,
        )
        self.bank = w.users["bank_a"]
        loans.approve(self.bank, application_id=app.pk, amount_fen=amount, today=start)
        self.loan = loans.disburse(
            self.bank, application_id=app.pk, disbursed_on=start, today=TODAY
        )
        rows = Instalment.objects.filter(loan=self.loan).order_by("seq")
        self.ref = Reference(
            rate=Fraction(self.loan.rate_units, SCALE),
            penalty_rate=Fraction(self.loan.penalty_rate_units, SCALE),
            grace=grace,
            amortising=method in AMORTISING,
            schedule=[(r.due_date, r.principal_fen) for r in rows],
            outstanding=amount,
        )
        self.day = start  # the open day: the next end of day to run
        self.diligent = diligent
        self.dpd = 0
        self.split: dict[int, tuple[int, int, int, int, int]] = {}

    # -- steps ----------------------------------------------------------------------------
    def _pay(self, amount: int) -> None:
        r = repayments.repay(
            self.bank, loan_id=self.loan.pk, amount_fen=amount, paid_on=self.day, today=TODAY
        )
        self.split[r.pk] = self.ref.pay(amount, self.day)
        got = (
            r.penalty_fen,
            r.interest_due_fen,
            r.interest_accrued_fen,
            r.principal_due_fen,
            r.principal_prepaid_fen,
        )
        assert got == self.split[r.pk]
        FIGURES["payments"] += 1

    def _eod(self) -> None:
        if self.diligent:  # the diligent borrower pays what is due on the due date
            self.ref.fall_due_if(self.day)
            owed = self.ref.due_principal + self.ref.due_interest + self.ref.penalty
            if owed and self.ref.charged and self.ref.charged[-1][0] == self.day:
                self._pay(owed)
        run_eod(as_of=self.day)
        self.dpd = self.ref.end_of_day(self.day)
        self.day += DAY
        FIGURES["eods"] += 1

    @precondition(lambda self: not self.ref.closed)
    @rule(days=st.integers(1, 12))
    def end_of_days(self, days: int) -> None:
        for _ in range(days):
            self._eod()
            if self.ref.closed:
                break

    @precondition(lambda self: not self.ref.closed)
    @rule(to_due=st.booleans())
    def run_to_next_due_date(self, to_due: bool) -> None:
        """Age to the next due date (or the day before it), so due dates are met often."""
        if self.ref.next_k >= len(self.ref.schedule):
            return
        target = self.ref.schedule[self.ref.next_k][0] - (DAY if to_due else 0 * DAY)
        while self.day < target and not self.ref.closed:
            self._eod()

    @precondition(lambda self: not self.ref.closed)
    @rule(share=st.fractions(0, 1), at_least_due=st.booleans())
    def pay_some(self, share: Fraction, at_least_due: bool) -> None:
        owed = self.ref.owed(self.day)
        due = self.ref.due_principal + self.ref.due_interest + self.ref.penalty
        amount = max(half_up(owed * share), 1)
        if at_least_due or self.diligent:
            amount = max(amount, min(due, owed))
        if owed:
            self._pay(min(amount, owed))

    @precondition(lambda self: not self.ref.closed)
    @rule(keep=st.booleans())
    def pay_the_quoted_payoff(self, keep: bool) -> None:
        self.loan.refresh_from_db()
        quoted = repayments.payoff(self.loan, self.day)
        assert quoted == self.ref.owed(self.day)
        if not quoted:
            return
        r_count = Repayment.objects.count()
        self._pay(quoted)
        self.loan.refresh_from_db()
        assert repayments.state_of(self.loan).settled and repayments.payoff(self.loan) == 0
        if keep:
            self._eod()
            self.loan.refresh_from_db()
            assert self.loan.status == "CLOSED" and self.ref.closed
            FIGURES["closed"] += 1
        else:
            last = Repayment.objects.order_by("-pk").first()
            assert Repayment.objects.count() == r_count + 1
            self._reverse(last.pk)

    @precondition(lambda self: self.ref.closed)
    @rule()
    def a_closed_loan_stays_closed(self) -> None:
        run_eod(as_of=self.day)
        self.day += DAY

    def _reverse(self, pk: int) -> None:
        repayments.reverse(self.bank, repayment_id=pk, today=self.day)
        self.ref.reverse(self.split.pop(pk))
        FIGURES["reversals"] += 1

    @precondition(lambda self: not self.ref.closed and not self.diligent)
    @rule(data=st.data())
    def reverse_a_repayment(self, data) -> None:
        open_ = sorted(self.split)
        if open_:
            self._reverse(data.draw(st.sampled_from(open_)))

    # -- what must always hold --------------------------------------------------------------
    @invariant()
    def figures_are_the_reference_and_never_negative(self) -> None:
        if not hasattr(self, "loan"):
            return
        FIGURES["steps"] += 1
        loan = Loan.objects.get(pk=self.loan.pk)
        ref = self.ref
        state = repayments.state_of(loan)
        got = (
            loan.outstanding_principal_fen,
            loan.due_principal_fen,
            loan.due_interest_fen,
            loan.penalty_fen,
            state.accrued,
        )
        want = (ref.outstanding, ref.due_principal, ref.due_interest, ref.penalty)
        assert got == (*want, half_up(ref.accrued))
        assert min(*got, loan.accrued_interest_fen, loan.accrued_remainder) >= 0
        assert loan.due_principal_fen <= loan.outstanding_principal_fen
        assert loan.status == ("CLOSED" if ref.closed else "ACTIVE")
        if loan.last_eod_date is not None and not ref.closed:
            assert loan.days_past_due == self.dpd
        if self.diligent:
            assert (loan.days_past_due, loan.category, loan.penalty_fen) == (0, "NORMAL", 0)


@pytest.mark.slow
def test_a_loans_life_keeps_to_the_exact_reference(world):
    LoanLife.world = world
    LoanLife.products = {
        g: services.create_product(
            world.users["admin"],
            code=f"LIFE{g}",
            name="知识价值信用贷款",
            rate_basis="PBOC_BENCHMARK",
            grace_days=g,
        )
        for g in (0, 3)
    }
    from django.db import connection

    run_state_machine_as_test(
        LoanLife,
        settings=settings(  # about 20 s of CPU on SQLite, 30 s on PostgreSQL
            max_examples=15 if connection.vendor == "sqlite" else 8,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
    print("loan life machine:", FIGURES)
    assert FIGURES["payments"] > 0 and FIGURES["eods"] > 0
