"""The pure lending rules: schedules exact to the fen, classification, allocation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvcredit.lending.domain.aging import (
    Bucket,
    Category,
    ClassificationRules,
    Overpayment,
    Owed,
    allocate,
    days_past_due,
)
from kvcredit.lending.domain.calendar import add_months, add_months_array
from kvcredit.lending.domain.rates import RateBasis, RatePoint, RateTable, loan_rate
from kvcredit.lending.domain.schedule import Method, build_schedule, build_schedules, rate_units

D = Decimal


def test_three_million_at_4_35_percent_for_a_30_day_month_is_10875_yuan():
    # 2024-04-15 -> 2024-05-15 is 30 days: 3,000,000 * 4.35% * 30 / 360 = 10,875.00
    sched = build_schedule(
        principal_fen=300_000_000,
        annual_rate_percent=D("4.35"),
        start=dt.date(2024, 4, 15),
        term_months=12,
        method=Method.MONTHLY_INTEREST,
    )
    assert (sched[0].due_date, sched[0].interest_fen) == (dt.date(2024, 5, 15), 1_087_500)
    # a 31-day month: 3,000,000 * 4.35% * 31 / 360 = 11,237.50
    assert (sched[1].due_date, sched[1].interest_fen) == (dt.date(2024, 6, 15), 1_123_750)
    assert [i.principal_fen for i in sched] == [0] * 11 + [300_000_000]


@pytest.mark.parametrize(
    ("start", "months", "due"),
    [
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),  # clamped to February's end
        (dt.date(2024, 1, 31), 2, dt.date(2024, 3, 31)),  # a month-end start stays at month-end
        (dt.date(2024, 2, 29), 1, dt.date(2024, 3, 31)),
        (dt.date(2024, 1, 30), 1, dt.date(2024, 2, 29)),
        (dt.date(2024, 1, 30), 2, dt.date(2024, 3, 30)),
        (dt.date(2023, 11, 15), 3, dt.date(2024, 2, 15)),
    ],
)
def test_due_dates_roll_monthly_with_month_end_handling(start, months, due):
    assert add_months(start, months) == due
    vec = add_months_array(np.array([start], dtype="datetime64[D]"), months)
    assert vec[0].astype(dt.date) == due


@pytest.mark.parametrize("method", list(Method))
@given(
    principal=st.integers(min_value=1, max_value=10**10),
    rate=st.decimals(min_value=0, max_value=24, places=2),
    term=st.integers(min_value=1, max_value=36),
)
@settings(max_examples=60, deadline=None)
def test_principal_always_sums_to_the_amount_and_never_goes_negative(method, principal, rate, term):
    sched = build_schedule(
        principal_fen=principal,
        annual_rate_percent=rate,
        start=dt.date(2025, 1, 31),
        term_months=term,
        method=method,
    )
    assert sum(i.principal_fen for i in sched) == principal
    assert all(i.principal_fen >= 0 and i.interest_fen >= 0 for i in sched)
    balance = principal
    for i in sched:
        balance -= i.principal_fen
        assert balance >= 0


def test_equal_instalments_agree_with_numpy_financial_to_the_fen():
    rng = np.random.default_rng(7)
    n, periods = 5_000, 12
    principal = rng.integers(1_000_000, 500_000_000, n)
    rate = rng.choice([4_350_000, 3_450_000, 3_100_000, 12_000_000], n)
    sched = build_schedules(
        principal_fen=principal,
        rate=rate,
        start=np.full(n, np.datetime64("2025-03-10")),
        term_months=periods,
        method=Method.EQUAL_INSTALMENT,
    )
    r = (rate / 1e8 / 12)[:, None]
    per = np.arange(1, periods + 1)[None, :]
    ipmt = npf.ipmt(r, per, periods, -principal[:, None])
    pmt = npf.pmt(r[:, 0], periods, -principal)
    payment = sched.principal + sched.interest
    # every instalment but the last pays the rounded level payment; interest within a fen
    assert np.abs(payment[:, :-1] - pmt[:, None]).max() <= 0.5
    assert np.abs(sched.interest - ipmt).max() < 1.0
    # the last instalment carries the rounding residue: a few fen at most
    assert np.abs(payment[:, -1] - pmt).max() < periods
    assert (sched.principal.sum(axis=1) == principal).all()


def test_equal_principal_pays_the_same_principal_each_month_but_the_last():
    sched = build_schedule(
        principal_fen=100_000_00,
        annual_rate_percent=D("4.35"),
        start=dt.date(2025, 1, 10),
        term_months=3,
        method=Method.EQUAL_PRINCIPAL,
    )
    assert [i.principal_fen for i in sched] == [3_333_333, 3_333_333, 3_333_334]
    # first month's interest: 100,000 * 4.35% / 12 = 362.50
    assert sched[0].interest_fen == 36_250


def test_quarterly_interest_charges_actual_days_per_quarter():
    sched = build_schedule(
        principal_fen=100_000_000,
        annual_rate_percent=D("3.45"),
        start=dt.date(2024, 1, 15),
        term_months=12,
        method=Method.QUARTERLY_INTEREST,
    )
    assert [i.due_date for i in sched] == [
        dt.date(2024, 4, 15),
        dt.date(2024, 7, 15),
        dt.date(2024, 10, 15),
        dt.date(2025, 1, 15),
    ]
    # 91 days: 1,000,000 * 3.45% * 91 / 360 = 8,720.833.. -> 8,720.83
    assert sched[0].interest_fen == 872_083


def test_rate_in_force_is_the_last_change_on_or_before_the_signing_date():
    table = RateTable(
        [
            RatePoint("LPR_1Y", dt.date(2024, 7, 22), D("3.35")),
            RatePoint("LPR_1Y", dt.date(2024, 10, 21), D("3.10")),
            RatePoint("PBOC_BENCHMARK_1Y", dt.date(2015, 10, 24), D("4.35")),
        ]
    )
    assert loan_rate(
        table,
        basis=RateBasis.LPR_1Y,
        spread_bp=0,
        term_months=12,
        signing_date=dt.date(2024, 10, 20),
    ) == D("3.35")
    assert loan_rate(
        table,
        basis=RateBasis.LPR_1Y,
        spread_bp=25,
        term_months=12,
        signing_date=dt.date(2024, 10, 21),
    ) == D("3.35")
    assert loan_rate(
        table,
        basis=RateBasis.PBOC_BENCHMARK,
        spread_bp=0,
        term_months=6,
        signing_date=dt.date(2022, 1, 1),
    ) == D("4.35")


@pytest.mark.parametrize(
    ("dpd", "category"),
    [
        (0, Category.NORMAL),
        (1, Category.SPECIAL_MENTION),
        (90, Category.SPECIAL_MENTION),
        (91, Category.SUBSTANDARD),
        (180, Category.SUBSTANDARD),
        (181, Category.DOUBTFUL),
        (360, Category.DOUBTFUL),
        (361, Category.LOSS),
    ],
)
def test_five_category_classification_by_days_past_due(dpd, category):
    assert ClassificationRules().classify(np.array([dpd]))[0] == category


def test_days_past_due_start_after_the_grace_period_and_count_from_the_due_date():
    due = np.array(["2025-01-10", "2025-01-10", "NaT"], dtype="datetime64[D]")
    as_of = dt.date(2025, 1, 13)
    assert days_past_due(due, as_of=as_of, grace_days=3).tolist() == [0, 0, 0]
    assert days_past_due(due, as_of=as_of, grace_days=2).tolist() == [3, 3, 0]


def test_allocation_pays_penalty_then_interest_then_principal_then_prepays():
    owed = Owed(
        penalty_fen=500, interest_fen=1_000, principal_due_fen=10_000, principal_not_due_fen=50_000
    )
    assert allocate(1_200, owed) == allocate(1_200, owed)
    a = allocate(1_200, owed)
    assert (a.penalty_fen, a.interest_fen, a.principal_fen) == (500, 700, 0)
    a = allocate(20_000, owed)
    assert (a.penalty_fen, a.interest_fen, a.principal_fen) == (500, 1_000, 18_500)
    order = (Bucket.PRINCIPAL, Bucket.INTEREST, Bucket.PENALTY)
    a = allocate(10_500, owed, order=order)
    assert (a.penalty_fen, a.interest_fen, a.principal_fen) == (0, 500, 10_000)


def test_an_overpayment_is_refused_with_the_amount_owed():
    owed = Owed(penalty_fen=0, interest_fen=100, principal_due_fen=0, principal_not_due_fen=900)
    with pytest.raises(Overpayment, match=r"10\.01 yuan exceeds the 10\.00 yuan owed"):
        allocate(1_001, owed)


@given(
    amount=st.integers(min_value=1, max_value=10**9),
    parts=st.tuples(*[st.integers(min_value=0, max_value=10**8)] * 4),
)
def test_allocation_never_pays_more_than_is_due(amount, parts):
    owed = Owed(*parts)
    if amount > owed.total_fen:
        with pytest.raises(Overpayment):
            allocate(amount, owed)
        return
    a = allocate(amount, owed)
    assert a.total_fen == amount
    assert a.penalty_fen <= owed.penalty_fen and a.interest_fen <= owed.interest_fen
    assert a.principal_fen <= owed.principal_due_fen + owed.principal_not_due_fen


def test_rates_accept_at_most_six_decimals_of_a_percent():
    assert rate_units(D("4.35")) == 4_350_000
    with pytest.raises(ValueError, match="at most 6 decimals"):
        rate_units(D("4.0000001"))


def _one_loan_book(method, start, term=12, grace=0):
    from kvcredit.lending.domain.aging import penalty_rate_units
    from kvcredit.lending.domain.eod import new_book

    sched = build_schedules(
        principal_fen=np.array([300_000_000]),
        rate=np.array([4_350_000]),
        start=np.array([start], dtype="datetime64[D]"),
        term_months=term,
        method=method,
    )
    book = new_book(
        due_dates=sched.due_dates,
        sched_principal=np.ascontiguousarray(sched.principal),
        rate=np.array([4_350_000]),
        monthly_rate_interest=np.array(
            [method in (Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL)]
        ),
        grace_days=np.array([grace]),
        penalty_rate=np.array([penalty_rate_units(4_350_000)]),
        start=start,
    )
    return sched, book


def test_end_of_day_interest_due_equals_the_schedule_and_an_unpaid_loan_ages():
    from kvcredit.lending.domain.eod import DayAlreadyRun, DaySkipped, run_day

    start = dt.date(2024, 4, 15)
    sched, book = _one_loan_book(Method.MONTHLY_INTEREST, start)
    rules = ClassificationRules()
    day = start
    for _ in range(30):  # 2024-04-15 .. 2024-05-14: accrue 30 days
        book = run_day(book, as_of=day, rules=rules).book
        day += dt.timedelta(days=1)
    result = run_day(book, as_of=day, rules=rules)  # 2024-05-15: the first instalment is due
    assert day == dt.date(2024, 5, 15)
    assert result.book.due_interest[0] == sched.interest[0, 0] == 1_087_500
    with pytest.raises(DayAlreadyRun):
        run_day(result.book, as_of=day, rules=rules)
    with pytest.raises(DaySkipped):
        run_day(result.book, as_of=day + dt.timedelta(days=2), rules=rules)
    book = result.book
    for _ in range(91):  # nothing repaid: interest only is due, so no principal penalty yet
        day += dt.timedelta(days=1)
        result = run_day(book, as_of=day, rules=rules)
        book = result.book
    assert result.dpd[0] == 91
    assert result.category[0] == Category.SUBSTANDARD
