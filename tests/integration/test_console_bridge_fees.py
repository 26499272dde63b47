"""Bridge loans and service fees in the console (the trustee): lending confirmed with the
fee and the pool after, repaid and charged once however often the POST is sent; other roles
403, another district's bridge loans not shown (404 on repay)."""

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


@pytest.fixture
def funded(world):  # type: ignore[no-untyped-def]
    from kvcredit.fund import services

    for side in ("a", "b"):
        services.record_contribution(
            world.users["trustee"],
            district_id=world.district[side].pk,
            contributor="CITY",
            amount_fen=1_000_000_00,
            paid_date=DAY,
        )
    return world


def test_the_trustee_lends_a_bridge_loan_after_seeing_the_pool_after(funded) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund.models import BridgeLoan

    w = funded
    t = login(w, "trustee")
    assert t.get(reverse("console:bridge_loans")).status_code == 200
    values = {"uscc": w.enterprise["a"].uscc, "principal": "200000", "term_days": 30}
    url = reverse("console:bridge_lend")
    asked = t.post(url, values)
    body = asked.content.decode()
    assert "200,000.00" in body and "800,000.00" in body  # principal, the pool after
    assert not BridgeLoan.objects.exists()
    once = asked.context["once"]
    for _ in range(2):
        t.post(url, {**values, "confirmed": "yes", "once": once})
    b = BridgeLoan.objects.get()
    assert b.principal_fen == 200_000_00 and b.due_on == DAY + dt.timedelta(days=30)
    # a repayment, posted twice with its form's token: recorded once
    page = t.get(reverse("console:bridge_loans"))
    token = page.context["once"]
    repay = reverse("console:bridge_repay", args=[b.pk])
    t.post(repay, {"amount": "1000", "once": token})
    t.post(repay, {"amount": "1000", "once": token})
    b.refresh_from_db()
    assert b.repaid_fee_fen + b.repaid_principal_fen == 1000_00


def test_a_bridge_loan_beyond_the_pool_is_refused_before_confirmation(funded) -> None:  # type: ignore[no-untyped-def]
    w = funded
    values = {"uscc": w.enterprise["a"].uscc, "principal": "2000000", "term_days": 30}
    r = login(w, "trustee").post(reverse("console:bridge_lend"), values, follow=True)
    assert "confirm" not in r.templates[0].name
    assert "1,000,000.00" in r.content.decode()  # the pool can spend ...


def test_only_the_trustee_lends_and_districts_see_their_own(funded) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund import services

    w = funded
    b = services.lend_bridge(
        w.users["trustee"],
        enterprise_id=w.enterprise["a"].pk,
        principal_fen=1000_00,
        term_days=10,
        on=DAY,
    )
    values = {
        "uscc": w.enterprise["a"].uscc,
        "principal": "1",
        "term_days": 1,
        "confirmed": "yes",
    }
    for who in ("bank_a", "district_a", "admin", "enterprise_a"):
        assert login(w, who).post(reverse("console:bridge_lend"), values).status_code == 403
    assert login(w, "bank_a").get(reverse("console:bridge_loans")).status_code == 403
    mine = login(w, "district_a").get(reverse("console:bridge_loans"))
    other = login(w, "district_b").get(reverse("console:bridge_loans"))
    assert list(mine.context["page"].object_list) == [b]
    assert list(other.context["page"].object_list) == []


def test_the_trustee_charges_fees_once_after_seeing_the_total(funded) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from kvcredit.fund import services
    from kvcredit.fund.models import ServiceFee
    from support.fund import make_loan

    w = funded
    services.add_fee_reduction(
        w.users["trustee"],
        valid_from=dt.date(2025, 1, 1),
        valid_to=None,
        percent_off=Decimal("50"),
        reason="疫情减半",
    )
    for side in ("a", "b"):
        make_loan(enterprise=w.enterprise[side], bank=w.bank[side], amount_fen=1_000_000_00)
    t = login(w, "trustee")
    assert "console/tasks/_fee_charge.html" in [
        x.name for x in t.get(reverse("console:fees")).templates
    ]
    url = reverse("console:fees_charge")
    asked = t.post(url, {"loan_id": ""})
    body = asked.content.decode()
    assert "50%" in body  # the reduction in force
    assert ServiceFee.objects.count() == 0
    once = asked.context["once"]
    t.post(url, {"loan_id": "", "confirmed": "yes", "once": once})
    t.post(url, {"loan_id": "", "confirmed": "yes", "once": once})
    assert ServiceFee.objects.count() == 2
    total = sum(ServiceFee.objects.values_list("amount_fen", flat=True))
    assert f"{total / 100:,.2f}" in body  # the preview's total is what was charged
    for who in ("bank_a", "district_a", "admin"):
        assert login(w, who).post(url, {"loan_id": "", "confirmed": "yes"}).status_code == 403
