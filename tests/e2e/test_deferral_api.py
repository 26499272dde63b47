"""Over HTTP: an enterprise asks its bank to defer a loan; another bank cannot see it (404),
the enterprise cannot grant it (403), its bank grants it and the plan is re-cut; the enterprise
sees its subsidies and another enterprise does not."""

from __future__ import annotations

import datetime as dt

import pytest

from kvcredit import clock, relief
from kvcredit.enterprises.models import CreditLine
from kvcredit.lending import loans, services
from kvcredit.lending.domain import deferral as dd

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DAY = dt.timedelta(days=1)


def test_the_bank_grants_a_deferral_and_another_bank_is_refused(world, api_client):
    today = clock.today()
    start = today - 40 * DAY
    rule = dd.DeferralRule(
        key="now_window",
        window_from=today - 30 * DAY,
        window_to=today + 60 * DAY,
        defer_to=today + 200 * DAY,
        watch_days=90,
    )
    prod = services.create_product(
        world.users["admin"], code="KVH", name="知识价值", rate_basis="PBOC_BENCHMARK"
    )
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    app = loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=prod.pk,
        amount_fen=10_000_000,
        term_months=6,
        method="MONTHLY_INTEREST",
        purpose="研发投入",
        first_time_borrower=True,
        today=min(line.valid_until - DAY, today),
    )
    bank = world.users["bank_a"]
    loans.approve(bank, application_id=app.pk, amount_fen=10_000_000, today=start)
    loan = loans.disburse(bank, application_id=app.pk, disbursed_on=start, today=today)
    with relief.using(relief.ReliefRules("test@1#0", [], [rule])):
        r = api_client.get(f"/api/v1/loans/{loan.pk}/deferrals", headers=world.auth("enterprise_a"))
        assert r.status_code == 200, r.content
        assert [x["key"] for x in r.json()["eligible_rules"]] == ["now_window"]
        r = api_client.post(
            f"/api/v1/loans/{loan.pk}/deferrals",
            {"rule": "now_window", "reason": "订单延迟"},
            content_type="application/json",
            headers=world.auth("enterprise_a"),
        )
        assert r.status_code == 201, r.content
        did = r.json()["id"]
        grant = f"/api/v1/deferrals/{did}/grant"
        r = api_client.post(grant, headers=world.auth("bank_b"))
        assert r.status_code == 404, r.content
        r = api_client.post(grant, headers=world.auth("enterprise_a"))
        assert r.status_code == 403, r.content
        r = api_client.post(grant, headers=world.auth("bank_a"))
        assert r.status_code == 200, r.content
        assert r.json()["status"] == "GRANTED"
        r = api_client.post(grant, headers=world.auth("bank_a"))
        assert r.status_code == 409, r.content  # granted already
    r = api_client.get(f"/api/v1/loans/{loan.pk}", headers=world.auth("enterprise_a"))
    body = r.json()
    assert body["restructured"] and body["watch_until"] == str(rule.defer_to + 90 * DAY)
    r = api_client.get(f"/api/v1/loans/{loan.pk}/instalments", headers=world.auth("bank_a"))
    dates = [i["due_date"] for i in r.json()]
    assert str(rule.defer_to) in dates
    assert all(not (str(rule.window_from) <= d < str(rule.defer_to)) for d in dates[1:])
    r = api_client.get("/api/v1/fund/subsidies", headers=world.auth("enterprise_b"))
    assert r.status_code == 200 and r.json()["count"] == 0
