"""Fund rules added with the fund app: the compensation ratio, bridge fees, the beancount text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kvcredit.fund.domain.beancount import NumberedEntry, bean_account, render
from kvcredit.fund.domain.breaker import BreakerState, Exposure, compensation_ratio, next_state
from kvcredit.fund.domain.entries import Contributor, bridge_loan_repaid, contribution
from kvcredit.fund.domain.rules import (
    FundRules,
    bridge_fee,
    bridge_repayment_split,
    contributions_owed,
)

RULES = FundRules()
DAY = dt.date(2025, 6, 30)


def test_the_compensation_ratio_trips_the_breaker_like_the_non_performing_ratio():
    lent = Exposure(
        outstanding_fen=10_000, non_performing_fen=0, compensated_fen=800, lent_fen=10_000
    )
    assert compensation_ratio(lent) == Decimal("0.08")
    assert next_state(BreakerState.NORMAL, lent, RULES) is BreakerState.SUSPENDED
    warned = Exposure(10_000, 0, 500, 10_000)
    assert next_state(BreakerState.NORMAL, warned, RULES) is BreakerState.WARNING


def test_the_breaker_thresholds_are_configuration():
    strict = FundRules(warn_npl_ratio=Decimal("0.02"), suspend_npl_ratio=Decimal("0.03"))
    assert next_state(BreakerState.NORMAL, Exposure(100, 3), strict) is BreakerState.SUSPENDED
    with pytest.raises(ValueError, match="warning ratio"):
        FundRules(warn_npl_ratio=Decimal("0.09"))


def test_a_bridge_loans_fee_is_the_yearly_rate_on_actual_days_over_360():
    assert bridge_fee(principal_fen=36_000_000, term_days=30, rules=RULES) == 30_000


def test_a_bridge_repayment_meets_the_fee_first_and_never_more_than_is_owed():
    assert bridge_repayment_split(amount_fen=150, fee_due_fen=100, principal_due_fen=1000) == (
        100,
        50,
    )
    with pytest.raises(ValueError, match="more than the bridge loan owes"):
        bridge_repayment_split(amount_fen=1101, fee_due_fen=100, principal_due_fen=1000)


def test_a_repayment_of_the_fee_alone_balances():
    e = bridge_loan_repaid("500101", 0, 300, on=DAY, ref="b")
    assert sum(p.amount_fen for p in e.postings) == 0 and len(e.postings) == 2


def test_city_and_district_owe_four_to_six_of_the_pools_target():
    assert contributions_owed(target_fen=1_000_001, rules=RULES) == (400_000, 600_001)


def test_the_beancount_text_opens_each_account_and_writes_yuan():
    e = contribution("500101", Contributor.CITY, 123_45, on=DAY, ref='x"y')
    text = render([NumberedEntry(7, e)])
    assert "2025-06-30 open Assets:Pool:D500101:Bank CNY" in text
    assert "  Equity:Pool:D500101:CityContributions  -123.45 CNY" in text
    assert 'entry: "7"' in text and 'x\\"y' in text
    assert bean_account("POOL:500101:COMPENSATION_PAID") == "Expenses:Pool:D500101:CompensationPaid"
