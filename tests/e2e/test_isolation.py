"""Isolation: every endpoint, as every role, on its own organisation's data and on another's.

Objects outside a user's scope answer 404 (never 403, which would confirm they exist); use cases
the role may not perform answer 403. No body, count or message mentions the other side's data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import strong_values
from kvcredit.enterprises.models import CreditLine, DataSubmission, Evaluation
from kvcredit.scoring.fields import uscc_check_char

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
USERS = [
    "admin",
    "trustee",
    "district_a",
    "district_b",
    "bank_a",
    "bank_b",
    "enterprise_a",
    "enterprise_b",
]
WIDE = {"admin", "trustee"}


def _side(who: str) -> str:
    return who[-1] if who not in WIDE else "a"


def _other(side: str) -> str:
    return "b" if side == "a" else "a"


def _ids(world: Any, side: str) -> dict[str, int]:
    ent = world.enterprise[side]
    return {
        "ent": ent.pk,
        "sub": DataSubmission.objects.filter(enterprise=ent).first().pk,
        "ev": Evaluation.objects.filter(enterprise=ent).first().pk,
        "cl": CreditLine.objects.get(enterprise=ent).pk,
    }


# (path template, which roles may read the object at all)
OBJECT_READS = [
    ("/enterprises/{ent}", None),
    ("/enterprises/{ent}/credit-line", None),
    ("/evaluations/{ev}", None),
    ("/credit-lines/{cl}", None),
    ("/submissions/{sub}", {"admin", "trustee", "district", "enterprise"}),
    ("/enterprises/{ent}/submissions", None),
]
LISTS = ["/enterprises", "/evaluations", "/credit-lines", "/enterprises/{ent}/submissions"]
SETUP_READS = [
    "/me",
    "/tokens",
    "/districts",
    "/districts/{district}",
    "/banks",
    "/banks/{bank}",
    "/policies",
    "/policies/{policy}",
    "/reevaluations",
    "/reevaluations/{job}",
    "/rates",
    "/products",
    "/products/{product}",
    "/suspensions",
    "/eod-runs",
]


def _role(who: str) -> str:
    return who if who in WIDE else who.rsplit("_", 1)[0]


def _forbidden_words(world: Any, who: str) -> list[str]:
    if who in WIDE:
        return []
    other = world.enterprise[_other(_side(who))]
    return [other.uscc, other.name]


def _assert_no_leak(world: Any, who: str, body: bytes) -> None:
    text = body.decode("utf-8")
    for word in _forbidden_words(world, who):
        assert word not in text, f"{who} sees {word}"


@pytest.mark.parametrize("who", USERS)
def test_object_reads_own_side_and_other_side(api_client, world, who):
    h = world.auth(who)
    for template, roles in OBJECT_READS:
        for side in ("a", "b"):
            path = V1 + template.format(**_ids(world, side))
            r = api_client.get(path, headers=h)
            mine = who in WIDE or side == _side(who)
            allowed = roles is None or _role(who) in roles
            expected = 200 if mine and allowed else 404
            assert r.status_code == expected, (who, path, r.status_code, r.content[:200])
            if expected == 404:
                assert r["Content-Type"] == "application/problem+json"
            _assert_no_leak(world, who, r.content)


@pytest.mark.parametrize("who", USERS)
def test_lists_hold_only_what_the_role_may_see(api_client, world, who):
    h = world.auth(who)
    own = {world.enterprise[s].pk for s in ("ab" if who in WIDE else _side(who))}
    for template in LISTS:
        r = api_client.get(V1 + template.format(**_ids(world, _side(who))), headers=h)
        assert r.status_code == 200, (who, template)
        body = r.json()
        ents = {i.get("enterprise_id", i["id"]) for i in body["items"]}
        if template.endswith("submissions") and _role(who) == "bank":
            assert body == {"count": 0, "items": []}
            continue
        if template.endswith("submissions"):
            own_here = {world.enterprise[_side(who)].pk}
            assert ents == own_here
            continue
        assert ents == own and body["count"] == len(body["items"]), (who, template, body)
        _assert_no_leak(world, who, r.content)
        # Filtering by the other side's ids or USCC finds nothing and says nothing.
        if who not in WIDE:
            other = world.enterprise[_other(_side(who))]
            q = "uscc" if template != "/evaluations" else "enterprise_id"
            val = other.uscc if q == "uscc" else other.pk
            f = api_client.get(f"{V1}{template}?{q}={val}", headers=h)
            assert f.json()["count"] == 0, (who, template)


@pytest.mark.parametrize("who", USERS)
def test_programme_set_up_is_readable_by_every_role(api_client, world, who):
    from kvcredit.enterprises.models import PublishedPolicy
    from kvcredit.lending.services import create_product

    ids = {
        "district": world.district["a"].pk,
        "bank": world.bank["a"].pk,
        "policy": PublishedPolicy.objects.first().pk,
        "job": PublishedPolicy.objects.first().reevaluation.pk,
        "product": create_product(world.system, code="ISO", name="iso").pk,
    }
    for template in SETUP_READS:
        r = api_client.get(V1 + template.format(**ids), headers=world.auth(who))
        assert r.status_code == 200, (who, template)
        _assert_no_leak(world, who, r.content)


def _new_uscc(n: int) -> str:
    first = f"91500000MA5U{n:05d}"
    return first + uscc_check_char(first)


WRITES: list[tuple[str, str, Callable[[Any, str], Any], set[str]]] = [
    (
        "districts",
        "/districts",
        lambda w, s: {"code": "500199", "name": "测试区", "participating_since": "2020-01-01"},
        {"admin"},
    ),
    ("banks", "/banks", lambda w, s: {"code": "BANKX", "name": "银行x"}, {"admin"}),
    (
        "admission",
        "/banks/{bank}/districts",
        lambda w, s: {"district_id": w.district[_other(s)].pk},
        {"admin"},
    ),
    (
        "rates",
        "/rates",
        lambda w, s: {
            "rate_type": "LPR_1Y",
            "effective_date": "2030-01-01",
            "annual_rate_percent": "2.5",
        },
        {"admin"},
    ),
    ("policies", "/policies", lambda w, s: {"source_toml": _policy_text()}, {"admin"}),
]


def _policy_text() -> str:
    from importlib import resources

    return resources.files("kvcredit.scoring.policies").joinpath("most-tech-sme.toml").read_text()


def _post(client: Any, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.post(
        V1 + path, json.dumps(body), content_type="application/json", headers=headers
    )


@pytest.mark.parametrize("who", USERS)
def test_set_up_writes_are_the_administrators_alone(api_client, world, who):
    for name, template, body, roles in WRITES:
        path = template.format(bank=world.bank[_side(who)].pk)
        r = _post(api_client, path, body(world, _side(who)), world.auth(who))
        expected = 201 if _role(who) in roles else 403
        assert r.status_code == expected, (who, name, r.content[:300])


@pytest.mark.parametrize("who", USERS)
def test_registering_enterprises_in_own_and_other_districts(api_client, world, who):
    h = world.auth(who)
    for n, side in enumerate(("a", "b"), start=1):
        body = {"uscc": _new_uscc(n), "name": f"新企业{n}", "district_id": world.district[side].pk}
        r = _post(api_client, "/enterprises", body, h)
        role = _role(who)
        if role == "admin":
            expected = 201
        elif role == "district":
            expected = 201 if side == _side(who) else 422
        else:
            expected = 403
        assert r.status_code == expected, (who, side, r.content[:300])


@pytest.mark.parametrize("who", USERS)
def test_submitting_data_for_own_and_other_enterprises(api_client, world, who):
    h = world.auth(who)
    for side in ("a", "b"):
        ent = world.enterprise[side]
        r = _post(
            api_client,
            f"/enterprises/{ent.pk}/submissions",
            {"year": 2025, "data": strong_values()},
            h,
        )
        role = _role(who)
        mine = who in WIDE or side == _side(who)
        expected = 403 if role in ("bank", "trustee") else 201 if mine else 404
        assert r.status_code == expected, (who, side, r.content[:300])
        _assert_no_leak(world, who, r.content)


def test_a_user_cannot_revoke_another_users_token(api_client, world):
    other = world.users["bank_b"].api_tokens.get()
    r = api_client.post(f"{V1}/tokens/{other.pk}/revoke", headers=world.auth("bank_a"))
    assert r.status_code == 404
    assert api_client.get(V1 + "/me", headers=world.auth("bank_b")).status_code == 200


# -- lending: applications, loans, repayments, commercial loans (issue 4) ---------------------
def _lending_ids(world: Any) -> dict[str, dict[str, int]]:
    import datetime as dt

    from kvcredit.lending import loans, repayments, services

    product = services.create_product(world.system, code="ISO-L", name="iso")
    day = dt.date(2024, 5, 15)
    out = {}
    for side in ("a", "b"):
        line = CreditLine.objects.get(enterprise=world.enterprise[side])
        app = loans.apply(
            world.users[f"enterprise_{side}"],
            bank_id=world.bank[side].pk,
            product_id=product.pk,
            amount_fen=100_000,
            term_months=12,
            method="MONTHLY_INTEREST",
            purpose="研发",
            first_time_borrower=True,
            today=line.valid_until - dt.timedelta(days=1),
        )
        bank = world.users[f"bank_{side}"]
        loans.approve(bank, application_id=app.pk, amount_fen=100_000, today=day)
        loan = loans.disburse(bank, application_id=app.pk, disbursed_on=day, today=day)
        rep = repayments.repay(bank, loan_id=loan.pk, amount_fen=100, paid_on=day, today=day)
        com = services.record_commercial_loan(
            bank,
            enterprise_id=world.enterprise[side].pk,
            amount_fen=100_000,
            loan_date=day,
            term_months=12,
            today=day,
        )
        out[side] = {"app": app.pk, "loan": loan.pk, "rep": rep.pk, "com": com.pk}
    return out


LENDING_READS = [
    "/applications/{app}",
    "/loans/{loan}",
    "/loans/{loan}/instalments",
    "/repayments/{rep}",
]
LENDING_LISTS = ["/applications", "/loans", "/repayments", "/commercial-loans"]


@pytest.mark.parametrize("who", USERS)
def test_lending_objects_are_seen_by_their_bank_enterprise_and_district_only(
    api_client, world, who
):
    ids = _lending_ids(world)
    h = world.auth(who)
    for template in LENDING_READS:
        for side in ("a", "b"):
            r = api_client.get(V1 + template.format(**ids[side]), headers=h)
            expected = 200 if who in WIDE or side == _side(who) else 404
            assert r.status_code == expected, (who, template, side, r.content[:200])
            _assert_no_leak(world, who, r.content)
    for template in LENDING_LISTS:
        r = api_client.get(V1 + template, headers=h)
        assert r.status_code == 200, (who, template)
        items = r.json()["items"]
        sides = {"a", "b"} if who in WIDE else {_side(who)}
        assert len(items) == len(sides), (who, template, items)
        _assert_no_leak(world, who, r.content)


@pytest.mark.parametrize("who", USERS)
def test_lending_writes_on_own_and_other_sides(api_client, world, who):
    ids = _lending_ids(world)
    h = world.auth(who)
    role = _role(who)
    for side in ("a", "b"):
        mine = who in WIDE or side == _side(who)
        r = _post(
            api_client,
            f"/loans/{ids[side]['loan']}/repayments",
            {"amount": "1.00", "paid_on": "2024-05-16"},
            h,
        )
        expected = 403 if role != "bank" else 201 if mine else 404
        assert r.status_code == expected, (who, side, r.content[:300])
        r = _post(api_client, f"/applications/{ids[side]['app']}/reject", {"reason": "x"}, h)
        expected = 403 if role != "bank" else 409 if mine else 404
        assert r.status_code == expected, (who, side, r.content[:300])
        _assert_no_leak(world, who, r.content)
    r = _post(api_client, "/products", {"code": "P2", "name": "p"}, h)
    assert r.status_code == (201 if role == "admin" else 403), (who, r.content[:300])


def test_a_district_registering_another_districts_uscc_learns_only_that_it_cannot(
    api_client, world
):
    body = {"uscc": world.enterprise["b"].uscc, "name": "x", "district_id": world.district["a"].pk}
    headers = world.auth("district_a") | {"Accept-Language": "en"}
    r = _post(api_client, "/enterprises", body, headers)
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"] == [
        {"field": "uscc", "detail": "this USCC cannot be registered by your district"}
    ]
    # the same USCC unknown anywhere would be registered: only the refusal is told, no owner
    assert (
        "another" not in r.content.decode() and world.district["b"].name not in r.content.decode()
    )
    r = _post(api_client, "/enterprises", body, world.auth("district_a"))
    assert r.json()["errors"][0]["detail"] == "本区县不能登记该统一社会信用代码"
