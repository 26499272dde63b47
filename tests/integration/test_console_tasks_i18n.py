"""The task pages and their confirmations speak Chinese on a Chinese browser: no English UI
word outside data (``translate="no"``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from test_console_i18n import english_words

pytestmark = pytest.mark.django_db
FILE_FORMATS = {"CSV", "XLSX", "API"}  # named as such in Chinese too, like TOML
DAY = dt.date(2025, 3, 14)


def login(world, who: str) -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    c.force_login(world.users[who])
    return c


def test_the_task_pages_are_chinese(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund import services
    from support.fund import make_loan

    monkeypatch.setattr("kvcredit.clock.today", lambda: DAY)
    loan = make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"])
    services.record_contribution(
        world.users["trustee"],
        district_id=world.district["a"].pk,
        contributor="CITY",
        amount_fen=1_000_000_00,
        paid_date=DAY,
    )
    target = world.users["bank_b"]
    gets = [
        ("bank_a", reverse("console:tokens")),
        ("admin", reverse("console:tokens")),
        ("admin", reverse("console:audit_log")),
        ("trustee", reverse("console:audit_log") + "?action=USER"),
        ("admin", reverse("console:user", args=[target.pk])),
        ("trustee", reverse("console:bridge_loans")),
        ("bank_a", reverse("console:commercial_loans")),
        ("admin", reverse("console:import_enterprises")),
        ("district_a", reverse("console:password_change")),
        ("bank_a", reverse("console:loan", args=[loan.pk])),
        ("trustee", reverse("console:fees")),
    ]
    posts = [
        ("admin", reverse("console:user_active", args=[target.pk, "deactivate"]), {}),
        ("admin", reverse("console:user_reset", args=[target.pk]), {}),
        (
            "trustee",
            reverse("console:bridge_lend"),
            {"uscc": world.enterprise["a"].uscc, "principal": "1000", "term_days": 10},
        ),
        ("trustee", reverse("console:fees_charge"), {"loan_id": ""}),
        (
            "bank_a",
            reverse("console:repay", args=[loan.pk]),
            {"amount": "100", "paid_on": DAY.isoformat()},
        ),
    ]
    leaks = {}
    for who, url in gets:
        r = login(world, who).get(url)
        assert r.status_code == 200, (who, url)
        if words := set(english_words(r.content.decode())) - FILE_FORMATS:
            leaks[f"{who} {url}"] = sorted(set(words))
    for who, url, data in posts:
        r = login(world, who).post(url, data)
        assert r.status_code == 200 and "console/_confirm.html" in [t.name for t in r.templates]
        if words := set(english_words(r.content.decode())) - FILE_FORMATS:
            leaks[f"{who} POST {url}"] = sorted(set(words))
    assert leaks == {}
