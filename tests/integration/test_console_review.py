"""What a review of the console on the demo programme fixed: one menu item marked, the
trustee's overview counting the claims that wait for it, a claim's figures only once filed,
the "waiting for funds" mark only while the claim waits, only offered repayment methods on
the application form, and figures shown the way people read them (rates, fees, months)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 14)


def login(world, who: str) -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(world.users[who])
    return c


def current_items(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', html)


@pytest.mark.parametrize(
    ("page", "marked"),
    [("console:apply", "/loans/apply/"), ("console:submit", "/data/new/")],
)
def test_the_menu_marks_only_the_page_it_is_on(world, page, marked) -> None:  # type: ignore[no-untyped-def]
    html = login(world, "enterprise_a").get(reverse(page)).content.decode()
    assert current_items(html) == [marked]


def test_a_detail_page_marks_its_list(world) -> None:  # type: ignore[no-untyped-def]
    html = login(world, "trustee").get(reverse("console:programme")).content.decode()
    assert current_items(html) == ["/programme/"]


@pytest.fixture
def loan(world):  # type: ignore[no-untyped-def]
    from kvcredit.fund import services
    from support.fund import make_loan

    services.record_contribution(
        world.users["trustee"],
        district_id=world.district["a"].pk,
        contributor="CITY",
        amount_fen=10_000_000_00,
        paid_date=DAY,
    )
    return make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=50_000_00,
        days_past_due=120,
    )


def test_the_trustee_overview_counts_the_claims_that_wait_for_it(world, loan) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund import claims

    trustee = login(world, "trustee")
    page = trustee.get(reverse("console:programme")).content.decode()
    assert "基金模块上线后" not in page  # no placeholder for a module that is there
    assert re.search(r"<dt>待复核的代偿申请</dt><dd>0</dd>", page)
    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)
    page = trustee.get(reverse("console:programme")).content.decode()
    assert re.search(r"<dt>待复核的代偿申请</dt><dd>1</dd>", page)
    claims.check(world.users["trustee"], claim_id=c.pk, on=DAY, note="")
    page = trustee.get(reverse("console:programme")).content.decode()
    assert re.search(r"<dt>待复核的代偿申请</dt><dd>0</dd>", page)
    assert re.search(r"<dt>已复核、待审批支付的代偿申请</dt><dd>1</dd>", page)


def test_a_claim_shows_its_figures_once_filed(world, loan) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund import claims

    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    bank = login(world, "bank_a")
    detail = bank.get(reverse("console:claim", args=[c.pk])).content.decode()
    assert "申请代偿时确定" in detail and "逾期本金（元）" not in detail
    row = re.search(
        rf'<tr>\s*<td[^>]*><a href="/fund/claims/{c.pk}/">.*?</tr>', _listing(bank), re.S
    )
    assert row is not None and ">—</td>" in row.group(0)
    claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)
    detail = bank.get(reverse("console:claim", args=[c.pk])).content.decode()
    assert "<dt>逾期本金（元）</dt><dd>50,000.00</dd>" in detail
    assert "<dt>申请代偿金额（元）</dt><dd>40,000.00</dd>" in detail


def _listing(client: Client) -> str:
    return client.get(reverse("console:claims")).content.decode()


def test_waiting_for_funds_is_shown_only_while_the_claim_waits(world, loan) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund import claims
    from kvcredit.fund.models import Claim

    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)
    claims.check(world.users["trustee"], claim_id=c.pk, on=DAY, note="")
    trustee = login(world, "trustee")
    # the pool could not pay it on the day: it waits (as claims.pay records it)
    Claim.objects.filter(pk=c.pk).update(waiting_since=DAY)
    assert "（等待资金）" in _listing(trustee)
    claims.pay(world.users["trustee_b"], claim_id=c.pk, on=DAY)
    assert Claim.objects.get(pk=c.pk).status == "PAID"
    assert "等待资金" not in _listing(trustee)  # paid: the date it waited stays, the mark goes


def test_the_application_offers_only_the_methods_of_offered_products(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.services import create_product

    create_product(world.system, code="KVC", name="知识价值信用贷款", methods=["EQUAL_PRINCIPAL"])
    form = login(world, "enterprise_a").get(reverse("console:apply")).context["form"]
    assert [code for code, _label in form.fields["method"].choices] == ["EQUAL_PRINCIPAL"]


def test_figures_read_the_way_people_read_them() -> None:
    from kvcredit.console.templatetags.console import (
        bp_as_percent,
        headline_pairs,
        percent_from_ppm,
        rate_percent,
        rate_type,
        rate_units_percent,
    )

    assert percent_from_ppm(31_000) == "3.10" and percent_from_ppm(31_250) == "3.125"
    assert rate_units_percent(3_350_000) == "3.35"  # a loan's rate, 1e-8 units
    assert rate_percent("0.008") == "0.8%" and bp_as_percent(2000) == "20"
    assert str(rate_type("LPR_1Y")) != "LPR_1Y" and rate_type("MY_RATE") == "MY_RATE"

    class Month:
        def __init__(self, label: str, n: int) -> None:
            self.label, self.times = label, n

    rows = [Month("2025-11", 2), Month("2026-02", 1)]
    assert headline_pairs(rows, "times") == [
        ("2025-11", 2),
        ("2025-12", 0),
        ("2026-01", 0),
        ("2026-02", 1),
    ]
    assert headline_pairs([Month("万州区", 3)], "times") == [("万州区", 3)]
