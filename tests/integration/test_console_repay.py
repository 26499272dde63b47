"""A single repayment and its reversal on the loan page (the bank): confirmed first with
what will happen, done once however often the confirmed POST is sent, refused for other
roles (403) and another bank's loan (404); the loan page shows the loan's audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 14)


@pytest.fixture
def today(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("kvcredit.clock.today", lambda: DAY)
    return DAY


def login(world, who: str) -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(world.users[who])
    return c


@pytest.fixture
def loan(world, today):  # type: ignore[no-untyped-def]
    from kvcredit.lending import loans
    from kvcredit.lending.services import create_product

    p = create_product(
        world.system, code="KVC", name="知识价值信用贷款", methods=["QUARTERLY_INTEREST"]
    )
    app = loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=p.pk,
        amount_fen=100_000_00,
        term_months=12,
        method="QUARTERLY_INTEREST",
        purpose="研发",
        first_time_borrower=True,
        today=today,
    )
    bank = world.users["bank_a"]
    loans.approve(bank, application_id=app.pk, amount_fen=100_000_00, today=today)
    return loans.disburse(bank, application_id=app.pk, disbursed_on=today, today=today)


def test_the_bank_enters_a_repayment_confirmed_and_posted_once(world, loan) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import Repayment

    bank = login(world, "bank_a")
    page = bank.get(reverse("console:loan", args=[loan.pk])).content.decode()
    assert f'action="/loans/{loan.pk}/repay/"' in page
    url = reverse("console:repay", args=[loan.pk])
    values = {"amount": "30000", "paid_on": DAY.isoformat(), "reference": "", "note": "柜台"}
    asked = bank.post(url, values)
    assert asked.status_code == 200
    body = asked.content.decode()
    assert "30,000.00" in body and "70,000.00" in body  # the amount, the outstanding after
    assert not Repayment.objects.exists()  # nothing yet
    once = asked.context["once"]
    for _ in range(3):  # the confirmed POST, retried: one repayment
        r = bank.post(url, {**values, "confirmed": "yes", "once": once})
        assert r.status_code == 302
    assert Repayment.objects.filter(loan=loan).count() == 1
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == 70_000_00
    page = bank.get(reverse("console:loan", args=[loan.pk])).content.decode()
    assert "REPAYMENT" in page  # the loan's audit trail names the repayment


def test_a_refused_repayment_names_the_field(world, loan) -> None:  # type: ignore[no-untyped-def]
    bank = login(world, "bank_a")
    url = reverse("console:repay", args=[loan.pk])
    r = bank.post(url, {"amount": "999999", "paid_on": DAY.isoformat()}, follow=True)
    assert "999,999.00" in r.content.decode()  # "exceeds the ... owed"
    r = bank.post(url, {"amount": "", "paid_on": DAY.isoformat()}, follow=True)
    assert "金额" in r.content.decode()


def test_the_bank_reverses_a_repayment_after_a_danger_confirmation(world, loan) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending import repayments
    from kvcredit.lending.models import Repayment

    rep = repayments.repay(
        world.users["bank_a"], loan_id=loan.pk, amount_fen=100_000_00, paid_on=DAY, today=DAY
    )
    bank = login(world, "bank_a")
    url = reverse("console:reverse_repayment", args=[loan.pk, rep.pk])
    asked = bank.post(url, {"note": "录入错误，冲正"})
    body = asked.content.decode()
    assert 'class="confirm danger"' in body and "100,000.00" in body
    once = asked.context["once"]
    bank.post(url, {"note": "录入错误，冲正", "confirmed": "yes", "once": once})
    bank.post(url, {"note": "录入错误，冲正", "confirmed": "yes", "once": once})
    assert Repayment.objects.filter(reverses=rep).count() == 1
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == 100_000_00
    # the reversed repayment has no reverse button any more
    page = bank.get(reverse("console:loan", args=[loan.pk])).content.decode()
    assert reverse("console:reverse_repayment", args=[loan.pk, rep.pk]) not in page


def test_other_roles_and_banks_cannot_repay_or_reverse(world, loan) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import Repayment

    url = reverse("console:repay", args=[loan.pk])
    values = {"amount": "100", "paid_on": DAY.isoformat(), "confirmed": "yes"}
    for who in ("enterprise_a", "district_a", "trustee", "admin"):
        assert login(world, who).post(url, values).status_code == 403
    assert login(world, "bank_b").post(url, values).status_code == 404
    assert not Repayment.objects.exists()
    page = login(world, "enterprise_a").get(reverse("console:loan", args=[loan.pk]))
    assert b"/repay/" not in page.content  # the form is the bank's only


def test_the_application_page_shows_its_audit_trail_in_scope(world, loan) -> None:  # type: ignore[no-untyped-def]
    url = reverse("console:application", args=[loan.application_id])
    for who in ("bank_a", "enterprise_a", "district_a", "trustee", "admin"):
        r = login(world, who).get(url)
        assert r.status_code == 200, who
    body = login(world, "bank_a").get(url).content.decode()
    assert "LOAN_APPLY" in body and "LOAN_APPROVE" in body  # the application's audit trail
    assert (
        login(world, "bank_a")
        .get(reverse("console:loan", args=[loan.pk]))
        .content.decode()
        .count(f'href="{url}"')
        == 1
    )
    for who in ("bank_b", "enterprise_b", "district_b"):
        assert login(world, who).get(url).status_code == 404
