"""The fund rules applied to claims, fees and contributions (pure): the split adds up exactly,
caps and the allowance bind, staged payments, denials, dated fee cuts and waivers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvcredit.fund.domain import compensation as dcomp
from kvcredit.fund.domain import fees as dfee
from kvcredit.fund.domain.sharing import split

GUANGDONG = [("fund", 54), ("bank", 26), ("insurer", 16), ("appraiser", 4)]


def test_a_four_party_split_adds_up_to_the_whole():
    parts = split(1_000_001, GUANGDONG)
    assert sum(parts.values()) == 1_000_001
    assert parts == {"fund": 540_001, "bank": 260_000, "insurer": 160_000, "appraiser": 40_000}
    assert list(parts) == ["fund", "bank", "insurer", "appraiser"]
    odd = split(99, GUANGDONG)  # 53.46, 25.74, 15.84, 3.96: the 3 fen left go to .96 .84 .74
    assert odd == {"fund": 53, "bank": 26, "insurer": 16, "appraiser": 4}


def test_the_largest_remainder_gets_the_fen_and_ties_go_to_the_first():
    assert split(1, [("a", 1), ("b", 1)]) == {"a": 1, "b": 0}
    assert split(2, [("a", 1), ("b", 1), ("c", 1)]) == {"a": 1, "b": 1, "c": 0}
    assert split(10, [("a", Decimal("0.75")), ("b", Decimal("0.25"))]) == {"a": 8, "b": 2}


@pytest.mark.parametrize(
    "weights",
    [[("a", -1), ("b", 2)], [("a", 0), ("b", 0)], [("a", 1), ("a", 2)]],
)
def test_bad_weights_are_refused(weights):
    with pytest.raises(ValueError):
        split(10, weights)


@given(
    total=st.integers(min_value=0, max_value=10**15),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6).filter(any),
)
def test_property_the_split_sums_exactly_and_each_part_is_within_a_fen(total, weights):
    named = [(f"p{i}", w) for i, w in enumerate(weights)]
    parts = split(total, named)
    assert sum(parts.values()) == total
    whole = sum(weights)
    for name, w in named:
        exact = Fraction(total * w, whole)
        assert parts[name] >= 0
        assert abs(parts[name] - exact) < 1


def test_caps_bind_in_turn_and_say_which():
    assert dcomp.capped(800).amount_fen == 800
    c = dcomp.capped(800, per_loan_cap_fen=500, bank_year_cap_fen=1_000, bank_year_paid_fen=600)
    assert (c.amount_fen, c.limited_by, c.cut_fen) == (400, (dcomp.Limit.BANK_YEAR,), 400)
    c = dcomp.capped(800, per_loan_cap_fen=300, allowance_left_fen=300)
    assert c.amount_fen == 300
    assert c.limited_by == (dcomp.Limit.PER_LOAN, dcomp.Limit.ALLOWANCE)
    assert dcomp.capped(800, bank_year_cap_fen=500, bank_year_paid_fen=900).amount_fen == 0


def test_the_allowance_accrues_per_loan_carries_forward_and_is_capped_by_the_balance():
    a = dcomp.allowance(
        loans_lent_fen=[100_00, 100_00],
        used_fen=0,
        balance_fen=200_00,
        accrual_rate=Decimal("0.02"),
        cap_rate=Decimal("0.04"),
    )
    assert (a.accrued_fen, a.cap_fen, a.available_fen) == (400, 800, 400)
    used = dcomp.allowance(
        loans_lent_fen=[100_00, 100_00, 1_000_00],
        used_fen=300,
        balance_fen=50_00,
        accrual_rate=Decimal("0.02"),
        cap_rate=Decimal("0.04"),
    )
    assert (used.carried_fen, used.cap_fen, used.available_fen) == (2_100, 200, 200)


def test_stages_add_up_and_wait_for_their_lock_in():
    stages = (dcomp.Stage(Decimal("0.75")), dcomp.Stage(Decimal("0.25"), after_days=30))
    assert dcomp.stage_amounts(1_001, stages) == [751, 250]
    day = dt.date(2025, 1, 1)
    assert dcomp.next_stage_wait(stages, paid_stages=0, first_paid_on=None, on=day) is None
    wait = dcomp.next_stage_wait(stages, paid_stages=1, first_paid_on=day, on=day)
    assert wait is dcomp.StageWait.LOCK_IN
    later = day + dt.timedelta(days=30)
    assert dcomp.stage_due_dates(stages, day) == [day, later]
    assert dcomp.next_stage_wait(stages, paid_stages=1, first_paid_on=day, on=later) is None
    done = dcomp.next_stage_wait(stages, paid_stages=2, first_paid_on=day, on=later)
    assert done is dcomp.StageWait.NO_STAGE_LEFT
    with pytest.raises(ValueError):
        dcomp.check_stages((dcomp.Stage(Decimal("0.5")),))


def test_denials_name_each_condition_the_rulebook_applies():
    loan = dcomp.LoanAtSigning(
        amount_fen=600,
        rate_units=6_000_000,
        evaluated_limit_fen=500,
        rate_ceiling_units=5_000_000,
        pair_suspended=True,
    )
    assert dcomp.denials(loan, dcomp.DenialRules()) == ()
    every = dcomp.DenialRules.of(
        [
            "above_evaluated_limit",
            "rate_above_ceiling",
            "signed_while_suspended",
            "not_evaluated_by_programme",
        ]
    )
    assert dcomp.denials(loan, every) == (
        dcomp.Denial.ABOVE_LIMIT,
        dcomp.Denial.RATE_ABOVE_CEILING,
        dcomp.Denial.SIGNED_WHILE_SUSPENDED,
    )
    none = dcomp.LoanAtSigning(600, 1, None, None, False)
    assert dcomp.denials(none, every) == (dcomp.Denial.NO_PROGRAMME_EVALUATION,)


def test_a_suspension_is_read_from_the_breakers_history():
    h = [(dt.date(2025, 1, 1), "SUSPENDED"), (dt.date(2025, 3, 1), "NORMAL")]
    assert not dcomp.suspended_on(h, dt.date(2024, 12, 31))
    assert dcomp.suspended_on(h, dt.date(2025, 2, 1))
    assert not dcomp.suspended_on(h, dt.date(2025, 3, 1))


def test_a_dated_fee_cut_applies_only_in_its_window_and_a_waiver_makes_it_zero():
    cuts = [
        dfee.Cut(dt.date(2017, 1, 1), dt.date(2019, 12, 31), Decimal(1), "pilot", waiver=True),
        dfee.Cut(dt.date(2022, 1, 1), dt.date(2022, 12, 31), Decimal("0.2"), "2022 relief"),
    ]
    kw = {"amount_fen": 1_000_000_00, "term_months": 12, "rate": Decimal("0.01"), "cuts": cuts}
    waived = dfee.service_fee(charged_on=dt.date(2018, 5, 1), **kw)
    assert (waived.amount_fen, waived.waived) == (0, True)
    cut = dfee.service_fee(charged_on=dt.date(2022, 12, 31), **kw)
    assert (cut.amount_fen, cut.rate, cut.cut) == (8_000_00, Decimal("0.008"), cuts[1])
    full = dfee.service_fee(charged_on=dt.date(2023, 1, 1), **kw)
    assert (full.amount_fen, full.cut) == (10_000_00, None)
    half_year = dfee.service_fee(
        amount_fen=333, term_months=6, charged_on=dt.date(2023, 1, 1), rate=Decimal("0.01")
    )
    assert half_year.amount_fen == 2  # 1.665 fen, half up
    both = [cuts[1], dfee.Cut(dt.date(2022, 6, 1), dt.date(2022, 6, 30), Decimal(1), waiver=True)]
    assert dfee.cut_on(both, dt.date(2022, 6, 15)) is both[1]  # a waiver wins


def test_contributions_owed_by_named_parties_with_a_minimum_initial_share():
    owed = dfee.contributions_owed(
        target_fen=1_000_000_01,
        shares=[("city", 40), ("district", 60)],
        paid_fen={"city": 50_000_00},
        initial_share=Decimal("0.10"),
        top_up_target=Decimal("0.5"),
    )
    city, district = owed
    assert city.committed_fen + district.committed_fen == 1_000_000_01
    assert (city.initial_due_fen, city.initial_owed_fen) == (40_000_00, 0)
    assert city.top_up_to_fen == 200_000_00
    assert city.top_up_owed_fen == 150_000_00
    assert (district.initial_owed_fen, district.paid_fen) == (60_000_00, 0)
