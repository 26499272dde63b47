"""Races on PostgreSQL: two settlements of one partner's part at the same moment. Together
more than it owes: one is recorded, the other refused (the figures are read under the pool's
lock). The same request twice (one reference): one settlement, posted once."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from test_partner_settlement import _paid_claim

from kvcredit.errors import InvalidInput
from kvcredit.fund import books, settlements
from kvcredit.fund.domain import ledger as dl
from kvcredit.fund.models import PartnerSettlement
from races import at_once

pytestmark = pytest.mark.skipif(
    os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql",
    reason="row locks and concurrent connections are tested on PostgreSQL",
)
LATER = dt.date(2025, 7, 10)


def test_two_settlements_together_over_what_is_owed_record_one(committed_world, trustees):
    w = committed_world
    _paid_claim(w, trustees)
    d = w.district["a"]

    def settle(ref, fen):
        return lambda: settlements.settle(
            w.users["trustee"],
            district_id=d.pk,
            party="insurer",
            direction="RECEIVED",
            amount_fen=fen,
            on=LATER,
            reference=ref,
        )

    results = at_once(settle("RACE-1", 100_000_00), settle("RACE-2", 100_000_00))
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["InvalidInput", "PartnerSettlement"], results
    assert any(isinstance(r, InvalidInput) for r in results)
    same = at_once(settle("RACE-3", 10_000_00), settle("RACE-3", 10_000_00))
    assert [type(r).__name__ for r in same] == ["PartnerSettlement"] * 2, same
    assert same[0].pk == same[1].pk
    assert PartnerSettlement.objects.count() == 2
    due = dl.account(d.code, dl.PoolAccount.DUE_FROM_PARTNER, "insurer")
    assert books.balances()[due] == 160_000_00 - 110_000_00
