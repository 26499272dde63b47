"""Staged claim payments that wait for more than a lock-in (SQLite and PostgreSQL): a CGTMSE-like
rulebook pays 75 % when the claim is paid and the last 25 % once the trustee has recorded that
the recovery proceedings concluded, settled on the recoveries received by then; a stage that
waits for a date; paying twice pays once; the books balance and export to beancount."""

from __future__ import annotations

import datetime as dt

import pytest
from beancount import loader
from django.db.models import Sum
from typer.testing import CliRunner

from kvcredit.audit.models import AuditRecord
from kvcredit.cli import app
from kvcredit.errors import Conflict, NotPermitted, RulebookError
from kvcredit.fund import books, claims, services
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.models import Claim, ClaimStage, JournalEntry, Pool, Posting
from kvcredit.rulebook.domain import parse_rulebook
from support.fund import make_loan
from support.rulebook import publish_rules, rulebook_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DAY = dt.date(2025, 6, 30)


def assert_books_balance() -> None:
    """Every entry balances, the books sum to zero, no pool is below zero, and what the claims
    paid is what the books show as compensation."""
    sums = Posting.objects.values("entry_id").annotate(s=Sum("amount_fen"))
    assert all(r["s"] == 0 for r in sums)
    assert len(sums) == JournalEntry.objects.count()
    everything = books.balances()
    assert sum(everything.values()) == 0
    assert all(books.cash(p) >= 0 for p in Pool.objects.all())
    paid = sum(c.paid_fen for c in Claim.objects.all())
    assert paid == sum(v for k, v in everything.items() if k.endswith(":COMPENSATION_PAID"))


def fund(world, yuan=10_000_000):
    for who, part in (("CITY", 4), ("DISTRICT", 6)):
        services.record_contribution(
            world.users["trustee"],
            district_id=world.district["a"].pk,
            contributor=who,
            amount_fen=yuan * part // 10 * 100,
            paid_date=DAY,
        )


def bad_loan(world, due_fen):
    return make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=due_fen,
        due_principal_fen=due_fen,
        days_past_due=120,
        disbursed_on=dt.date(2024, 1, 15),
    )


def claim_paid(world, trustees, loan, on=DAY):
    bank = world.users["bank_a"]
    c = claims.register(bank, loan_id=loan.pk, on=on)
    claims.file(bank, claim_id=c.pk, on=on)
    claims.check(trustees[0], claim_id=c.pk, on=on)
    return claims.pay(trustees[1], claim_id=c.pk, on=on)


CGTMSE = [
    {"share": "0.75", "after_days": 0},
    {"share": "0.25", "after_days": 0, "after_recovery_concluded": True},
]
# recoveries shared half and half, though the fund bears 80 % of the loss: the last stage then
# differs from its planned part
SHARING = {
    "parties": [
        {
            "id": "fund",
            "name": "fund",
            "name_zh": "基金",
            "compensation": "0.8",
            "recoveries": "0.5",
        },
        {
            "id": "bank",
            "name": "bank",
            "name_zh": "银行",
            "compensation": "0.2",
            "recoveries": "0.5",
        },
    ]
}


