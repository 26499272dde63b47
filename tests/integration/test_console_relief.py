"""The console: an enterprise asks to defer its loan, another bank cannot touch the request
(404), its bank's credit officer grants it; the trustee lists subsidies and downloads the
public notice, an enterprise may not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from kvcredit.lending.endofday import run_eod
from kvcredit.lending.models import Deferral
from support.relief import make_loan

pytestmark = pytest.mark.django_db
TODAY = dt.date(2022, 10, 20)


def login(world, who: str) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(world.users[who])
    return c


def test_the_bank_grants_a_deferral_in_the_console(world, monkeypatch):
    loan = make_loan(world)
    monkeypatch.setattr("kvcredit.clock.today", lambda: TODAY)
    run_eod(as_of=TODAY - dt.timedelta(days=1), catch_up=True)
    ent = login(world, "enterprise_a")
    page = ent.get(reverse("console:loan", args=[loan.pk]))
    assert page.status_code == 200
    assert "申请延期还本付息" in page.content.decode()  # the rule q4_2022 is offered
    r = ent.post(
        reverse("console:deferral_request", args=[loan.pk]), {"rule": "q4_2022", "reason": "疫情"}
    )
    assert r.status_code == 302
    d = Deferral.objects.get(loan=loan)
    grant = reverse("console:deferral_step", args=[d.pk, "grant"])
    assert login(world, "bank_b").post(grant).status_code == 404
    assert login(world, "bank_b").get(reverse("console:loan", args=[loan.pk])).status_code == 404
    ent.post(grant)  # refused: only the bank grants
    d.refresh_from_db()
    assert d.status == "REQUESTED"
    bank = login(world, "bank_a")
    assert "批准延期" in bank.get(reverse("console:loan", args=[loan.pk])).content.decode()
    assert bank.post(grant).status_code == 302
    d.refresh_from_db()
    assert d.status == "GRANTED"
    assert "已重组" in ent.get(reverse("console:loan", args=[loan.pk])).content.decode()
    stats = login(world, "trustee").get(reverse("console:statistics")).content.decode()
    assert 'data-figure="deferred">1<' in stats


def test_the_trustee_downloads_the_public_notice_and_an_enterprise_may_not(world):
    trustee = login(world, "trustee")
    assert trustee.get(reverse("console:subsidies")).status_code == 200
    r = trustee.get(reverse("console:subsidy_notice") + "?from=2022-01-01&to=2022-12-31")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert r.content[:2] == b"PK"
    ent = login(world, "enterprise_a")
    assert ent.get(reverse("console:subsidies")).status_code == 403
    assert ent.get(reverse("console:subsidy_notice")).status_code == 403
    assert login(world, "district_a").get(reverse("console:subsidy_notice")).status_code == 403
