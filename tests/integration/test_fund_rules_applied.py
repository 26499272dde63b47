"""The fund rules of the rulebook applied, per shipped rulebook, on the database (SQLite and
PostgreSQL): a claim under a cap, an allowance running out and carrying forward, a staged
payment, a four-party loss split whose parts add up to the whole (for compensation and for
recoveries), denial conditions, fee cuts and waivers, contributions owed, and a rule change
that leaves earlier decisions as they were. The books balance after every scenario."""

from __future__ import annotations

import datetime as dt

import pytest
from beancount import loader
from django.db.models import Sum
from django.utils import translation
from typer.testing import CliRunner

from kvcredit.cli import app
from kvcredit.errors import Conflict, InvalidInput
from kvcredit.fund import applied, books, claims, services
from kvcredit.fund.domain import ledger as dl
from kvcredit.fund.models import Claim, ClaimStage, JournalEntry, LossShare, Pool, Posting
from kvcredit.lending import services as lending
from kvcredit.rulebook import services as rbs
from support.fund import make_loan
from support.rulebook import publish_rules

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DAY = dt.date(2025, 6, 30)
YUAN = 100
SHIPPED = ["chongqing-2017", "chongqing-2022", "hubei-2025"]
GUANGDONG = [
    {"id": "fund", "name": "fund", "name_zh": "基金", "compensation": "0.54", "recoveries": "0.54"},
    {"id": "bank", "name": "bank", "name_zh": "银行", "compensation": "0.26", "recoveries": "0.26"},
    {
        "id": "insurer",
        "name": "insurer",
        "name_zh": "保险公司",
        "compensation": "0.16",
        "recoveries": "0.16",
    },
    {
        "id": "appraiser",
        "name": "appraiser",
        "name_zh": "评估机构",
        "compensation": "0.04",
        "recoveries": "0.04",
    },
]


def assert_books_balance() -> None:
    """Every entry balances, the books sum to zero, no pool's cash is below zero, and what the
    claims paid is what the books show as compensation."""
    sums = Posting.objects.values("entry_id").annotate(s=Sum("amount_fen"))
    assert all(r["s"] == 0 for r in sums)
    assert len(sums) == JournalEntry.objects.count()
    everything = books.balances()
    assert sum(everything.values()) == 0
    assert all(books.cash(p) >= 0 for p in Pool.objects.all())
    paid = sum(c.paid_fen for c in Claim.objects.all())
    assert paid == sum(v for k, v in everything.items() if k.endswith(":COMPENSATION_PAID"))


def fund(world, side="a", yuan=10_000_000):
    t = world.users["trustee"]
    for who, part in (("CITY", 4), ("DISTRICT", 6)):
        services.record_contribution(
            t,
            district_id=world.district[side].pk,
            contributor=who,
            amount_fen=yuan * part // 10 * YUAN,
            paid_date=DAY,
        )


def bad_loan(world, due_fen, *, amount_fen=None, side="a", disbursed_on=dt.date(2024, 1, 15)):
    return make_loan(
        enterprise=world.enterprise[side],
        bank=world.bank[side],
        amount_fen=amount_fen or due_fen,
        due_principal_fen=due_fen,
        days_past_due=120,
        disbursed_on=disbursed_on,
    )


def claim_paid(world, trustees, loan, on=DAY, side="a"):
    bank = world.users[f"bank_{side}"]
    c = claims.register(bank, loan_id=loan.pk, on=on)
    claims.file(bank, claim_id=c.pk, on=on)
    claims.check(trustees[0], claim_id=c.pk, on=on)
    return claims.pay(trustees[1], claim_id=c.pk, on=on)


@pytest.mark.parametrize("base", SHIPPED)
def test_a_claim_under_a_cap_per_loan_and_per_bank_a_year(world, trustees, base):
    publish_rules(
        world,
        base,
        **{"fund.cap_per_loan_yuan": 500_000, "fund.cap_per_bank_per_year_yuan": 600_000},
    )
    fund(world)
    c = claim_paid(world, trustees, bad_loan(world, 1_000_000 * YUAN))
    assert (c.share_fen, c.amount_fen, c.limited_by) == (800_000_00, 500_000_00, "PER_LOAN")
    assert c.status == "PAID" and c.paid_fen == 500_000_00
    c2 = claim_paid(world, trustees, bad_loan(world, 200_000 * YUAN))
    assert (c2.share_fen, c2.amount_fen, c2.limited_by) == (160_000_00, 100_000_00, "BANK_YEAR")
    with pytest.raises(Conflict, match="the bank's cap for the year is used up"):
        claim_paid(world, trustees, bad_loan(world, 10_000 * YUAN))
    # a new year: the bank's cap is whole again
    c4 = claim_paid(world, trustees, bad_loan(world, 10_000 * YUAN), on=dt.date(2026, 1, 5))
    assert (c4.amount_fen, c4.limited_by) == (8_000_00, "")
    assert_books_balance()


