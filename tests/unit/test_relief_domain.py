"""Interest subsidies and deferrals, pure: exact to the fen against hand / Fraction figures."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import numpy as np
import pytest

from kvcredit.lending.domain import deferral as dd
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.domain import subsidy as ds
from kvcredit.lending.domain.aging import ClassificationRules
from kvcredit.lending.domain.eod import new_book, run_day
from kvcredit.money import round_half_up

D = dt.date


def rule(**kw):
    base = dict(
        key="cq-2022-subsidy", window_from=D(2020, 1, 1), window_to=None, share=Fraction(1, 2)
    )
    return ds.SubsidyRule(**(base | kw))


def test_a_subsidy_across_a_window_edge_is_pro_rata_by_days_and_rounded_once():
    # period 2019-12-15 .. 2020-01-14 (31 days), 14 of them inside the window (Jan 1..14)
    inst = ds.PaidInstalment(1, D(2019, 12, 15), D(2020, 1, 15), 12_345, 4_350_000)
    got = ds.instalment_subsidy(rule(), inst)
    assert got.days_in_period == 31 and got.days_in_window == 14
    exact = Fraction(12_345) * Fraction(1, 2) * Fraction(14, 31)
    assert got.exact == exact and got.amount_fen == round_half_up(exact) == 2788


def test_the_window_end_is_exclusive_and_outside_pays_nothing():
    r = rule(window_from=D(2020, 1, 1), window_to=D(2020, 1, 10))
    inst = ds.PaidInstalment(1, D(2020, 1, 5), D(2020, 2, 5), 3_100, 4_350_000)
    assert ds.instalment_subsidy(r, inst).days_in_window == 5  # Jan 5..9
    late = ds.PaidInstalment(2, D(2020, 2, 5), D(2020, 3, 5), 3_100, 4_350_000)
    assert ds.instalment_subsidy(r, late).amount_fen == 0


def test_rate_basis_pays_share_of_benchmark_over_the_loan_rate_capped_at_the_interest():
    r = rule(basis=ds.Basis.RATE)
    inst = ds.PaidInstalment(1, D(2021, 1, 15), D(2021, 2, 15), 37_458, 5_000_000)
    got = ds.instalment_subsidy(r, inst, benchmark_units=3_850_000)
    assert got.ratio == Fraction(1, 2) * Fraction(385, 500)
    assert got.amount_fen == round_half_up(Fraction(37_458) * got.ratio)
    cheap = ds.PaidInstalment(1, D(2021, 1, 15), D(2021, 2, 15), 1_000, 1_000_000)
    assert ds.instalment_subsidy(r, cheap, benchmark_units=3_850_000).amount_fen == 1_000


def test_a_half_fen_rounds_up():
    r = rule(share=Fraction(1, 2))
    inst = ds.PaidInstalment(1, D(2021, 1, 1), D(2021, 1, 31), 1, 4_350_000)
    assert ds.instalment_subsidy(r, inst).amount_fen == 1  # 0.5 fen -> 1


def test_district_and_first_time_conditions():
    r = rule(districts=("YUBEI",), first_time_only=True)
    assert r.applies_to(district="YUBEI", first_time_borrower=True)
    assert not r.applies_to(district="YUBEI", first_time_borrower=False)
    assert not r.applies_to(district="JIANGBEI", first_time_borrower=True)


Q4 = dd.DeferralRule(
    key="cq-2022-q4",
    window_from=D(2022, 10, 1),
    window_to=D(2023, 1, 1),
    defer_to=D(2023, 6, 30),
)


def test_recut_merges_the_deferred_instalments_on_the_deferral_date_exact_to_the_fen():
    rows = [
        dd.PlanRow(4, D(2022, 9, 15), 0),
        dd.PlanRow(5, D(2022, 10, 15), 0),
        dd.PlanRow(6, D(2022, 11, 15), 1_000_000),
    ]
    plan = dd.recut(
        Q4,
        rows,
        balance_not_due=1_000_000,
        period_from=D(2022, 8, 15),
        rate_units=3_650_000,
        granted_on=D(2022, 8, 20),
    )
    assert [(r.seq, r.due_date, r.principal_fen) for r in plan] == [
        (4, D(2022, 9, 15), 0),
        (5, D(2023, 6, 30), 1_000_000),
    ]
    days = (D(2023, 6, 30) - D(2022, 9, 15)).days
    assert plan[1].interest_fen == round_half_up(
        Fraction(1_000_000 * 3_650_000 * days, 360 * 10**8)
    )
    assert plan[0].interest_fen == round_half_up(Fraction(1_000_000 * 3_650_000 * 31, 360 * 10**8))


def test_recut_principal_only_keeps_the_interest_dates():
    r = dd.DeferralRule(**{**Q4.__dict__, "defers": dd.Defers.PRINCIPAL})
    rows = [dd.PlanRow(1, D(2022, 10, 15), 0), dd.PlanRow(2, D(2022, 11, 15), 500_000)]
    plan = dd.recut(
        r,
        rows,
        balance_not_due=500_000,
        period_from=D(2022, 9, 15),
        rate_units=3_650_000,
        granted_on=D(2022, 10, 1),
    )
    assert [(p.due_date, p.principal_fen) for p in plan] == [
        (D(2022, 10, 15), 0),
        (D(2022, 11, 15), 0),
        (D(2023, 6, 30), 500_000),
    ]


def test_qualifies_only_with_an_unpaid_instalment_in_the_window_and_before_the_date():
    ok = dict(live=True, district="YUBEI", unpaid_due_dates=[D(2022, 11, 15)])
    assert dd.qualifies(Q4, granted_on=D(2022, 10, 20), **ok)
    assert not dd.qualifies(Q4, granted_on=D(2023, 6, 30), **ok)
    assert not dd.qualifies(
        Q4, granted_on=D(2022, 10, 20), **(ok | {"unpaid_due_dates": [D(2023, 2, 1)]})
    )
    assert not dd.qualifies(Q4, granted_on=D(2022, 10, 20), **(ok | {"live": False}))


def test_watch_restarts_on_an_overdue_day():
    assert dd.watch_until(D(2023, 12, 27), day=D(2023, 7, 5), overdue=True, watch_days=180) == D(
        2023, 7, 5
    ) + dt.timedelta(days=180)
    assert dd.watch_until(D(2023, 12, 27), day=D(2023, 7, 5), overdue=False, watch_days=180) == D(
        2023, 12, 27
    )
    assert lc.watched("NORMAL", watching=True) is lc.Category.SPECIAL_MENTION
    assert lc.watched("SUBSTANDARD", watching=True) is lc.Category.SUBSTANDARD
    assert lc.may_defer("ACTIVE") and not lc.may_defer("COMPENSATED")


def _book(**pause):
    due = np.array([[np.datetime64("2022-10-15")]], dtype="datetime64[D]")
    b = new_book(
        due_dates=due,
        sched_principal=np.array([[1_000_000]], dtype=np.int64),
        rate=np.array([3_650_000], dtype=np.int64),
        monthly_rate_interest=np.array([False]),
        grace_days=np.array([0], dtype=np.int64),
        penalty_rate=np.array([5_475_000], dtype=np.int64),
        start=D(2022, 9, 15),
    )
    from dataclasses import replace

    return replace(b, **pause)


@pytest.mark.parametrize("waived", [True, False])
def test_the_end_of_day_waives_penalty_and_pauses_days_past_due_during_a_deferral(waived):
    b = _book(
        pause_from=np.array(["2022-10-20"], dtype="datetime64[D]"),
        pause_to=np.array(["2023-06-30"], dtype="datetime64[D]"),
        pause_accrual=np.array([False]),
        waive_penalty=np.array([waived]),
        pause_dpd=np.array([waived]),
        watch_until=np.array(["2023-12-27"], dtype="datetime64[D]"),
        watch_days=np.array([180], dtype=np.int64),
    )
    rules = ClassificationRules()
    day = D(2022, 9, 15)
    dpds, pens = {}, {}
    while day < D(2023, 7, 3):
        res = run_day(b, as_of=day, rules=rules)
        b = res.book
        dpds[day], pens[day] = int(res.dpd[0]), int(b.penalty[0])
        assert res.category[0] >= lc.Category.SPECIAL_MENTION  # under watch throughout
        day += dt.timedelta(days=1)
    # the instalment fell due 10-15 unpaid; dpd counts 10-16..10-19 (4 days), then pauses
    assert dpds[D(2022, 10, 19)] == 4
    if waived:
        assert dpds[D(2023, 6, 29)] == 4 and dpds[D(2023, 6, 30)] == 5
        daily = round_half_up(Fraction(1_000_000 * 5_475_000, 360 * 10**8))
        assert pens[D(2023, 6, 29)] == 4 * daily
        assert pens[D(2023, 7, 2)] == 7 * daily
    else:
        assert dpds[D(2023, 6, 29)] == (D(2023, 6, 29) - D(2022, 10, 15)).days
        assert pens[D(2023, 6, 29)] > 4 * 152


def test_the_shipped_rulebooks_subsidy_and_deferral_rules_convert():
    from importlib import resources

    from kvcredit import relief
    from kvcredit.rulebook.domain import parse_rulebook

    def book(name):
        text = resources.files("kvcredit.data").joinpath("rulebooks", f"{name}.toml").read_text()
        return parse_rulebook(text)

    hubei = [relief.subsidy_rule(s) for s in book("hubei-2025").subsidies]
    assert [r.basis for r in hubei] == [ds.Basis.INTEREST]
    inst = ds.PaidInstalment(
        1, hubei[0].window_from, hubei[0].window_from + dt.timedelta(31), 10_001, 3_000_000
    )
    assert ds.instalment_subsidy(hubei[0], inst).amount_fen == round_half_up(
        Fraction(10_001) * hubei[0].share
    )
    cq = book("chongqing-2022")
    (q4,) = [relief.deferral_rule(d) for d in cq.deferrals]
    assert (q4.window_from, q4.window_to, q4.defer_to) == (
        D(2022, 10, 1),
        D(2023, 1, 1),
        D(2023, 6, 30),
    )
    assert q4.defers is dd.Defers.PRINCIPAL_AND_INTEREST and q4.penalty_waived and q4.dpd_paused
    (sub,) = [relief.subsidy_rule(s) for s in cq.subsidies]
    assert sub.window_to == D(2023, 1, 1) and sub.benchmark == "PBOC_BENCHMARK"
    assert not book("chongqing-2017").subsidies
