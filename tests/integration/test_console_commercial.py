"""Commercial loans drawn in: the bank records one (once, however often the form is sent)
for an enterprise it may see; each role lists those in its scope; others may not record."""

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


def test_the_bank_records_a_commercial_loan_once_and_each_scope_lists_it(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import CommercialLoan

    bank = login(world, "bank_a")
    page = bank.get(reverse("console:commercial_loans"))
    once = page.context["once"]
    values = {
        "uscc": world.enterprise["a"].uscc,
        "amount": "700000",
        "loan_date": DAY.isoformat(),
        "term_months": 12,
        "reference": "SY-1",
        "once": once,
    }
    for _ in range(2):
        assert bank.post(reverse("console:commercial_loans"), values).status_code == 302
    c = CommercialLoan.objects.get()
    assert c.amount_fen == 700_000_00 and c.bank == world.bank["a"]
    for who, seen in (
        ("bank_a", 1),
        ("bank_b", 0),
        ("district_a", 1),
        ("district_b", 0),
        ("enterprise_a", 1),
        ("enterprise_b", 0),
        ("trustee", 1),
        ("admin", 1),
    ):
        rows = login(world, who).get(reverse("console:commercial_loans")).context["page"]
        assert len(rows.object_list) == seen, who


def test_an_enterprise_outside_the_banks_districts_is_refused_on_the_field(world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import CommercialLoan

    r = login(world, "bank_a").post(
        reverse("console:commercial_loans"),
        {
            "uscc": world.enterprise["b"].uscc,
            "amount": "1",
            "loan_date": DAY.isoformat(),
            "term_months": 1,
        },
    )
    assert r.status_code == 200 and "uscc" in r.context["form"].errors
    assert not CommercialLoan.objects.exists()


def test_only_a_bank_records(world) -> None:  # type: ignore[no-untyped-def]
    for who in ("district_a", "trustee", "admin", "enterprise_a"):
        r = login(world, who).post(reverse("console:commercial_loans"), {"uscc": "x"})
        assert r.status_code == 403
