"""Races on PostgreSQL: two requests at the same moment, on separate connections."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from kvcredit.accounts.models import User
from kvcredit.errors import Conflict
from kvcredit.fund import books, claims, services
from kvcredit.fund.models import Claim, Pool
from races import at_once
from support.fund import make_loan

pytestmark = pytest.mark.skipif(
    os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql",
    reason="row locks and concurrent connections are tested on PostgreSQL",
)
DAY = dt.date(2025, 6, 30)


def test_two_claims_on_one_loan_at_the_same_moment_make_one_claim(committed_world):
    w = committed_world
    loan = make_loan(
        enterprise=w.enterprise["a"], bank=w.bank["a"], due_principal_fen=10**8, days_past_due=120
    )
    bank = w.users["bank_a"]
    results = at_once(*[lambda: claims.register(bank, loan_id=loan.pk, on=DAY)] * 2)
    assert sorted(type(r).__name__ for r in results) == ["Claim", "Conflict"]
    assert Claim.objects.filter(loan=loan).count() == 1


def test_two_payments_the_pool_can_cover_only_once_pay_one_and_the_other_waits(committed_world):
    w = committed_world
    t1 = w.users["trustee"]
    t2 = User.objects.create(username="trustee2", organisation=t1.organisation)
    services.record_contribution(
        t1, district_id=w.district["a"].pk, contributor="CITY", amount_fen=10**8, paid_date=DAY
    )
    ids = []
    for _ in range(2):
        loan = make_loan(
            enterprise=w.enterprise["a"],
            bank=w.bank["a"],
            due_principal_fen=10**8,
            days_past_due=120,
        )
        c = claims.register(w.users["bank_a"], loan_id=loan.pk, on=DAY)
        claims.file(w.users["bank_a"], claim_id=c.pk, on=DAY)
        ids.append(claims.check(t1, claim_id=c.pk, on=DAY).pk)
    results = at_once(*[lambda i=i: claims.pay(t2, claim_id=i, on=DAY) for i in ids])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(Claim.objects.values_list("status", flat=True)) == ["CHECKED", "PAID"]
    assert books.cash(Pool.objects.get(district=w.district["a"])) == 10**8 - 8 * 10**7


def test_a_paid_claim_cannot_be_paid_twice_by_two_trustees_at_once(committed_world):
    w = committed_world
    t1 = w.users["trustee"]
    t2 = User.objects.create(username="trustee2", organisation=t1.organisation)
    t3 = User.objects.create(username="trustee3", organisation=t1.organisation)
    services.record_contribution(
        t1, district_id=w.district["a"].pk, contributor="CITY", amount_fen=10**9, paid_date=DAY
    )
    loan = make_loan(
        enterprise=w.enterprise["a"], bank=w.bank["a"], due_principal_fen=10**8, days_past_due=120
    )
    c = claims.register(w.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(w.users["bank_a"], claim_id=c.pk, on=DAY)
    claims.check(t1, claim_id=c.pk, on=DAY)
    results = at_once(*[lambda u=u: claims.pay(u, claim_id=c.pk, on=DAY) for u in (t2, t3)])
    assert sorted(type(r).__name__ for r in results) == ["Claim", "Conflict"]
    assert isinstance(next(r for r in results if isinstance(r, Exception)), Conflict)
    assert books.cash(Pool.objects.get(district=w.district["a"])) == 10**9 - 8 * 10**7
