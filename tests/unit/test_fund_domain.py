"""The fund's pure rules and books: every entry balances, no pool goes negative."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kvcredit.fund.domain.breaker import BreakerState, Exposure, lift, next_state
from kvcredit.fund.domain.entries import (
    Contributor,
    InsufficientFunds,
    bridge_loan_out,
    bridge_loan_repaid,
    compensation,
    contribution,
    fee,
    recovery,
)
from kvcredit.fund.domain.ledger import (
    JournalEntry,
    PoolAccount,
    Posting,
    UnbalancedEntry,
    account,
    balances,
    pool_cash,
    trial_balance,
)
from kvcredit.fund.domain.rules import (
    ClaimRefused,
    FeeReduction,
    FundRules,
    claim_amount,
    contribution_split,
    recovery_split,
    service_fee,
)

RULES = FundRules()
DAY = dt.date(2025, 6, 30)


def test_fund_pays_eighty_percent_of_overdue_principal():
    assert (
        claim_amount(overdue_principal_fen=100_000_000, days_overdue=90, rules=RULES) == 80_000_000
    )


def test_a_claim_before_ninety_days_overdue_is_refused():
    with pytest.raises(ClaimRefused, match="89 days overdue"):
        claim_amount(overdue_principal_fen=100_000_000, days_overdue=89, rules=RULES)


def test_recovery_is_shared_eighty_twenty_and_adds_up():
    assert recovery_split(1_000_001, RULES) == (800_001, 200_000)


def test_contributions_split_four_to_six():
    assert contribution_split(1_000_000_000, RULES) == (400_000_000, 600_000_000)


def test_service_fee_is_one_percent_a_year_and_a_dated_reduction_applies_inside_its_window():
    cut = [FeeReduction(dt.date(2020, 1, 1), dt.date(2023, 1, 1), Decimal("20"), "COVID relief")]
    args = {"amount_fen": 300_000_000, "term_months": 12, "rules": RULES, "reductions": cut}
    assert service_fee(charged_on=dt.date(2019, 12, 31), **args) == 3_000_000
    assert service_fee(charged_on=dt.date(2022, 12, 31), **args) == 2_400_000
    assert service_fee(charged_on=dt.date(2023, 1, 1), **args) == 3_000_000


def test_an_unbalanced_entry_cannot_be_made():
    with pytest.raises(UnbalancedEntry, match="differ by 1 fen"):
        JournalEntry(
            DAY,
            "bad",
            (
                Posting(account("500103", PoolAccount.BANK), 101),
                Posting(account("500103", PoolAccount.RECOVERIES), -100),
            ),
        )


def test_a_reversal_cancels_the_entry_it_reverses():
    entry = contribution("500103", Contributor.CITY, 5_000, on=DAY, ref="C1")
    back = entry.reversal(entry_date=DAY, reference="C1", why="wrong district")
    assert balances([entry, back]) == {
        account("500103", PoolAccount.BANK): 0,
        account("500103", PoolAccount.CITY_CONTRIBUTIONS): 0,
    }


def test_a_compensation_the_pool_cannot_cover_waits():
    with pytest.raises(InsufficientFunds, match=r"holds 10\.00 yuan"):
        compensation("500103", 1_001, on=DAY, ref="K1", cash_fen=1_000)


@pytest.mark.parametrize(
    ("state", "npl", "expected"),
    [
        (BreakerState.NORMAL, 4_99, BreakerState.NORMAL),
        (BreakerState.NORMAL, 5_00, BreakerState.WARNING),
        (BreakerState.WARNING, 7_99, BreakerState.WARNING),
        (BreakerState.WARNING, 8_00, BreakerState.SUSPENDED),
        (BreakerState.WARNING, 1_00, BreakerState.NORMAL),
        (BreakerState.SUSPENDED, 0, BreakerState.SUSPENDED),  # only the trustee lifts it
    ],
)
def test_breaker_warns_at_five_percent_and_suspends_at_eight(state, npl, expected):
    assert next_state(state, Exposure(100_00, npl), RULES) is expected


def test_lifting_a_suspension_needs_a_written_reason():
    with pytest.raises(ValueError, match="written reason"):
        lift(BreakerState.SUSPENDED, reason=" ")
    assert (
        lift(BreakerState.SUSPENDED, reason="bad loans written off, bank plan agreed")
        is BreakerState.WARNING
    )


DISTRICTS = ("500103", "500112")
amounts = st.integers(min_value=1, max_value=10**10)


class FundBooks(RuleBasedStateMachine):
    """Random sequences of fund events keep the books' invariants."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[JournalEntry] = []
        self.compensated = 0
        self.overdue_principal = 0
        self.recovered = 0
        self.recovery_parts = 0
        self.bridge = 0
        self.claims = 0

    def cash(self, d: str) -> int:
        return pool_cash(self.entries, d)

    @rule(d=st.sampled_from(DISTRICTS), who=st.sampled_from(Contributor), amount=amounts)
    def contribute(self, d, who, amount):
        self.entries.append(contribution(d, who, amount, on=DAY, ref="c"))

    @rule(d=st.sampled_from(DISTRICTS), principal=amounts, days=st.integers(0, 400))
    def claim(self, d, principal, days):
        try:
            amount = claim_amount(overdue_principal_fen=principal, days_overdue=days, rules=RULES)
            self.entries.append(compensation(d, amount, on=DAY, ref="k", cash_fen=self.cash(d)))
        except (ClaimRefused, InsufficientFunds):
            return
        self.compensated += amount
        self.overdue_principal += principal
        self.claims += 1

    @rule(d=st.sampled_from(DISTRICTS), amount=amounts)
    def recover(self, d, amount):
        pool, bank = recovery_split(amount, RULES)
        self.recovered += amount
        self.recovery_parts += pool + bank
        if pool:
            self.entries.append(recovery(d, pool, on=DAY, ref="r"))

    @rule(d=st.sampled_from(DISTRICTS), amount=amounts)
    def charge_fee(self, d, amount):
        self.entries.append(fee(d, amount, on=DAY, ref="f"))

    @rule(d=st.sampled_from(DISTRICTS), amount=amounts)
    def lend_bridge(self, d, amount):
        try:
            self.entries.append(bridge_loan_out(d, amount, on=DAY, ref="b", cash_fen=self.cash(d)))
        except InsufficientFunds:
            return
        self.bridge += amount

    @precondition(lambda self: self.bridge > 0)
    @rule(d=st.sampled_from(DISTRICTS), fee_fen=st.integers(0, 10**6))
    def repay_bridge(self, d, fee_fen):
        out = balances(self.entries).get(account(d, PoolAccount.BRIDGE_LOANS), 0)
        if out > 0:
            self.entries.append(bridge_loan_repaid(d, out, fee_fen, on=DAY, ref="b"))
            self.bridge -= out

    @invariant()
    def every_entry_balances_and_the_trial_balance_is_even(self):
        assert all(sum(p.amount_fen for p in e.postings) == 0 for e in self.entries)
        lines = trial_balance(self.entries)
        assert sum(x.debit_fen for x in lines) == sum(x.credit_fen for x in lines)

    @invariant()
    def no_pool_goes_below_zero(self):
        assert all(self.cash(d) >= 0 for d in DISTRICTS)

    @invariant()
    def compensation_never_exceeds_the_share_of_overdue_principal(self):
        # each claim rounds half up to the fen once: at most half a fen over the exact share
        assert 2 * (self.compensated * 100 - self.overdue_principal * 80) <= 100 * self.claims

    @invariant()
    def recovery_shares_add_up_to_what_was_recovered(self):
        assert self.recovery_parts == self.recovered

    @invariant()
    def the_pools_sum_to_the_fund(self):
        fund = sum(v for k, v in balances(self.entries).items() if k.endswith(":BANK"))
        assert fund == sum(self.cash(d) for d in DISTRICTS)


FundBooks.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestFundBooks = FundBooks.TestCase
