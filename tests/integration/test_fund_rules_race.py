"""Races on PostgreSQL: two payments of one bank's claims in two districts at the same moment
share the bank's cap for the year (the bank's row is locked while its caps are spent)."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from kvcredit.accounts.models import User
from kvcredit.fund import claims, services
from kvcredit.fund.models import Claim
from races import at_once
from support.fund import make_loan
from support.rulebook import publish_rules

pytestmark = pytest.mark.skipif(
    os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql",
    reason="row locks and concurrent connections are tested on PostgreSQL",
)
DAY = dt.date(2025, 6, 30)


def test_two_payments_in_two_districts_share_the_banks_cap_for_the_year(committed_world):
    w = committed_world
    publish_rules(w, "chongqing-2022", **{"fund.cap_per_bank_per_year_yuan": 1_000_000})
    t1 = w.users["trustee"]
    t2 = User.objects.create(username="trustee2", organisation=t1.organisation)
    ids = []
    for side in ("a", "b"):
        services.record_contribution(
            t1, district_id=w.district[side].pk, contributor="CITY", amount_fen=10**9, paid_date=DAY
        )
        loan = make_loan(
            enterprise=w.enterprise[side],
            bank=w.bank["a"],
            due_principal_fen=10**8,  # 1 M yuan: the fund's part is 800,000
            days_past_due=120,
        )
        c = claims.register(w.users["bank_a"], loan_id=loan.pk, on=DAY)
        claims.file(w.users["bank_a"], claim_id=c.pk, on=DAY)
        ids.append(claims.check(t1, claim_id=c.pk, on=DAY).pk)
    results = at_once(*[lambda i=i: claims.pay(t2, claim_id=i, on=DAY) for i in ids])
    assert not any(isinstance(r, Exception) for r in results), results
    paid = sorted(Claim.objects.filter(pk__in=ids).values_list("amount_fen", "limited_by"))
    assert paid == [(200_000_00, "BANK_YEAR"), (800_000_00, "")]
