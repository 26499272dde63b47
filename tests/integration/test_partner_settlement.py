"""The loss-sharing partners' parts settled: a Guangdong split (54:26:16:4) paid, then the
insurer pays its part in (partly, then the rest), the fund pays it on; over-settling, a retried
request, another organisation and a bad date are refused; the books balance and beancount
accepts the export."""

from __future__ import annotations

import datetime as dt

import pytest
from beancount import loader
from django.db.models import Sum
from typer.testing import CliRunner

from kvcredit.cli import app
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kvcredit.fund import books, claims, services, settlements
from kvcredit.fund.domain import ledger as dl
from kvcredit.fund.models import JournalEntry, PartnerSettlement, Posting
from support.fund import make_loan
from support.rulebook import publish_rules

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DAY = dt.date(2025, 6, 30)
LATER = dt.date(2025, 7, 10)


def _party(pid, zh, share):
    return {"id": pid, "name": pid, "name_zh": zh, "compensation": share, "recoveries": share}


GUANGDONG = [
    _party("fund", "基金", "0.54"),
    _party("bank", "银行", "0.26"),
    _party("insurer", "保险公司", "0.16"),
    _party("appraiser", "评估机构", "0.04"),
]


def _paid_claim(world, trustees):
    publish_rules(
        world,
        "chongqing-2022",
        compensation_share="0.54",
        **{"fund.loss_sharing": {"parties": GUANGDONG}},
    )
    t = world.users["trustee"]
    for who, part in (("CITY", 4), ("DISTRICT", 6)):
        services.record_contribution(
            t,
            district_id=world.district["a"].pk,
            contributor=who,
            amount_fen=part * 1_000_000_00,
            paid_date=DAY,
        )
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=1_000_000_01,
        due_principal_fen=1_000_000_01,
        days_past_due=120,
        disbursed_on=dt.date(2024, 1, 15),
    )
    bank = world.users["bank_a"]
    c = claims.register(bank, loan_id=loan.pk, on=DAY)
    claims.file(bank, claim_id=c.pk, on=DAY)
    claims.check(trustees[0], claim_id=c.pk, on=DAY)
    return claims.pay(trustees[1], claim_id=c.pk, on=DAY)


def _balanced():
    sums = Posting.objects.values("entry_id").annotate(s=Sum("amount_fen"))
    assert all(r["s"] == 0 for r in sums)
    assert len(sums) == JournalEntry.objects.count()
    assert sum(books.balances().values()) == 0


def _open(world, party):
    _pool, rows = settlements.positions(world.users["trustee"], district_id=world.district["a"].pk)
    return next(r for r in rows if r["party"] == party)


def test_a_partner_pays_in_partly_then_fully_and_the_fund_pays_it_on(world, trustees, tmp_path):
    _paid_claim(world, trustees)
    t = world.users["trustee"]
    d = world.district["a"]
    due = dl.account(d.code, dl.PoolAccount.DUE_FROM_PARTNER, "insurer")
    payable = dl.account(d.code, dl.PoolAccount.PARTNER_SHARES_PAYABLE)
    assert _open(world, "insurer")["owed_fen"] == 160_000_00
    cash0 = books.cash(books.pool_of(d))

    def settle(ref, fen, direction="RECEIVED", on=LATER, party="insurer", who=t):
        return settlements.settle(
            who,
            district_id=d.pk,
            party=party,
            direction=direction,
            amount_fen=fen,
            on=on,
            reference=ref,
        )

    first = settle("GD-INS-1", 60_000_00)
    assert books.balances()[due] == 100_000_00
    again = settle("GD-INS-1", 60_000_00)  # a retried request posts nothing again
    assert again.pk == first.pk
    assert PartnerSettlement.objects.count() == 1
    with pytest.raises(Conflict):
        settle("GD-INS-1", 50_000_00)  # the same reference, other figures
    with pytest.raises(InvalidInput) as over:
        settle("GD-INS-2", 100_000_01)  # one fen more than owed
    assert over.value.problems[0][0] == "amount"
    settle("GD-INS-2", 100_000_00)
    assert books.balances()[due] == 0
    assert _open(world, "insurer")["owed_fen"] == 0
    with pytest.raises(InvalidInput):
        settle("GD-INS-3", 1)
    # the fund pays the insurer's part on: never more than came in
    with pytest.raises(InvalidInput):
        settle("GD-OUT-1", 160_000_01, "PAID_OUT")
    settle("GD-OUT-1", 160_000_00, "PAID_OUT")
    bal = books.balances()
    assert bal[payable] == -40_000_00  # the appraiser's part is still open
    assert books.cash(books.pool_of(d)) == cash0
    assert _open(world, "appraiser")["owed_fen"] == 40_000_00
    # dates: not after the business date, not before the partner's last event
    with pytest.raises(InvalidInput) as early:
        settle("GD-APP-1", 1_00, party="appraiser", on=DAY - dt.timedelta(days=1))
    assert early.value.problems[0][0] == "on"
    with pytest.raises(InvalidInput):
        settle("GD-APP-1", 1_00, party="appraiser", on=dt.date(2099, 1, 1))
    with pytest.raises(InvalidInput) as who:
        settle("GD-X-1", 1_00, party="nobody")
    assert who.value.problems[0][0] == "party"
    # only the trustee settles; another organisation does not even see the pool
    with pytest.raises(NotPermitted):
        settle("GD-APP-2", 1_00, party="appraiser", who=world.users["bank_a"])
    with pytest.raises(NotFound):
        settlements.positions(world.users["bank_a"], district_id=d.pk)
    _balanced()
    out = tmp_path / "fund.beancount"
    res = CliRunner().invoke(app, ["fund", "export", "--format", "beancount", "--out", str(out)])
    assert res.exit_code == 0, res.output
    _entries, errors, _ = loader.load_file(str(out))
    assert errors == []