@pytest.mark.parametrize("base", SHIPPED)
def test_an_allowance_runs_out_and_carries_forward(world, trustees, base):
    publish_rules(
        world,
        base,
        **{
            "fund.allowance": {
                "pct_of_loan": "0.02",
                "carry_forward": True,
                "cap_pct_of_balance": "0.04",
            }
        },
    )
    fund(world)
    bank = world.bank["a"].pk
    make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=10**9)  # 10 M
    b1 = bad_loan(world, 300_000 * YUAN, amount_fen=1_000_000 * YUAN)
    b0 = bad_loan(world, 1_000 * YUAN)
    before = applied.allowance_of(bank, DAY, rbs.rules_on(DAY))
    # 2 % of 10 M + 1 M + 1,000 yuan lent; at most 4 % of the 11,001,000 yuan outstanding
    assert (before.accrued_fen, before.cap_fen, before.available_fen) == (
        220_020_00,
        440_040_00,
        220_020_00,
    )
    c1 = claim_paid(world, trustees, b1)
    assert (c1.share_fen, c1.amount_fen, c1.limited_by) == (240_000_00, 220_020_00, "ALLOWANCE")
    assert applied.allowance_of(bank, DAY, rbs.rules_on(DAY)).available_fen == 0
    with pytest.raises(Conflict, match="allowance is used up"):
        claim_paid(world, trustees, b0)
    # the next year: a new loan adds to what is carried forward
    later = dt.date(2026, 3, 2)
    make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=500_000_000,
        disbursed_on=dt.date(2026, 1, 10),
    )
    b2 = bad_loan(world, 100_000 * YUAN, disbursed_on=dt.date(2026, 1, 11))
    now = applied.allowance_of(bank, later, rbs.rules_on(later))
    assert now.accrued_fen == 220_020_00 + 100_000_00 + 2_000_00  # carried forward, and more
    assert now.available_fen == now.accrued_fen - 220_020_00 == 102_000_00
    c2 = claim_paid(world, trustees, b2, on=later)
    assert (c2.amount_fen, c2.limited_by) == (80_000_00, "")
    assert applied.allowance_of(bank, later, rbs.rules_on(later)).available_fen == 22_000_00
    assert_books_balance()


@pytest.mark.parametrize("base", SHIPPED)
def test_a_staged_payment_75_then_25_after_a_lock_in(world, trustees, base):
    publish_rules(
        world,
        base,
        **{
            "fund.stages": [{"share": "0.75", "after_days": 0}, {"share": "0.25", "after_days": 30}]
        },
    )
    fund(world)
    c = claim_paid(world, trustees, bad_loan(world, 100_000_01))
    assert c.status == "PARTLY_PAID" and c.amount_fen == 80_000_01
    stages = list(ClaimStage.objects.filter(claim=c).order_by("seq"))
    assert [s.amount_fen for s in stages] == [60_000_01, 20_000_00]
    assert sum(s.amount_fen for s in stages) == c.amount_fen
    assert stages[1].due_on == DAY + dt.timedelta(days=30) and stages[1].paid_on is None
    assert c.paid_fen == 60_000_01
    assert_books_balance()
    with pytest.raises(Conflict, match="not due yet"):
        claims.pay(trustees[1], claim_id=c.pk, on=DAY + dt.timedelta(days=29))
    claims.recover(trustees[0], claim_id=c.pk, amount_fen=1_000, on=DAY + dt.timedelta(days=5))
    c = claims.pay(trustees[1], claim_id=c.pk, on=DAY + dt.timedelta(days=30))
    assert (c.status, c.paid_fen, c.stages_paid) == ("PAID", 80_000_01, 2)
    with pytest.raises(Conflict):
        claims.pay(trustees[1], claim_id=c.pk, on=DAY + dt.timedelta(days=31))
    assert_books_balance()


