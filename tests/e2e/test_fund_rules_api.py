"""The fund rules' figures over HTTP: a staged claim's stages, a four-party loss split, a
bank's allowance and caps, contributions owed under the rulebook's names, a fee's cut."""

from __future__ import annotations

import datetime as dt

import pytest

from kvcredit.fund import services
from support.fund import make_loan, paid_claim, staged_rules
from support.rulebook import publish_rules

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
DAY = dt.date(2025, 6, 30)


def test_stages_split_allowance_and_owed_are_shown(world, trustees, api_client):
    publish_rules(
        world,
        "chongqing-2022",
        compensation_share="0.54",
        **staged_rules(
            allowance={"pct_of_loan": "0.5", "carry_forward": True, "cap_pct_of_balance": "0.5"},
            **{"fund.cap_per_bank_per_year_yuan": 1_000_000},
        ),
    )
    t = trustees[0]
    d = world.district["a"]
    c = paid_claim(world, trustees, on=DAY)
    body = api_client.get(f"{V1}/fund/claims/{c.pk}", headers=world.auth("bank_a")).json()
    assert body["status"] == "PARTLY_PAID"
    # the fund's 54 % is 54,000 yuan; the allowance (50 % of the 100,000 lent) holds it to 50,000
    assert (body["share"], body["amount"], body["paid"]) == ("54000.00", "50000.00", "37500.00")
    assert body["limited_by"] == ["ALLOWANCE"]
    assert [s["amount"] for s in body["stages"]] == ["37500.00", "12500.00"]
    assert {s["party"]: s["amount"] for s in body["loss_shares"]} == {
        "fund": "54000.00",
        "bank": "26000.00",
        "insurer": "20000.00",
    }
    limits = api_client.get(
        f"{V1}/fund/banks/{world.bank['a'].pk}/limits?as_of=2025-06-30",
        headers=world.auth("bank_a"),
    ).json()
    assert limits["allowance_applies"] is True
    assert limits["allowance_accrued"] == "50000.00"
    assert (limits["allowance_used"], limits["allowance_available"]) == ("50000.00", "0.00")
    assert limits["paid_this_year"] == "50000.00"
    assert limits["left_this_year"] == "950000.00"
    other = api_client.get(
        f"{V1}/fund/banks/{world.bank['b'].pk}/limits", headers=world.auth("bank_a")
    )
    assert other.status_code == 404
    owed = api_client.get(
        f"{V1}/fund/pools/{d.pk}/contributions-owed?as_of=2025-06-30", headers=world.auth("trustee")
    ).json()
    assert [(p["party"], p["recorded_as"]) for p in owed["parties"]] == [
        ("city", "CITY"),
        ("district", "DISTRICT"),
    ]
    assert owed["parties"][0]["committed"] == "4000000.00"
    assert owed["parties"][0]["owed"] == "3000000.00"
    assert owed["parties"][1]["initial_owed"] == "600000.00"
    in_2022 = make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], disbursed_on=dt.date(2022, 3, 1)
    )
    fee = services.charge_service_fee(t, loan_id=in_2022.pk, on=dt.date(2022, 3, 1))
    fees = api_client.get(f"{V1}/fund/fees", headers=world.auth("trustee")).json()["items"]
    row = next(f for f in fees if f["id"] == fee.pk)
    assert (row["cut"], row["waived"], row["payer"]) == ("0.20", False, "BANK")