def test_the_cli_lists_and_settles_a_partners_part(world, trustees):
    _paid_claim(world, trustees)
    code = world.district["a"].code
    run = CliRunner().invoke
    args = ["fund", "settle-partner", "--district", code, "--party", "appraiser"]
    args += ["--amount", "40000.00", "--reference", "CLI-1", "--on", "2025-07-01"]
    ok = run(app, [*args, "--as", "trustee"])
    assert ok.exit_code == 0, ok.output
    again = run(app, [*args, "--as", "trustee"])
    assert again.exit_code == 0, again.output
    assert PartnerSettlement.objects.count() == 1
    refused = run(app, [*args, "--as", "bank_a"])
    assert refused.exit_code == 1
    over = run(
        app,
        [
            "fund",
            "settle-partner",
            "--district",
            code,
            "--party",
            "appraiser",
            "--amount",
            "0.01",
            "--reference",
            "CLI-2",
            "--as",
            "trustee",
            "--on",
            "2025-07-01",
        ],
    )
    assert over.exit_code == 1
    shown = run(
        app, ["fund", "partners", "--district", code, "--as", "trustee"], env={"COLUMNS": "200"}
    )
    assert shown.exit_code == 0, shown.output
    assert "insurer" in shown.output and "160000.00" in shown.output


def test_a_recovery_after_the_partner_paid_is_paid_back_to_it(world, trustees, tmp_path):
    c = _paid_claim(world, trustees)
    t = world.users["trustee"]
    d = world.district["a"]

    def settle(ref, fen, direction):
        return settlements.settle(
            t,
            district_id=d.pk,
            party="insurer",
            direction=direction,
            amount_fen=fen,
            on=LATER,
            reference=ref,
        )

    settle("R-IN", 160_000_00, "RECEIVED")
    claims.recover(trustees[0], claim_id=c.pk, amount_fen=10_003, on=LATER)
    row = _open(world, "insurer")
    assert (row["owed_fen"], row["refundable_fen"], row["payable_fen"]) == (0, 1_600, 159_984_00)
    with pytest.raises(InvalidInput):
        settle("R-BACK", 1_601, "REFUNDED")
    settle("R-BACK", 1_600, "REFUNDED")
    settle("R-OUT", 159_984_00, "PAID_OUT")
    row = _open(world, "insurer")
    assert (row["owed_fen"], row["refundable_fen"], row["payable_fen"]) == (0, 0, 0)
    bal = books.balances()
    assert bal.get(dl.account(d.code, dl.PoolAccount.DUE_FROM_PARTNER, "insurer"), 0) == 0
    _balanced()
    out = tmp_path / "fund.beancount"
    res = CliRunner().invoke(app, ["fund", "export", "--format", "beancount", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert loader.load_file(str(out))[1] == []
