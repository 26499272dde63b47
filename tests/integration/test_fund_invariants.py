"""The books' invariants over random sequences of fund use cases, on the database (hypothesis
stateful): every entry balances, no pool goes below zero, compensation never exceeds the share
of overdue principal, recovery shares add up, and the pools sum to the fund."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kvcredit.accounts.models import User
from kvcredit.errors import Conflict, InvalidInput
from kvcredit.fund import books, claims, services
from kvcredit.fund.models import Claim, JournalEntry, Pool, Posting, Recovery
from support.fund import make_loan

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
DAY = dt.date(2025, 6, 30)
SIDES = ("a", "b")
amounts = st.integers(min_value=1, max_value=10**9)


class _Rollback(Exception):
    pass


def test_random_sequences_of_fund_use_cases_keep_the_books(world):
    checker = User.objects.create(
        username="trustee2", organisation=world.users["trustee"].organisation
    )

    class FundService(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.t = world.users["trustee"]
            self.overdue = 0

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

        @rule(
            side=st.sampled_from(SIDES), who=st.sampled_from(["CITY", "DISTRICT"]), amount=amounts
        )
        def contribute(self, side, who, amount):
            services.record_contribution(
                self.t,
                district_id=world.district[side].pk,
                contributor=who,
                amount_fen=amount,
                paid_date=DAY,
            )

        @rule(side=st.sampled_from(SIDES), due=amounts, dpd=st.integers(1, 400))
        def claim_and_pay(self, side, due, dpd):
            loan = make_loan(
                enterprise=world.enterprise[side],
                bank=world.bank[side],
                amount_fen=due,
                due_principal_fen=due,
                days_past_due=dpd,
            )
            bank = world.users[f"bank_{side}"]
            c = claims.register(bank, loan_id=loan.pk, on=DAY)
            try:
                c = claims.file(bank, claim_id=c.pk, on=DAY)
            except InvalidInput:
                return
            self.overdue += due
            claims.check(self.t, claim_id=c.pk, on=DAY)
            claims.pay(checker, claim_id=c.pk, on=DAY)

        @rule(data=st.data())
        def retry_waiting(self, data):
            waiting = list(Claim.objects.filter(status="CHECKED").values_list("pk", flat=True))
            if waiting:
                claims.pay(checker, claim_id=data.draw(st.sampled_from(waiting)), on=DAY)

        @rule(data=st.data(), amount=amounts)
        def recover(self, data, amount):
            paid = list(Claim.objects.filter(status__in=["PAID", "RECOVERING"]))
            if not paid:
                return
            c = data.draw(st.sampled_from(paid))
            amount = min(amount, c.overdue_principal_fen - c.recovered_fen)
            if amount > 0:
                claims.recover(self.t, claim_id=c.pk, amount_fen=amount, on=DAY)

        @rule(side=st.sampled_from(SIDES), amount=amounts, months=st.integers(1, 12))
        def charge_fee(self, side, amount, months):
            loan = make_loan(
                enterprise=world.enterprise[side],
                bank=world.bank[side],
                amount_fen=amount,
                term_months=months,
            )
            services.charge_service_fee(self.t, loan_id=loan.pk, on=DAY)

        @rule(side=st.sampled_from(SIDES), amount=amounts, days=st.integers(1, 90))  # rulebook
        def bridge(self, side, amount, days):
            with contextlib.suppress(Conflict):
                services.lend_bridge(
                    self.t,
                    enterprise_id=world.enterprise[side].pk,
                    principal_fen=amount,
                    term_days=days,
                    on=DAY,
                )

        @invariant()
        def every_entry_balances(self):
            sums = Posting.objects.values("entry_id").annotate(s=Sum("amount_fen"))
            assert all(r["s"] == 0 for r in sums)
            assert JournalEntry.objects.count() == len(sums)

        @invariant()
        def no_pool_goes_below_zero(self):
            assert all(books.cash(p) >= 0 for p in Pool.objects.all())

        @invariant()
        def compensation_never_exceeds_the_share_of_overdue_principal(self):
            paid = Claim.objects.filter(payment_entry__isnull=False)
            for c in paid:
                assert 100 * c.amount_fen <= 80 * c.overdue_principal_fen + 50
            compensated = -sum(
                v for k, v in books.balances().items() if k.endswith(":COMPENSATION_PAID")
            )
            assert -compensated == sum(c.amount_fen for c in paid)

        @invariant()
        def recovery_shares_add_up(self):
            for r in Recovery.objects.all():
                assert r.pool_share_fen + r.bank_share_fen == r.amount_fen
            pool_side = -sum(v for k, v in books.balances().items() if k.endswith(":RECOVERIES"))
            assert pool_side == sum(r.pool_share_fen for r in Recovery.objects.all())

        @invariant()
        def the_pools_sum_to_the_fund(self):
            everything = books.balances()
            assert sum(everything.values()) == 0
            fund = sum(v for k, v in everything.items() if k.endswith(":BANK"))
            assert fund == sum(books.cash(p) for p in Pool.objects.all())
            assert sum(sum(books.balances([p]).values()) for p in Pool.objects.all()) == 0

    FundService.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    FundService.TestCase().runTest()
