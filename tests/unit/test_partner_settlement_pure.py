"""The pure rule of a partner settlement: what is open per direction, the refusals, the
balanced entries."""

from __future__ import annotations

import datetime as dt

import pytest

from kvcredit.fund.domain import settlement as ds

DAY = dt.date(2025, 7, 1)
P = ds.PartnerPosition("insurer", shares_fen=160_000_00, recovered_fen=1_600)


def ask(position, direction, fen, *, on=DAY, last=DAY, cash=10**12):
    return ds.refusal(position, direction, fen, on=on, today=DAY, last_event=last, cash_fen=cash)


def test_what_is_open_in_each_direction():
    assert (P.owed_fen, P.payable_fen, P.refundable_fen) == (159_984_00, 0, 0)
    paid = ds.PartnerPosition("insurer", shares_fen=160_000_00, received_fen=160_000_00)
    assert (paid.owed_fen, paid.payable_fen) == (0, 160_000_00)
    later = ds.PartnerPosition(
        "insurer", shares_fen=160_000_00, recovered_fen=1_600, received_fen=160_000_00
    )
    assert (later.owed_fen, later.refundable_fen, later.payable_fen) == (0, 1_600, 159_984_00)
    back = ds.PartnerPosition(
        "insurer",
        shares_fen=160_000_00,
        recovered_fen=1_600,
        received_fen=160_000_00,
        refunded_fen=1_600,
        paid_out_fen=159_984_00,
    )
    assert (back.owed_fen, back.refundable_fen, back.payable_fen) == (0, 0, 0)


@pytest.mark.parametrize(
    ("direction", "fen", "kw", "why"),
    [
        (ds.Direction.RECEIVED, 0, {}, ds.Refusal.NOT_POSITIVE),
        (ds.Direction.RECEIVED, 159_984_01, {}, ds.Refusal.MORE_THAN_OPEN),
        (ds.Direction.RECEIVED, 159_984_00, {}, None),
        (ds.Direction.RECEIVED, 1, {"on": DAY + dt.timedelta(days=1)}, ds.Refusal.AFTER_TODAY),
        (ds.Direction.RECEIVED, 1, {"last": DAY + dt.timedelta(days=1)}, ds.Refusal.BEFORE_HISTORY),
        (ds.Direction.PAID_OUT, 1, {}, ds.Refusal.MORE_THAN_OPEN),
        (ds.Direction.REFUNDED, 1, {}, ds.Refusal.MORE_THAN_OPEN),
    ],
)
def test_refusals(direction, fen, kw, why):
    assert ask(P, direction, fen, **kw) is why


def test_a_payment_out_needs_the_cash():
    paid = ds.PartnerPosition("insurer", shares_fen=100, received_fen=100)
    assert ask(paid, ds.Direction.PAID_OUT, 100, cash=99) is ds.Refusal.NO_CASH
    assert ask(paid, ds.Direction.PAID_OUT, 100, cash=100) is None


@pytest.mark.parametrize("direction", list(ds.Direction))
def test_entries_balance(direction):
    e = ds.entry("500101", "insurer", direction, 12_345, on=DAY, ref="R-1")
    assert sum(p.amount_fen for p in e.postings) == 0
    cash = [p.amount_fen for p in e.postings if p.account == "POOL:500101:BANK"]
    assert cash == [12_345 if direction is ds.Direction.RECEIVED else -12_345]
    with pytest.raises(ValueError):
        ds.entry("500101", "insurer", direction, 0, on=DAY, ref="R-1")
