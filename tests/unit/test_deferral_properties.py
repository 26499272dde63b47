"""The end of day under a deferral's pause, against a scalar Fraction reference, for random
loans, grace days, pause windows and flags (hypothesis): accrual, the charge on the due date,
penalty (waived on paused days), days past due (paused days not counted) and the category
(at least special mention under watch; an overdue day restarts the watch)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kvcredit.lending.domain.aging import ClassificationRules
from kvcredit.lending.domain.eod import new_book, run_day
from kvcredit.money import div_half_up, round_half_up

DAILY = 360 * 10**8
START = dt.date(2022, 6, 15)
D = dt.timedelta(days=1)


def npdate(day: dt.date | None) -> np.ndarray:
    return np.array([np.datetime64(day) if day else np.datetime64("NaT")], dtype="datetime64[D]")


@settings(max_examples=60, deadline=None)
@given(
    principal=st.integers(1, 10**9),
    rate=st.integers(1_000_000, 12_000_000),
    grace=st.integers(0, 5),
    term_days=st.integers(10, 60),
    pause_start=st.integers(0, 80),
    pause_len=st.integers(1, 60),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    watch_days=st.integers(0, 30),
    days=st.integers(30, 120),
)
def test_the_day_honours_a_deferral(
    principal, rate, grace, term_days, pause_start, pause_len, flags, watch_days, days
):
    accrual_paused, waived, dpd_paused = flags
    due = START + term_days * D
    pf, pt = START + pause_start * D, START + (pause_start + pause_len) * D
    watch_until = pt + watch_days * D
    pen_rate = rate * 3 // 2
    book = new_book(
        due_dates=npdate(due)[:, None],
        sched_principal=np.array([[principal]], dtype=np.int64),
        rate=np.array([rate], dtype=np.int64),
        monthly_rate_interest=np.array([False]),
        grace_days=np.array([grace], dtype=np.int64),
        penalty_rate=np.array([pen_rate], dtype=np.int64),
        start=START,
    )
    book = replace(
        book,
        pause_from=npdate(pf),
        pause_to=npdate(pt),
        pause_accrual=np.array([accrual_paused]),
        waive_penalty=np.array([waived]),
        pause_dpd=np.array([dpd_paused]),
        watch_until=npdate(watch_until),
        watch_days=np.array([watch_days], dtype=np.int64),
    )
    rules = ClassificationRules()
    acc = Fraction(0)
    interest = penalty = 0
    watch = watch_until
    for k in range(days):
        day = START + k * D
        paused = pf <= day < pt
        res = run_day(book, as_of=day, rules=rules)
        book = res.book
        if day == due:
            interest = round_half_up(acc)
            acc = Fraction(0)
        if day < due and not (paused and accrual_paused):
            acc += Fraction(principal * rate, DAILY)
        raw = max((day - due).days, 0)
        skipped = sum(1 for x in range(1, raw + 1) if pf <= due + x * D < pt) if dpd_paused else 0
        dpd = raw - skipped
        if dpd > grace and not (paused and waived):
            penalty += div_half_up(principal * pen_rate, DAILY)
        shown_dpd = dpd if dpd > grace else 0
        if day <= watch and shown_dpd > 0:
            watch = max(watch, day + watch_days * D)
        category = int(rules.classify(np.array([shown_dpd]))[0])
        if day <= watch:
            category = max(category, 1)
        assert int(res.dpd[0]) == shown_dpd, day
        assert int(book.penalty[0]) == penalty, day
        assert int(book.due_interest[0]) == interest, day
        whole, rem = int(book.acc_whole[0]), int(book.acc_rem[0])
        assert Fraction(whole) + Fraction(rem, DAILY) == acc, day
        assert int(res.category[0]) == category, day
        assert book.watch_until is not None
        assert book.watch_until[0] == np.datetime64(watch), day
