"""Interest subsidies on a real book: computed per instalment exact to the fen across a window
edge, paid once (a retried run pays nothing twice), booked so the books balance, visible to the
enterprise, and listed in a public notice."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from kvcredit import relief
from kvcredit.audit.models import AuditRecord
from kvcredit.fund import books, subsidies
from kvcredit.fund.models import JournalEntry, Posting, Subsidy
from kvcredit.lending.domain import subsidy as ds
from kvcredit.lending.endofday import run_eod
from kvcredit.lending.models import Instalment
from kvcredit.money import round_half_up
from support.relief import make_loan, pay_instalment_on_due_date

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DAY = dt.timedelta(days=1)
EDGE = dt.date(2022, 8, 1)  # the window opens mid-period: 2022-07-15 .. 08-14
HALF = ds.SubsidyRule(
    key="half_interest", window_from=EDGE, window_to=dt.date(2022, 12, 1), share=Fraction(1, 2)
)
RULES = relief.ReliefRules("test-rules@1#0", [HALF], [])


@pytest.fixture
def _rules():
    with relief.using(RULES):
        yield


@pytest.mark.usefixtures("_rules")
def test_a_subsidy_across_a_window_edge_exact_and_paid_once(world):
    loan = make_loan(world, method="MONTHLY_INTEREST", term=6)
    for month in (7, 8):
        pay_instalment_on_due_date(world, loan, dt.date(2022, month, 15))
    run_eod(as_of=dt.date(2022, 8, 15), catch_up=True)
    admin = world.users["admin"]
    run = subsidies.pay_subsidies(admin, on=dt.date(2022, 8, 15))
    # July's instalment (06-15 .. 07-14) lies before the window: nothing
    assert [s.due_date for s in run.paid] == [dt.date(2022, 8, 15)]
    inst = Instalment.objects.get(loan=loan, seq=2)
    exact = Fraction(inst.interest_paid_fen, 2) * Fraction(14, 31)  # Aug 1..14 of 31 days
    sub = run.paid[0]
    assert (sub.days_in_window, sub.days_in_period) == (14, 31)
    assert sub.amount_fen == round_half_up(exact)
    assert sub.rulebook == "test-rules@1#0" and sub.payer == "BUDGET"
    # retried: nothing is paid twice
    again = subsidies.pay_subsidies(admin, on=dt.date(2022, 8, 15))
    assert again.paid == [] and Subsidy.objects.count() == 1
    # the books: one balanced entry, the pool's cash untouched (the budget pays)
    entry = JournalEntry.objects.get(pk=sub.entry_id)
    assert sum(p.amount_fen for p in Posting.objects.filter(entry=entry)) == 0
    assert books.balances()[f"POOL:{loan.district.code}:SUBSIDIES_PAID"] == sub.amount_fen
    assert sum(books.balances().values()) == 0
    assert AuditRecord.objects.filter(action="FUND_SUBSIDY").count() == 1
    # the enterprise sees it, the other enterprise does not
    assert list(subsidies.subsidies(world.users["enterprise_a"])) == [sub]
    assert not subsidies.subsidies(world.users["enterprise_b"]).exists()
    assert subsidies.totals(world.users["district_a"])["amount_fen"] == sub.amount_fen


@pytest.mark.usefixtures("_rules")
def test_unpaid_interest_is_not_subsidised(world):
    loan = make_loan(world, method="MONTHLY_INTEREST", term=6)
    run_eod(as_of=dt.date(2022, 9, 20), catch_up=True)  # nothing paid
    run = subsidies.pay_subsidies(world.users["trustee"], on=dt.date(2022, 9, 20))
    assert run.paid == [] and not Subsidy.objects.filter(loan=loan).exists()


def test_a_pool_paid_subsidy_waits_for_cover(world):
    pool_rule = ds.SubsidyRule(
        key="pool_pays", window_from=EDGE, window_to=None, share=Fraction(1), payer=ds.Payer.POOL
    )
    loan = make_loan(world, method="MONTHLY_INTEREST", term=6)
    pay_instalment_on_due_date(world, loan, dt.date(2022, 8, 15))
    rules = relief.ReliefRules("test-rules@2#0", [pool_rule], [])
    run = subsidies.pay_subsidies(world.users["admin"], on=dt.date(2022, 8, 15), rules=rules)
    assert run.paid == [] and run.waiting == 1  # the pool holds no cash


@pytest.mark.usefixtures("_rules")
def test_the_business_day_pays_and_the_public_notice_lists_it(world, tmp_path):
    import io

    import openpyxl

    from kvcredit.day import run_day
    from kvcredit.fund import notice

    loan = make_loan(world, method="MONTHLY_INTEREST", term=6)
    pay_instalment_on_due_date(world, loan, dt.date(2022, 7, 15))
    pay_instalment_on_due_date(world, loan, dt.date(2022, 8, 15))
    run_day(as_of=dt.date(2022, 8, 16), catch_up=True)  # the day pays after the end of day
    sub = Subsidy.objects.get()
    assert sub.paid_on == dt.date(2022, 8, 15)  # the day the interest was paid in full
    ent = loan.enterprise
    ent.name = '=HYPERLINK("http://x")'
    ent.save()
    buf = io.BytesIO()
    assert notice.write(buf, world.users["trustee"], start=None, end=None) == 1
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active
    header = [c.value for c in ws[2]]
    row = [c for c in ws[3]]
    money = header.index("subsidy (yuan) 贴息金额（元）")
    assert row[money].number_format == "#,##0.00"
    assert round(row[money].value * 100) == sub.amount_fen
    assert row[1].value == '\'=HYPERLINK("http://x")' and row[1].data_type == "s"
    assert [c.value for c in ws[4]][1] == "total 合计"
    # in the statistics
    from kvcredit.reporting import programme

    stats = programme.statistics(world.users["trustee"])
    assert stats["subsidies"] == {"count": 1, "amount_fen": sub.amount_fen}
    assert programme.statistics(world.users["district_b"])["subsidies"]["count"] == 0
    # another enterprise's notice lists nothing
    assert notice.write(io.BytesIO(), world.users["enterprise_b"], start=None, end=None) == 0


def test_the_shipped_chongqing_2022_subsidy_ends_on_2022_12_31_pro_rata(world):
    """50 % of the central bank's benchmark (4.35 %) on a loan at the benchmark: half of the
    interest paid; the instalment of 2022-12-15 .. 2023-01-14 has 17 of its 31 days inside."""
    from support.relief import make_loan as loan_on

    loan = loan_on(world, method="MONTHLY_INTEREST", term=6, start=dt.date(2022, 10, 15))
    admin = world.users["admin"]
    for due in (dt.date(2022, 11, 15), dt.date(2022, 12, 15), dt.date(2023, 1, 15)):
        pay_instalment_on_due_date(world, loan, due)
        subsidies.pay_subsidies(admin, on=due)
    paid = {s.due_date: s for s in Subsidy.objects.filter(loan=loan)}
    assert set(paid) == {dt.date(2022, 11, 15), dt.date(2022, 12, 15), dt.date(2023, 1, 15)}
    jan = paid[dt.date(2023, 1, 15)]
    inst = Instalment.objects.get(loan=loan, due_date=dt.date(2023, 1, 15))
    assert (jan.days_in_window, jan.days_in_period) == (17, 31)
    assert jan.ratio == "1/2" and jan.rule_key == "district_2020"
    assert jan.amount_fen == round_half_up(Fraction(inst.interest_paid_fen, 2) * Fraction(17, 31))
    assert jan.rulebook.startswith("chongqing-2022@")
    nov = paid[dt.date(2022, 11, 15)]
    assert nov.amount_fen == round_half_up(Fraction(nov.interest_paid_fen, 2))
    assert sum(books.balances().values()) == 0
    # 2023-02-15's instalment lies after the window: nothing more
    pay_instalment_on_due_date(world, loan, dt.date(2023, 2, 15))
    assert subsidies.pay_subsidies(admin, on=dt.date(2023, 2, 15)).paid == []


@pytest.mark.usefixtures("_rules")
def test_the_books_with_subsidies_pass_beancount(world, tmp_path):
    from decimal import Decimal

    from beancount import loader
    from beancount.core import realization

    from kvcredit.fund.domain.beancount import bean_account
    from kvcredit.fund.export import write_beancount

    loan = make_loan(world, method="MONTHLY_INTEREST", term=6)
    pay_instalment_on_due_date(world, loan, dt.date(2022, 8, 15))
    assert subsidies.pay_subsidies(world.users["admin"], on=dt.date(2022, 8, 15)).paid
    out = tmp_path / "fund.beancount"
    write_beancount(out)
    entries, errors, _options = loader.load_file(str(out))
    assert errors == []
    real = realization.realize(entries)
    for code, fen in books.balances().items():
        node = realization.get(real, bean_account(code))
        assert node.balance.get_currency_units("CNY").number == Decimal(fen) / 100, code


@pytest.mark.usefixtures("_rules")
def test_a_reversed_repayment_takes_the_subsidy_back_and_paying_again_earns_it_once(
    world, tmp_path
):
    from beancount import loader

    from kvcredit.fund.export import write_beancount
    from kvcredit.lending import repayments
    from kvcredit.lending.models import Repayment
    from support.relief import TODAY

    loan = make_loan(world, method="MONTHLY_INTEREST", term=6)
    due = dt.date(2022, 8, 15)
    pay_instalment_on_due_date(world, loan, due)
    admin = world.users["admin"]
    (sub,) = subsidies.pay_subsidies(admin, on=due).paid
    paid_account = f"POOL:{loan.district.code}:SUBSIDIES_PAID"
    assert books.balances()[paid_account] == sub.amount_fen
    # the bank reverses the repayment that paid the interest: the next run takes it back
    rep = Repayment.objects.filter(loan=loan).order_by("-id").first()
    repayments.reverse(world.users["bank_a"], repayment_id=rep.pk, today=TODAY)
    run = subsidies.pay_subsidies(admin, on=due + DAY)
    assert [s.pk for s in run.clawed_back] == [sub.pk] and run.paid == []
    sub.refresh_from_db()
    assert sub.clawed_back_on == due + DAY
    assert books.balances()[paid_account] == 0  # exactly what it had earned, to the fen
    assert sum(books.balances().values()) == 0
    back = JournalEntry.objects.get(pk=sub.clawback_entry_id)
    assert sum(p.amount_fen for p in Posting.objects.filter(entry=back)) == 0
    audit = AuditRecord.objects.get(action="FUND_SUBSIDY_CLAWED_BACK")
    assert audit.after["amount_fen"] == sub.amount_fen and audit.after["rulebook"]
    assert subsidies.totals(world.users["district_a"]) == {"count": 0, "amount_fen": 0}
    from django.test import Client

    from kvcredit.fund import notice

    assert notice.rows(admin, start=None, end=None) == []  # not listed as paid
    res = Client().get("/api/v1/fund/subsidies", headers=world.auth("enterprise_a"))
    assert res.status_code == 200, res.content
    (item,) = res.json()["items"]
    assert item["clawed_back_on"] == (due + DAY).isoformat() and item["clawback_entry_id"]
    # idempotent: a second run takes nothing back again
    again = subsidies.pay_subsidies(admin, on=due + DAY)
    assert again.clawed_back == [] and again.paid == []
    # the interest paid again: the subsidy is paid again, once
    pay_instalment_on_due_date(world, loan, due)
    first = subsidies.pay_subsidies(admin, on=due + 2 * DAY)
    second = subsidies.pay_subsidies(admin, on=due + 2 * DAY)
    assert len(first.paid) == 1 and second.paid == []
    assert first.paid[0].amount_fen == sub.amount_fen
    assert Subsidy.objects.filter(clawed_back_on__isnull=True).count() == 1
    assert books.balances()[paid_account] == sub.amount_fen
    out = tmp_path / "fund.beancount"
    write_beancount(out)
    assert loader.load_file(str(out))[1] == []
