"""The fund over HTTP: a claim's life with maker-checker, and isolation of every fund endpoint
(a bank sees its own claims and breakers, a district its pool, the trustee and administrator
everything; others' objects answer 404, use cases outside a role 403)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kvcredit.accounts.models import User
from kvcredit.accounts.services import issue_token
from kvcredit.fund import breakers, claims, services
from kvcredit.fund.models import Breaker, Claim, JournalEntry
from support.fund import make_loan

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
DAY = dt.date(2025, 6, 30)
USERS = ["admin", "trustee", "district_a", "district_b", "bank_a", "bank_b", "enterprise_a"]
WIDE = {"admin", "trustee"}


def _post(client, path, body, headers):
    return client.post(
        V1 + path, json.dumps(body), content_type="application/json", headers=headers
    )


def _side(who):
    return "a" if who in WIDE else who[-1]


def _role(who):
    return who if who in WIDE else who.rsplit("_", 1)[0]


@pytest.fixture
def fund_world(world):
    """Both sides: a funded pool, a paid claim, a fee, a bridge loan, a tripped breaker."""
    t1 = world.users["trustee"]
    t2 = User.objects.create(username="trustee2", organisation=t1.organisation)
    world.tokens["trustee2"] = issue_token(t2, name="test")[1]
    ids = {}
    for side in ("a", "b"):
        d, b, e = world.district[side], world.bank[side], world.enterprise[side]
        services.record_contribution(
            t1, district_id=d.pk, contributor="CITY", amount_fen=10**9, paid_date=DAY
        )
        loan = make_loan(
            enterprise=e, bank=b, amount_fen=10**10, due_principal_fen=10**8, days_past_due=100
        )
        c = claims.register(world.users[f"bank_{side}"], loan_id=loan.pk, on=DAY)
        claims.file(world.users[f"bank_{side}"], claim_id=c.pk, on=DAY)
        claims.check(t1, claim_id=c.pk, on=DAY)
        claims.pay(t2, claim_id=c.pk, on=DAY)
        fee = services.charge_service_fee(t1, loan_id=loan.pk, on=DAY)
        bridge = services.lend_bridge(
            t1, enterprise_id=e.pk, principal_fen=10**6, term_days=30, on=DAY
        )
        npl = 6 if side == "a" else 9  # a warned, b suspended
        breakers.run_end_of_day(as_of=DAY, exposures={(b.pk, d.pk): (100, npl)})
        ids[side] = {
            "district": d.pk,
            "claim": c.pk,
            "loan": loan.pk,
            "entry": JournalEntry.objects.filter(pool__district=d).first().pk,
            "bridge": bridge.pk,
            "breaker": Breaker.objects.get(bank=b).pk,
            "fee": fee.pk,
            "bank": b.pk,
        }
    world.fund_ids = ids
    return world


# (path template, roles that see side objects: district / bank / enterprise sees its own)
OBJECT_READS = [
    ("/fund/pools/{district}", {"district"}),
    ("/fund/pools/{district}/balances", {"district"}),
    ("/fund/pools/{district}/contributions-owed", {"district"}),
    ("/fund/banks/{bank}/limits", {"bank"}),
    ("/fund/entries/{entry}", {"district"}),
    ("/fund/claims/{claim}", {"district", "bank"}),
    ("/fund/breakers/{breaker}", {"district", "bank"}),
    ("/fund/breakers/{breaker}/changes", {"district", "bank"}),
    ("/fund/bridge-loans/{bridge}", {"district", "enterprise"}),
]
LISTS = {
    "/fund/pools": ("district_id", {"district"}),
    "/fund/entries": ("district_code", {"district"}),
    "/fund/contributions": ("district_id", {"district"}),
    "/fund/claims": ("district_id", {"district", "bank"}),
    "/fund/breakers": ("district_id", {"district", "bank"}),
    "/fund/fees": ("district_id", {"district", "bank"}),
    "/fund/bridge-loans": ("district_id", {"district", "enterprise"}),
}


@pytest.mark.parametrize("who", USERS)
def test_fund_objects_are_seen_only_by_their_side(api_client, fund_world, who):
    h = fund_world.auth(who)
    for template, roles in OBJECT_READS:
        for side in ("a", "b"):
            r = api_client.get(V1 + template.format(**fund_world.fund_ids[side]), headers=h)
            mine = who in WIDE or (side == _side(who) and _role(who) in roles)
            assert r.status_code == (200 if mine else 404), (who, template, side, r.content[:200])


@pytest.mark.parametrize("who", USERS)
def test_fund_lists_hold_only_the_users_side(api_client, fund_world, who):
    h = fund_world.auth(who)
    w = fund_world
    for path, (key, roles) in LISTS.items():
        body = api_client.get(V1 + path, headers=h).json()
        seen = {i[key] for i in body["items"]}
        if who in WIDE:
            expected = {
                w.district[s].pk if key == "district_id" else w.district[s].code for s in "ab"
            }
        elif _role(who) in roles:
            d = w.district[_side(who)]
            expected = {d.pk if key == "district_id" else d.code}
        else:
            expected = set()
        assert seen == expected and body["count"] == len(body["items"]), (who, path, body)


@pytest.mark.parametrize("who", USERS)
def test_the_trial_balance_covers_only_the_pools_the_user_sees(api_client, fund_world, who):
    body = api_client.get(V1 + "/fund/trial-balance", headers=fund_world.auth(who)).json()
    districts = {line["account"].split(":")[1] for line in body["lines"]}
    w = fund_world
    if who in WIDE:
        assert districts == {w.district[s].code for s in "ab"}
    elif _role(who) == "district":
        assert districts == {w.district[_side(who)].code}
    else:
        assert districts == set()
    assert body["total_debit"] == body["total_credit"]


@pytest.mark.parametrize("who", USERS)
def test_fund_writes_are_the_trustees_and_claims_the_banks(api_client, fund_world, who):
    w, h = fund_world, fund_world.auth(who)
    d = w.district["a"].pk
    role = _role(who)
    r = _post(
        api_client,
        "/fund/contributions",
        {"district_id": d, "contributor": "CITY", "amount": "10.00", "paid_date": "2025-07-01"},
        h,
    )
    assert r.status_code == (201 if role == "trustee" else 403), (who, r.content[:200])
    r = _post(
        api_client,
        "/fund/bridge-loans",
        {"enterprise_id": w.enterprise["a"].pk, "principal": "1.00", "term_days": 5},
        h,
    )
    assert r.status_code == (201 if role == "trustee" else 403)
    loan = make_loan(
        enterprise=w.enterprise["a"], bank=w.bank["a"], due_principal_fen=100, days_past_due=100
    )
    r = _post(api_client, "/fund/claims", {"loan_id": loan.pk}, h)
    expected = {"bank": 201 if who == "bank_a" else 404}.get(role, 403)
    assert r.status_code == expected, (who, r.content[:200])


def test_a_claims_life_over_the_api_with_maker_checker(api_client, world):
    w = world
    t2 = User.objects.create(username="trustee2", organisation=w.users["trustee"].organisation)
    w.tokens["trustee2"] = issue_token(t2, name="test")[1]
    t, t2h, bank = w.auth("trustee"), w.auth("trustee2"), w.auth("bank_a")
    d = w.district["a"].pk
    assert (
        api_client.put(
            f"{V1}/fund/pools/{d}/target",
            json.dumps({"target": "1000000.00"}),
            content_type="application/json",
            headers=t,
        ).status_code
        == 200
    )
    _post(
        api_client,
        "/fund/contributions",
        {"district_id": d, "contributor": "CITY", "amount": "100.00", "paid_date": "2025-06-01"},
        t,
    )
    loan = make_loan(
        enterprise=w.enterprise["a"],
        bank=w.bank["a"],
        due_principal_fen=100_000_00,
        days_past_due=91,
    )
    c = _post(api_client, "/fund/claims", {"loan_id": loan.pk, "on": "2025-06-30"}, bank).json()
    c = _post(api_client, f"/fund/claims/{c['id']}/file", {"on": "2025-06-30"}, bank).json()
    assert (c["status"], c["amount"]) == ("FILED", "80000.00")
    _post(api_client, f"/fund/claims/{c['id']}/check", {"note": "documents in order"}, t)
    r = _post(api_client, f"/fund/claims/{c['id']}/pay", {}, t)
    # the refusal is worded in the programme's language (zh-hans), or in the one asked for
    assert r.status_code == 403
    assert r.json()["detail"] == "复核代偿申请的用户不得审批同一申请（双人复核）"
    r = _post(api_client, f"/fund/claims/{c['id']}/pay", {}, t | {"Accept-Language": "en"})
    assert r.status_code == 403 and "(maker-checker)" in r.json()["detail"]
    assert r.headers["Content-Language"] == "en"
    r = _post(api_client, f"/fund/claims/{c['id']}/pay", {}, t2h)
    assert r.status_code == 202 and r.json()["waiting_for_funds"] is True
    pool = api_client.get(f"{V1}/fund/pools/{d}", headers=w.auth("district_a")).json()
    assert (pool["claims_waiting"], pool["claims_waiting_amount"]) == (1, "80000.00")
    assert (pool["city_owed"], pool["district_owed"], pool["city_paid"]) == (
        "400000.00",
        "600000.00",
        "100.00",
    )
    _post(
        api_client,
        "/fund/contributions",
        {
            "district_id": d,
            "contributor": "DISTRICT",
            "amount": "90000.00",
            "paid_date": "2025-06-01",
        },
        t,
    )
    r = _post(api_client, f"/fund/claims/{c['id']}/pay", {"on": "2025-07-01"}, t2h)
    assert r.status_code == 200 and r.json()["status"] == "PAID"
    assert r.json()["checked_by"] == "trustee" and r.json()["approved_by"] == "trustee2"
    r = _post(api_client, f"/fund/claims/{c['id']}/recoveries", {"amount": "1000.00"}, bank)
    assert (r.json()["pool_recovered"], r.json()["bank_recovered"]) == ("800.00", "200.00")
    r = _post(
        api_client,
        f"/fund/claims/{c['id']}/close",
        {"outcome": "CLOSED", "reason": "recovery finished"},
        t,
    )
    assert [e["to_status"] for e in r.json()["events"]] == [
        "REGISTERED",
        "FILED",
        "CHECKED",
        "PAID",
        "RECOVERING",
        "CLOSED",
    ]
    assert Claim.objects.get().status == "CLOSED"
    # the claim has run its course: the bank's loan is written off, off its live book
    got = api_client.get(f"{V1}/loans/{loan.pk}", headers=bank).json()
    assert (got["status"], got["closed_on"]) == (
        "WRITTEN_OFF",
        Claim.objects.get().closed_on.isoformat(),
    )
    listed = api_client.get(f"{V1}/loans?status=WRITTEN_OFF", headers=bank).json()
    assert [x["id"] for x in listed["items"]] == [loan.pk]
    assert api_client.get(f"{V1}/loans?status=COMPENSATED", headers=bank).json()["items"] == []
    r = api_client.get(f"{V1}/loans?status=GONE", headers=bank)
    assert r.status_code == 422 and "status" in r.content.decode()