def test_the_last_stage_waits_for_the_recovery_proceedings_and_settles_on_recoveries(
    world, trustees, api_client, tmp_path
):
    publish_rules(world, "chongqing-2022", **{"fund.stages": CGTMSE, "fund.loss_sharing": SHARING})
    fund(world)
    c = claim_paid(world, trustees, bad_loan(world, 100_000_01))
    assert (c.status, c.amount_fen, c.paid_fen) == ("PARTLY_PAID", 80_000_01, 60_000_01)
    st = ClaimStage.objects.get(claim=c, seq=1)
    assert st.after_recovery_concluded and st.amount_fen == 20_000_00
    late = DAY + dt.timedelta(days=40)
    # the lock-in has passed, the proceedings have not concluded: refused, nothing changes
    with pytest.raises(Conflict, match="waits for the recovery proceedings"):
        claims.pay(trustees[1], claim_id=c.pk, on=late)
    c.refresh_from_db()
    assert (c.status, c.paid_fen, c.stages_paid) == ("PARTLY_PAID", 60_000_01, 1)
    r = claims.recover(trustees[0], claim_id=c.pk, amount_fen=10_000_00, on=DAY + dt.timedelta(5))
    assert (r.pool_share_fen, r.bank_share_fen) == (5_000_00, 5_000_00)
    # only the trustee records the end of the proceedings, once
    bank = world.users["bank_a"]
    with pytest.raises(NotPermitted):
        claims.conclude_recovery(bank, claim_id=c.pk, on=late)
    claims.conclude_recovery(trustees[0], claim_id=c.pk, on=late)
    with pytest.raises(Conflict, match="concluded already"):
        claims.conclude_recovery(trustees[0], claim_id=c.pk, on=late)
    assert AuditRecord.objects.filter(action="FUND_CLAIM_RECOVERY_CONCLUDED").count() == 1
    # the API shows each stage, what it waits for and when it became payable
    res = api_client.get(f"/api/v1/fund/claims/{c.pk}", headers=world.auth("trustee"))
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["recovery_concluded_on"] == late.isoformat()
    second = body["stages"][1]
    assert second["after_recovery_concluded"] is True
    assert second["payable_since"] == late.isoformat()
    # the fund owes 80,000.01 × (100,000.01 − 10,000.00) / 100,000.01 = 72,000.01 yuan in all;
    # it paid 60,000.01 and took back 5,000.00 of the recoveries: the last stage is 17,000.00
    c = claims.pay(trustees[1], claim_id=c.pk, on=late)
    assert (c.status, c.stages_paid, c.paid_fen) == ("PAID", 2, 60_000_01 + 17_000_00)
    assert ClaimStage.objects.get(claim=c, seq=1).amount_fen == 17_000_00
    assert c.paid_fen - c.pool_recovered_fen == 72_000_01
    # paying again pays nothing more
    with pytest.raises(Conflict):
        claims.pay(trustees[1], claim_id=c.pk, on=late)
    c.refresh_from_db()
    assert c.paid_fen == 77_000_01
    assert_books_balance()
    out = tmp_path / "fund.beancount"
    res = CliRunner().invoke(app, ["fund", "export", "--format", "beancount", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert loader.load_file(str(out))[1] == []


def test_proportional_recoveries_leave_the_last_stage_as_planned(world, trustees):
    publish_rules(world, "chongqing-2022", **{"fund.stages": CGTMSE})
    fund(world)
    c = claim_paid(world, trustees, bad_loan(world, 100_000_00))
    claims.recover(trustees[0], claim_id=c.pk, amount_fen=10_000_00, on=DAY)
    on = DAY + dt.timedelta(days=30)
    claims.conclude_recovery(trustees[0], claim_id=c.pk, on=on)
    c = claims.pay(trustees[1], claim_id=c.pk, on=on)
    # recoveries came back 80 : 20, as the loss was borne: the 25 % is paid in full
    assert (c.status, c.paid_fen) == ("PAID", 80_000_00)
    assert_books_balance()


def test_a_stage_not_before_a_date(world, trustees):
    stages = [
        {"share": "0.6", "after_days": 0},
        {"share": "0.4", "after_days": 0, "not_before": "2025-09-01"},
    ]
    publish_rules(world, "chongqing-2022", **{"fund.stages": stages})
    fund(world)
    c = claim_paid(world, trustees, bad_loan(world, 100_000_00))
    assert ClaimStage.objects.get(claim=c, seq=1).due_on == dt.date(2025, 9, 1)
    with pytest.raises(Conflict, match="not due yet"):
        claims.pay(trustees[1], claim_id=c.pk, on=dt.date(2025, 8, 31))
    c = claims.pay(trustees[1], claim_id=c.pk, on=dt.date(2025, 9, 1))
    assert (c.status, c.paid_fen) == ("PAID", 80_000_00)
    assert_books_balance()


@pytest.mark.parametrize(
    ("stages", "zh"),
    [
        (
            [
                {"share": "0.5", "after_days": 0, "not_before": "2025-01-01"},
                {"share": "0.5", "after_days": 3},
            ],
            "第一期",
        ),
        (
            [
                {"share": "0.5", "after_days": 0},
                {"share": "0.25", "after_days": 3, "after_recovery_concluded": True},
                {"share": "0.25", "after_days": 6},
            ],
            "只有最后一期",
        ),
    ],
)
def test_stage_conditions_are_checked_by_key_path_in_both_languages(stages, zh):
    with pytest.raises(RulebookError) as caught:
        parse_rulebook(rulebook_text("chongqing-2022", **{"fund.stages": stages}))
    assert any(line.startswith("fund.stages: ") for line in caught.value.lines("en"))
    assert any(
        line.startswith("fund.stages: ") and zh in line for line in caught.value.lines("zh-hans")
    )


def test_the_lifecycle_refuses_concluding_twice():
    f = dc.ClaimFacts(dc.ClaimStatus.PARTLY_PAID, recovery_concluded_on=DAY)
    assert dc.unmet("conclude_recovery", f) is dc.Unmet.RECOVERY_CONCLUDED
    assert dc.unmet("conclude_recovery", dc.ClaimFacts(dc.ClaimStatus.PARTLY_PAID)) is None
    assert "conclude_recovery" not in dc.CLAIM.allowed_steps(dc.ClaimStatus.PAID, "TRUSTEE")


def test_the_console_shows_the_stages_records_the_conclusion_and_lists_a_payable_stage(
    world, trustees, monkeypatch
):
    from django.test import Client
    from django.urls import reverse

    publish_rules(world, "chongqing-2022", **{"fund.stages": CGTMSE})
    fund(world)
    c = claim_paid(world, trustees, bad_loan(world, 100_000_00))
    late = DAY + dt.timedelta(days=31)
    monkeypatch.setattr("kvcredit.clock.today", lambda: late)
    payer = Client(HTTP_ACCEPT_LANGUAGE="en")
    payer.force_login(trustees[1])
    home = payer.get(reverse("console:programme")).content.decode()
    assert "became payable" not in home
    page = payer.get(reverse("console:claim", args=[c.pk])).content.decode()
    assert "Waits for" in page and "and the recovery proceedings concluded" in page
    assert "waits for the recovery proceedings to conclude" in page  # why it cannot be paid
    maker = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    maker.force_login(trustees[0])
    res = maker.post(reverse("console:claim_step", args=[c.pk, "conclude_recovery"]), {"note": ""})
    assert res.status_code == 302
    c.refresh_from_db()
    assert c.recovery_concluded_on == late
    zh = maker.get(reverse("console:claim", args=[c.pk])).content.decode()
    assert "且追偿程序已终结" in zh and late.isoformat() in zh
    home = payer.get(reverse("console:programme")).content.decode()
    assert "1 stage of a staged payment became payable" in home
    # the confirmation shows the amount the payment pays, from the same plan
    ask = payer.post(reverse("console:claim_step", args=[c.pk, "pay"]))
    assert ask.status_code == 200 and "20,000.00" in ask.content.decode()
