"""`kvcredit fund export --format beancount`: the file passes beancount's checks and its
balances equal ours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core import realization
from typer.testing import CliRunner

from kvcredit.accounts.models import User
from kvcredit.cli import app
from kvcredit.fund import books, claims, services
from kvcredit.fund.domain.beancount import bean_account
from kvcredit.fund.models import JournalEntry
from support.fund import make_loan

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 6, 30)


def _books(world):
    t1 = world.users["trustee"]
    t2 = User.objects.create(username="trustee2", organisation=t1.organisation)
    for side in ("a", "b"):
        d = world.district[side].pk
        services.record_contribution(
            t1, district_id=d, contributor="CITY", amount_fen=400_000_00, paid_date=DAY
        )
        services.record_contribution(
            t1, district_id=d, contributor="DISTRICT", amount_fen=600_000_01, paid_date=DAY
        )
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=100_000_01,
        days_past_due=100,
    )
    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)
    claims.check(t1, claim_id=c.pk, on=DAY)
    claims.pay(t2, claim_id=c.pk, on=DAY + dt.timedelta(days=1))
    claims.recover(t1, claim_id=c.pk, amount_fen=10_003, on=DAY + dt.timedelta(days=2))
    services.charge_service_fee(t1, loan_id=loan.pk, on=DAY)
    b = services.lend_bridge(
        t1, enterprise_id=world.enterprise["b"].pk, principal_fen=50_000_00, term_days=20, on=DAY
    )
    services.repay_bridge(t1, bridge_id=b.pk, amount_fen=10_000_00, on=DAY)
    first = JournalEntry.objects.order_by("id").first()
    services.reverse_entry(t1, entry_id=first.pk, on=DAY, reason="recorded twice")


def test_the_beancount_export_passes_beancount_and_matches_our_balances(world, tmp_path):
    _books(world)
    out = tmp_path / "fund.beancount"
    r = CliRunner().invoke(app, ["fund", "export", "--format", "beancount", "--out", str(out)])
    assert r.exit_code == 0, r.output
    entries, errors, _options = loader.load_file(str(out))
    assert errors == []
    real = realization.realize(entries)
    ours = books.balances()
    assert ours
    for code, fen in ours.items():
        node = realization.get(real, bean_account(code))
        units = node.balance.get_currency_units("CNY") if node is not None else None
        assert (units.number if units is not None else Decimal(0)) == Decimal(fen) / 100, code
    assert sum(1 for e in entries if type(e).__name__ == "Transaction") == (
        JournalEntry.objects.count()
    )


def test_an_unknown_export_format_is_refused(tmp_path):
    r = CliRunner().invoke(
        app, ["fund", "export", "--format", "xlsx", "--out", str(tmp_path / "x")]
    )
    assert r.exit_code == 2