@pytest.mark.parametrize("base", SHIPPED)
def test_a_four_party_loss_split_adds_up_for_compensation_and_recoveries(
    world, trustees, base, tmp_path
):
    publish_rules(
        world, base, compensation_share="0.54", **{"fund.loss_sharing": {"parties": GUANGDONG}}
    )
    fund(world)
    loss = 1_000_000_01
    c = claim_paid(world, trustees, bad_loan(world, loss))
    parts = {s.party: s.amount_fen for s in LossShare.objects.filter(claim=c, recovery=None)}
    assert parts == {
        "fund": 540_000_01,
        "bank": 260_000_00,
        "insurer": 160_000_00,
        "appraiser": 40_000_00,
    }
    assert sum(parts.values()) == loss
    assert c.amount_fen == parts["fund"]
    bal = books.balances()
    d = world.district["a"].code
    insurer = dl.account(d, dl.PoolAccount.DUE_FROM_PARTNER, "insurer")
    assert bal[insurer] == 160_000_00
    assert bal[dl.account(d, dl.PoolAccount.PARTNER_SHARES_PAYABLE)] == -200_000_00
    r = claims.recover(trustees[0], claim_id=c.pk, amount_fen=10_003, on=DAY)
    rec = {s.party: s.amount_fen for s in LossShare.objects.filter(recovery=r)}
    assert sum(rec.values()) == 10_003
    assert rec == {"fund": 5_402, "bank": 2_601, "insurer": 1_600, "appraiser": 400}
    assert (r.pool_share_fen, r.bank_share_fen, r.partner_share_fen) == (5_402, 2_601, 2_000)
    assert books.balances()[insurer] == 160_000_00 - 1_600
    assert_books_balance()
    out = tmp_path / "fund.beancount"
    res = CliRunner().invoke(app, ["fund", "export", "--format", "beancount", "--out", str(out)])
    assert res.exit_code == 0, res.output
    _entries, errors, _ = loader.load_file(str(out))
    assert errors == []
    assert "DueFromPartner:Pinsurer" in out.read_text()


def test_denial_conditions_name_the_condition_in_both_languages(world, trustees):
    publish_rules(world, "chongqing-2022")
    fund(world)
    admin = world.users["admin"]
    s = lending.suspend_bank(
        admin,
        bank_id=world.bank["a"].pk,
        district_id=world.district["a"].pk,
        from_date=dt.date(2024, 1, 1),
        reason="breaker",
    )
    lending.lift_suspension(admin, suspension_id=s.pk, to_date=dt.date(2024, 2, 1))
    signed_then = bad_loan(world, 10_000 * YUAN)  # signed 2024-01-15, while suspended
    bank = world.users["bank_a"]
    with pytest.raises(InvalidInput, match="signed while the bank was suspended") as caught:
        claims.register(bank, loan_id=signed_then.pk, on=DAY)
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as zh:
        claims.register(bank, loan_id=signed_then.pk, on=DAY)
    assert "贷款签约时该银行在本区县处于暂停状态" in str(zh.value.detail)
    assert "loan_id" in str(caught.value.detail)
    after = bad_loan(world, 10_000 * YUAN, disbursed_on=dt.date(2024, 3, 1))
    assert claim_paid(world, trustees, after).status == "PAID"
    assert_books_balance()


@pytest.mark.parametrize(
    ("base", "on", "fee_fen", "waived", "cut"),
    [
        ("chongqing-2017", dt.date(2018, 5, 1), 0, True, "1"),
        ("chongqing-2022", dt.date(2022, 6, 1), 8_000_00, False, "0.20"),
        ("chongqing-2022", dt.date(2023, 1, 1), 10_000_00, False, ""),
        ("hubei-2025", dt.date(2025, 6, 1), 10_000_00, False, ""),
    ],
)
def test_fees_apply_the_rulebooks_rate_waivers_and_dated_cuts(
    world, trustees, base, on, fee_fen, waived, cut
):
    published = publish_rules(world, base)
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=1_000_000 * YUAN,
        disbursed_on=on,
    )
    fee = services.charge_service_fee(trustees[0], loan_id=loan.pk, on=on)
    assert (fee.amount_fen, fee.waived, fee.cut) == (fee_fen, waived, cut)
    assert fee.rulebook_hash == published.content_hash
    assert fee.payer == "BANK"
    assert bool(fee.cut_reason) == bool(cut)
    assert_books_balance()


