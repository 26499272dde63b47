"""Irreversible steps are confirmed first, saying what will happen (the amount, the pool's
balance after, the state after: computed by the previews), and done once however often the
confirmed POST is sent; destructive steps look different; write-off and close are separate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 14)


@pytest.fixture(autouse=True)
def today(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("kvcredit.clock.today", lambda: DAY)


def login(world, who: str) -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(world.users[who])
    return c


def checked_claim(world):  # type: ignore[no-untyped-def]
    from kvcredit.fund import claims, services
    from support.fund import make_loan

    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=50_000_00,
        days_past_due=120,
    )
    services.record_contribution(
        world.users["trustee"],
        district_id=world.district["a"].pk,
        contributor="CITY",
        amount_fen=1_000_000_00,
        paid_date=DAY,
    )
    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)
    claims.check(world.users["trustee"], claim_id=c.pk, on=DAY)
    return loan, c


def test_paying_a_claim_shows_the_amount_and_the_pool_after_and_pays_once(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund.models import JournalEntry

    _loan, claim = checked_claim(world)
    url = reverse("console:claim_step", args=[claim.pk, "pay"])
    b = login(world, "trustee_b")
    asked = b.post(url)
    body = asked.content.decode()
    assert asked.status_code == 200
    assert "40,000.00" in body  # 80 % of the overdue principal
    assert "1,000,000.00" in body and "960,000.00" in body  # the pool before and after
    claim.refresh_from_db()
    assert claim.status == "CHECKED"
    entries = JournalEntry.objects.count()
    once = asked.context["once"]
    for _ in range(2):
        assert b.post(url, {"confirmed": "yes", "once": once}).status_code == 302
    claim.refresh_from_db()
    assert claim.status == "PAID" and claim.amount_fen == 40_000_00
    assert JournalEntry.objects.count() == entries + 1  # money moved once
    page = b.get(reverse("console:claim", args=[claim.pk])).content.decode()
    assert "FUND_CLAIM_PAID" in page  # the claim's audit trail


def test_another_organisation_and_role_cannot_pay(world) -> None:  # type: ignore[no-untyped-def]
    _loan, claim = checked_claim(world)
    url = reverse("console:claim_step", args=[claim.pk, "pay"])
    assert login(world, "bank_b").post(url, {"confirmed": "yes"}).status_code == 404
    for who in ("district_a", "enterprise_a", "admin"):
        assert login(world, who).post(url, {"confirmed": "yes"}).status_code == 403
    login(world, "bank_a").post(url, {"confirmed": "yes"})  # the bank's role may not pay
    login(world, "trustee").post(url, {"confirmed": "yes"})  # the checker may not pay
    claim.refresh_from_db()
    assert claim.status == "CHECKED"


def test_write_off_and_close_are_separate_and_look_different(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund import claims

    loan, claim = checked_claim(world)
    claims.pay(world.users["trustee_b"], claim_id=claim.pk, on=DAY)
    t = login(world, "trustee")
    page = t.get(reverse("console:claim", args=[claim.pk])).content.decode()
    assert 'data-testid="close-claim"' in page and 'data-testid="write-off-claim"' in page
    close = page.split('data-testid="close-claim"')[1].split("</form>")[0]
    write_off = page.split('data-testid="write-off-claim"')[1].split("</form>")[0]
    assert 'class="secondary"' in close and 'class="danger"' in write_off
    url = reverse("console:claim_step", args=[claim.pk, "write_off"])
    asked = t.post(url, {"end-reason": "无可追偿财产"})
    body = asked.content.decode()
    assert 'class="confirm danger"' in body and "已核销" in body  # the loan's state after
    t.post(url, {"end-reason": "无可追偿财产", "confirmed": "yes", "once": asked.context["once"]})
    claim.refresh_from_db()
    loan.refresh_from_db()
    assert claim.status == "WRITTEN_OFF" and loan.status == "WRITTEN_OFF"


def test_rejecting_a_claim_is_confirmed(world) -> None:  # type: ignore[no-untyped-def]
    _loan, claim = checked_claim(world)
    t = login(world, "trustee")
    url = reverse("console:claim_step", args=[claim.pk, "reject"])
    asked = t.post(url, {"reject-reason": "材料不全，驳回"})
    assert 'class="confirm danger"' in asked.content.decode()
    claim.refresh_from_db()
    assert claim.status == "CHECKED"
    t.post(url, {"reject-reason": "材料不全，驳回", "confirmed": "yes"})
    claim.refresh_from_db()
    assert claim.status == "REJECTED"


def _approved(world):  # type: ignore[no-untyped-def]
    from kvcredit.lending import loans
    from kvcredit.lending.services import create_product

    p = create_product(world.system, code="KVC", name="知识价值贷", methods=["QUARTERLY_INTEREST"])
    app = loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=p.pk,
        amount_fen=200_000_00,
        term_months=12,
        method="QUARTERLY_INTEREST",
        purpose="研发",
        first_time_borrower=True,
        today=DAY,
    )
    loans.approve(world.users["bank_a"], application_id=app.pk, amount_fen=150_000_00, today=DAY)
    return app


def test_disbursing_is_confirmed_with_the_amount_and_the_credit_left(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import Loan

    app = _approved(world)
    bank = login(world, "bank_a")
    url = reverse("console:decide", args=[app.pk, "disburse"])
    asked = bank.post(url)
    body = asked.content.decode()
    assert "150,000.00" in body and "已放款" in body
    assert not Loan.objects.exists()
    once = asked.context["once"]
    bank.post(url, {"confirmed": "yes", "once": once})
    bank.post(url, {"confirmed": "yes", "once": once})
    assert Loan.objects.filter(application=app).count() == 1
    assert login(world, "bank_b").post(url, {"confirmed": "yes"}).status_code == 404
    assert login(world, "trustee").post(url, {"confirmed": "yes"}).status_code == 403


def test_rejecting_an_application_is_a_danger_step(world) -> None:  # type: ignore[no-untyped-def]
    app = _approved(world)
    bank = login(world, "bank_a")
    url = reverse("console:decide", args=[app.pk, "reject"])
    asked = bank.post(url, {"reason": "经营异常"})
    assert 'class="confirm danger"' in asked.content.decode()
    app.refresh_from_db()
    assert app.status == "APPROVED"
    bank.post(url, {"reason": "经营异常", "confirmed": "yes"})
    app.refresh_from_db()
    assert app.status == "REJECTED"


def test_lifting_a_breaker_is_confirmed(world) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kvcredit.fund.models import Breaker

    b = Breaker.objects.create(
        bank=world.bank["a"],
        district=world.district["a"],
        state="SUSPENDED",
        updated_at=timezone.now(),
    )
    t = login(world, "trustee")
    url = reverse("console:breaker_lift", args=[b.pk])
    asked = t.post(url, {"reason": "已整改完毕，恢复受理"})
    assert 'class="confirm danger"' in asked.content.decode() and "预警" in asked.content.decode()
    b.refresh_from_db()
    assert b.state == "SUSPENDED"
    t.post(url, {"reason": "已整改完毕，恢复受理", "confirmed": "yes"})
    b.refresh_from_db()
    assert b.state == "WARNING"
