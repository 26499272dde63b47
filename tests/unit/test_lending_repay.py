"""Repayments on a loan's buckets, reversals, the oldest unpaid instalment, and prepayments in
the end of day (pure domain)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvcredit.lending.domain.aging import Bucket, ClassificationRules, Overpayment
from kvcredit.lending.domain.eod import new_book, run_day
from kvcredit.lending.domain.repay import (
    LoanState,
    apply_repayment,
    fifo,
    oldest_unpaid_due,
    reverse_repayment,
)
from kvcredit.lending.domain.schedule import DAILY, Method, build_schedules

OVERDUE = LoanState(
    outstanding=300_000_000,
    due_principal=10_000_000,
    due_interest=1_087_500,
    penalty=2_000,
    acc_whole=36_250,
    acc_rem=0,
)


def test_a_repayment_meets_penalty_then_interest_then_principal_due_then_accrued_then_prepays():
    new, split = apply_repayment(OVERDUE, 11_089_500 + 36_250 + 1_000)
    assert (split.penalty, split.interest_due, split.principal_due) == (
        2_000,
        1_087_500,
        10_000_000,
    )
    assert (split.interest_accrued, split.principal_prepaid) == (36_250, 1_000)
    assert (new.penalty, new.due_interest, new.due_principal, new.acc_whole) == (0, 0, 0, 0)
    assert new.outstanding == 300_000_000 - 10_001_000
    assert new.acc_paid == 36_250


def test_the_allocation_order_comes_from_the_product():
    order = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.PENALTY)
    _, split = apply_repayment(OVERDUE, 10_000_500, order=order)
    assert (split.principal_due, split.interest_due, split.penalty) == (10_000_000, 500, 0)


def test_paying_everything_owed_settles_the_loan_and_a_fen_more_is_refused():
    owed = OVERDUE.owed.total_fen
    with pytest.raises(Overpayment) as exc:
        apply_repayment(OVERDUE, owed + 1)
    assert exc.value.owed_fen == owed
    new, _ = apply_repayment(OVERDUE, owed)
    assert new.settled


def test_accrued_remainder_rounds_half_up_into_what_is_owed():
    s = LoanState(
        outstanding=100, due_principal=0, due_interest=0, penalty=0, acc_whole=5, acc_rem=DAILY // 2
    )
    assert s.accrued == 6
    new, _ = apply_repayment(s, 106)
    assert new.settled and (new.acc_whole, new.acc_rem) == (0, 0)


states = st.builds(
    lambda out, due_p, due_i, pen, acc: LoanState(
        outstanding=out,
        due_principal=min(due_p, out),
        due_interest=due_i,
        penalty=pen,
        acc_whole=acc,
        acc_rem=0,
    ),
    st.integers(0, 10**10),
    st.integers(0, 10**10),
    st.integers(0, 10**8),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
)


@given(states, st.data())
def test_a_reversal_puts_every_fen_back_and_nothing_goes_negative(state, data):
    if state.owed.total_fen == 0:
        return
    amount = data.draw(st.integers(1, state.owed.total_fen))
    new, split = apply_repayment(state, amount)
    assert split.total == amount
    assert (
        min(new.outstanding, new.due_principal, new.due_interest, new.penalty, new.acc_whole) >= 0
    )
    assert new.owed.total_fen == state.owed.total_fen - amount
    back = reverse_repayment(new, split)
    assert back.owed.total_fen == state.owed.total_fen
    assert (back.outstanding, back.due_principal, back.due_interest, back.penalty) == (
        state.outstanding,
        state.due_principal,
        state.due_interest,
        state.penalty,
    )


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=24), st.data())
def test_fifo_meets_the_oldest_first_and_never_more_than_due(dues, data):
    paid = data.draw(st.integers(0, sum(dues)))
    met = fifo(dues, paid)
    assert sum(met) == paid and all(0 <= m <= d for m, d in zip(met, dues, strict=True))
    first_short = next((k for k, (m, d) in enumerate(zip(met, dues, strict=True)) if m < d), None)
    if first_short is not None:
        assert all(m == 0 for m in met[first_short + 1 :])


def test_the_oldest_unpaid_instalment_is_the_first_not_fully_met():
    days = [dt.date(2024, 6, 15), dt.date(2024, 7, 15), dt.date(2024, 8, 15)]
    interest = [1_123_750, 1_087_500, 1_123_750]
    principal = [0, 0, 0]
    assert (
        oldest_unpaid_due(days, principal, interest, principal_paid=0, interest_paid=0) == days[0]
    )
    assert (
        oldest_unpaid_due(days, principal, interest, principal_paid=0, interest_paid=1_123_750)
        == days[1]
    )
    assert (
        oldest_unpaid_due(days, principal, interest, principal_paid=0, interest_paid=sum(interest))
        is None
    )


def test_a_prepayment_shortens_an_equal_principal_schedule_from_its_end_and_the_loan_closes():
    start = dt.date(2024, 1, 10)
    s = build_schedules(
        principal_fen=np.array([120_000]),
        rate=np.array([4_350_000]),
        start=np.array([start], dtype="datetime64[D]"),
        term_months=12,
        method=Method.EQUAL_PRINCIPAL,
    )
    book = new_book(
        due_dates=s.due_dates,
        sched_principal=np.ascontiguousarray(s.principal),
        rate=np.array([4_350_000]),
        monthly_rate_interest=np.array([True]),
        grace_days=np.array([0]),
        penalty_rate=np.array([6_525_000]),
        start=start,
    )
    # 100,000 fen prepaid at once: 20,000 fen are left, the first two instalments' principal
    from dataclasses import replace

    book = replace(book, outstanding=np.array([20_000]))
    rules = ClassificationRules()
    charged = []
    day = start
    while day <= dt.date(2024, 4, 10):
        r = run_day(book, as_of=day, rules=rules)
        book = r.book
        if r.fell_due[0]:
            charged.append(int(r.charged_principal[0]))
            book = replace(
                book,
                outstanding=book.outstanding - book.due_principal,
                due_principal=np.array([0]),
                due_interest=np.array([0]),
                oldest_due=np.array(["NaT"], dtype="datetime64[D]"),
            )
        day += dt.timedelta(days=1)
    assert charged == [10_000, 10_000]  # then nothing is left: the loan closes
    assert book.closed[0]


_states = st.builds(
    lambda out, dp, di, pen, whole, rem: LoanState(
        outstanding=out,
        due_principal=min(dp, out),
        due_interest=di,
        penalty=pen,
        acc_whole=whole,
        acc_rem=rem,
    ),
    st.integers(1, 10**10),
    st.integers(0, 10**10),
    st.integers(0, 10**8),
    st.integers(0, 10**6),
    st.integers(0, 10**7),
    st.integers(0, DAILY - 1),
)


@given(_states, st.fractions(0, 1), st.booleans(), st.booleans())
def test_the_quoted_payoff_settles_any_loan_on_any_day_and_a_part_keeps_the_exact_rest(
    state, share, due_today, amortising
):
    from fractions import Fraction

    from kvcredit.lending.domain.repay import NextDue, payoff_fen, quote, repay_on

    day = dt.date(2025, 3, 10)
    nxt = NextDue(
        due_date=day if due_today else day + dt.timedelta(days=5),
        scheduled_principal=state.outstanding // 3,
        is_last=False,
        monthly_rate_interest=amortising,
        rate=4_350_000,
    )
    total = payoff_fen(state, day, nxt)
    assert total == quote(state, day, nxt).total_fen
    settled, _split, charged = repay_on(state, total, day, nxt)
    assert settled.settled and (charged is not None) == due_today
    exact_before = state.acc_whole + Fraction(state.acc_rem, DAILY)
    part = max(1, int(total * share))
    new, split, _ = repay_on(state, part, day, nxt)
    assert min(new.acc_whole, new.acc_rem, new.outstanding) >= 0 and new.acc_rem < DAILY
    if not due_today and split.interest_accrued < state.accrued:  # the exact rest stays
        assert new.acc_whole + Fraction(new.acc_rem, DAILY) == exact_before - split.interest_accrued
    assert payoff_fen(new, day, None) == total - part