@pytest.mark.parametrize(
    ("base", "names", "initial"),
    [
        ("chongqing-2022", ["city", "district"], [40_000_00, 60_000_00]),
        ("hubei-2025", ["province", "city"], [500_000_00, 500_000_00]),
    ],
)
def test_contributions_owed_under_the_rulebooks_party_names(world, trustees, base, names, initial):
    publish_rules(world, base)
    t = trustees[0]
    d = world.district["a"]
    services.set_pool_target(t, district_id=d.pk, target_fen=1_000_000 * YUAN)
    services.record_contribution(
        t, district_id=d.pk, contributor="CITY", amount_fen=50_000 * YUAN, paid_date=DAY
    )
    rows = applied.owed(Pool.objects.get(district=d), DAY)
    assert [r.id for r in rows] == names
    assert [r.owed.initial_due_fen for r in rows] == initial
    assert sum(r.owed.committed_fen for r in rows) == 1_000_000 * YUAN
    assert rows[0].owed.paid_fen == 50_000 * YUAN
    assert rows[0].owed.top_up_owed_fen == rows[0].owed.committed_fen - 50_000 * YUAN


def test_a_rule_change_leaves_earlier_decisions_as_they_were(world, trustees):
    first = publish_rules(world, "chongqing-2022")
    fund(world)
    c1 = claim_paid(world, trustees, bad_loan(world, 100_000 * YUAN))
    fee1 = services.charge_service_fee(trustees[0], loan_id=c1.loan_id, on=DAY)
    assert (c1.amount_fen, fee1.amount_fen) == (80_000 * YUAN, 1_000 * YUAN)
    second = publish_rules(
        world,
        "chongqing-2022",
        version="t2",
        effective="2025-07-01",
        compensation_share="0.54",
        **{"fund.loss_sharing": {"parties": GUANGDONG}, "fund.fees.rate": "0.02"},
    )
    later = dt.date(2025, 7, 2)
    c2 = claim_paid(world, trustees, bad_loan(world, 100_000 * YUAN), on=later)
    assert c2.amount_fen == 54_000 * YUAN
    loan3 = make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=100_000 * YUAN
    )
    assert services.charge_service_fee(trustees[0], loan_id=loan3.pk, on=later).amount_fen == (
        2_000 * YUAN
    )
    c1.refresh_from_db()
    fee1.refresh_from_db()
    assert (c1.amount_fen, fee1.amount_fen) == (80_000 * YUAN, 1_000 * YUAN)
    assert fee1.rulebook_hash == first.content_hash
    assert {s.rulebook_hash for s in ClaimStage.objects.filter(claim=c1)} == {first.content_hash}
    assert {s.rulebook_hash for s in ClaimStage.objects.filter(claim=c2)} == {second.content_hash}
    # a recovery on the earlier claim is shared as that claim was paid: fund 80 : bank 20
    r = claims.recover(trustees[0], claim_id=c1.pk, amount_fen=1_001, on=later)
    assert (r.pool_share_fen, r.bank_share_fen, r.partner_share_fen) == (801, 200, 0)
    assert_books_balance()


def test_the_cli_shows_the_banks_limits_and_the_contributions_owed(world, trustees, monkeypatch):
    from rich.console import Console

    from kvcredit.cli import fund as fund_cli

    monkeypatch.setattr(fund_cli, "console", Console(width=250))
    publish_rules(world, "hubei-2025", **{"fund.cap_per_bank_per_year_yuan": 600_000})
    fund(world)
    claim_paid(world, trustees, bad_loan(world, 100_000 * YUAN))
    r = CliRunner().invoke(app, ["fund", "limits", "--as-of", "2025-06-30"])
    assert r.exit_code == 0, r.output
    assert world.bank["a"].code in r.output and "520000.00" in r.output  # 600,000 - 80,000
    r = CliRunner().invoke(app, ["fund", "owed", "--as-of", "2025-06-30"])
    assert r.exit_code == 0, r.output
    assert "province" in r.output or "省级" in r.output
    assert CliRunner().invoke(app, ["fund", "limits", "--as-of", "June"]).exit_code == 2
