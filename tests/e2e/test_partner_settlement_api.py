"""Partners' parts settled over HTTP: the trustee's list per partner, a partial and a full
payment in, a payment on, an over-settlement refused naming the field, a retried request
(same reference, same Idempotency-Key) posting once; banks and other districts refused."""

from __future__ import annotations

import datetime as dt

import pytest

from kvcredit.fund import claims, services
from kvcredit.fund.models import PartnerSettlement
from support.fund import make_loan
from support.rulebook import publish_rules

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
DAY = dt.date(2025, 6, 30)


def _party(pid, zh, share):
    return {"id": pid, "name": pid, "name_zh": zh, "compensation": share, "recoveries": share}


def _claim_paid(world, trustees):
    parties = [
        _party("fund", "基金", "0.54"),
        _party("bank", "银行", "0.26"),
        _party("insurer", "保险公司", "0.16"),
        _party("appraiser", "评估机构", "0.04"),
    ]
    publish_rules(
        world,
        "chongqing-2022",
        compensation_share="0.54",
        **{"fund.loss_sharing": {"parties": parties}},
    )
    t = trustees[0]
    d = world.district["a"]
    services.record_contribution(
        t, district_id=d.pk, contributor="CITY", amount_fen=10**9, paid_date=DAY
    )
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=10**7 + 1,
        due_principal_fen=10**7 + 1,
        days_past_due=120,
    )
    bank = world.users["bank_a"]
    c = claims.register(bank, loan_id=loan.pk, on=DAY)
    claims.file(bank, claim_id=c.pk, on=DAY)
    claims.check(t, claim_id=c.pk, on=DAY)
    claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    return d


def test_the_trustee_settles_a_partners_part_over_http(world, trustees, api_client):
    d = _claim_paid(world, trustees)
    url = f"{V1}/fund/pools/{d.pk}/partner-settlements"
    owed_url = f"{V1}/fund/pools/{d.pk}/partners-owed"
    owed = api_client.get(owed_url, headers=world.auth("trustee")).json()
    rows = {p["party"]: p for p in owed["partners"]}
    assert set(rows) == {"insurer", "appraiser"}
    assert rows["insurer"]["owed"] == "16000.00"
    assert rows["appraiser"]["owed"] == "4000.00"

    def post(who, ref, amount, direction="RECEIVED", key=None):
        headers = world.auth(who)
        if key:
            headers["Idempotency-Key"] = key
        body = {
            "party": "insurer",
            "direction": direction,
            "amount": amount,
            "on": "2025-07-01",
            "reference": ref,
        }
        return api_client.post(url, body, content_type="application/json", headers=headers)

    r = post("trustee", "INS-1", "6000.00", key="k-1")
    assert r.status_code == 201, r.content
    assert r.json()["rulebook_hash"]
    again = post("trustee", "INS-1", "6000.00", key="k-1")
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    same_ref = post("trustee", "INS-1", "6000.00")
    assert same_ref.status_code == 201 and same_ref.json()["id"] == r.json()["id"]
    assert PartnerSettlement.objects.count() == 1
    over = post("trustee", "INS-2", "10000.01")
    assert over.status_code == 422
    assert "amount" in over.content.decode()
    zh = api_client.post(
        url,
        {
            "party": "insurer",
            "direction": "RECEIVED",
            "amount": "10000.01",
            "on": "2025-07-01",
            "reference": "INS-2",
        },
        content_type="application/json",
        headers={**world.auth("trustee"), "Accept-Language": "zh-hans"},
    )
    assert zh.status_code == 422 and "超过该合作方未结金额" in zh.content.decode()
    assert post("trustee", "INS-2", "10000.00").status_code == 201
    assert post("trustee", "OUT-1", "16000.00", "PAID_OUT").status_code == 201
    rows = {
        p["party"]: p
        for p in api_client.get(owed_url, headers=world.auth("trustee")).json()["partners"]
    }
    assert (rows["insurer"]["owed"], rows["insurer"]["payable"]) == ("0.00", "0.00")
    assert rows["insurer"]["paid_out"] == "16000.00"
    # only the trustee writes; a bank and another district do not see the pool
    assert post("bank_a", "INS-3", "1.00").status_code == 403
    assert post("district_a", "INS-3", "1.00").status_code == 403
    assert api_client.get(owed_url, headers=world.auth("district_a")).status_code == 200
    assert api_client.get(owed_url, headers=world.auth("district_b")).status_code == 404
    assert api_client.get(owed_url, headers=world.auth("bank_a")).status_code == 404
