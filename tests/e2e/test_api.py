"""The REST API over HTTP: auth, resources, pagination, problem+json, idempotency."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from conftest import PASSWORD, strong_values
from kvcredit.accounts.models import ApiToken
from kvcredit.enterprises.models import DataSubmission
from kvcredit.scoring.fields import uscc_check_char

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


def _post(client, path, body, headers):
    return client.post(
        V1 + path, json.dumps(body), content_type="application/json", headers=headers
    )


def test_the_schema_and_docs_are_served(api_client):
    schema = api_client.get(V1 + "/openapi.json").json()
    assert "/api/v1/credit-lines" in schema["paths"]
    assert api_client.get(V1 + "/docs").status_code == 200


def test_requests_without_credentials_get_a_401_problem(api_client, world):
    r = api_client.get(V1 + "/enterprises")
    assert r.status_code == 401 and r["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == 401


def test_a_bearer_token_authenticates_and_only_its_digest_is_stored(api_client, world):
    r = api_client.get(V1 + "/me", headers=world.auth("bank_a"))
    assert r.status_code == 200 and r.json()["role"] == "BANK"
    tok = world.tokens["bank_a"]
    assert not ApiToken.objects.filter(digest=tok).exists()
    assert all(tok not in t.digest for t in ApiToken.objects.all())


def test_expired_and_revoked_tokens_are_refused(api_client, world):
    t = ApiToken.objects.filter(user=world.users["bank_a"]).get()
    ApiToken.objects.filter(pk=t.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api_client.get(V1 + "/me", headers=world.auth("bank_a")).status_code == 401
    r = api_client.post(
        f"{V1}/tokens/{world.users['bank_b'].api_tokens.get().pk}/revoke",
        headers=world.auth("bank_b"),
    )
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert api_client.get(V1 + "/me", headers=world.auth("bank_b")).status_code == 401


def test_a_new_token_is_shown_once(api_client, world):
    r = _post(api_client, "/tokens", {"name": "core banking", "days": 30}, world.auth("bank_a"))
    assert r.status_code == 201
    plain = r.json()["token"]
    me = api_client.get(V1 + "/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.json()["username"] == "bank_a"
    listed = api_client.get(V1 + "/tokens", headers=world.auth("bank_a")).json()
    assert all("token" not in t for t in listed)


def _bearer(plain: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plain}"}


def test_a_token_cannot_make_a_token_that_outlives_it(api_client, world):
    maker = ApiToken.objects.get(user=world.users["bank_a"])
    ends = timezone.now() + dt.timedelta(days=10)
    ApiToken.objects.filter(pk=maker.pk).update(expires_at=ends)
    r = _post(api_client, "/tokens", {"name": "longer", "days": 30}, world.auth("bank_a"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "days"
    assert ends.date().isoformat() in r.json()["errors"][0]["detail"]  # names the latest expiry
    assert not ApiToken.objects.filter(name="longer").exists()
    # the default lifetime (90 days) is cut to the maker's expiry
    r = _post(api_client, "/tokens", {"name": "child"}, world.auth("bank_a"))
    assert r.status_code == 201
    child = ApiToken.objects.get(pk=r.json()["id"])
    maker.refresh_from_db()
    assert child.expires_at == maker.expires_at and child.created_by_token == maker
    r = _post(api_client, "/tokens", {"name": "grandchild", "days": 5}, _bearer(r.json()["token"]))
    assert r.status_code == 201
    assert ApiToken.objects.get(pk=r.json()["id"]).created_by_token == child


def test_no_token_lives_longer_than_the_configured_maximum(api_client, world, settings):
    settings.KVCREDIT_TOKEN_MAX_DAYS = 30
    r = _post(api_client, "/tokens", {"name": "long", "days": 31}, world.auth("bank_a"))
    assert r.status_code == 422
    r = _post(api_client, "/tokens", {"name": "default"}, world.auth("bank_a"))
    tok = ApiToken.objects.get(pk=r.json()["id"])
    assert tok.expires_at - tok.created_at == dt.timedelta(days=30)


def test_revoking_a_token_revokes_the_tokens_it_made(api_client, world):
    child = _post(api_client, "/tokens", {"name": "child"}, world.auth("bank_a")).json()
    grandchild = _post(api_client, "/tokens", {"name": "gc"}, _bearer(child["token"])).json()
    other = _post(api_client, "/tokens", {"name": "sibling"}, world.auth("bank_a")).json()
    maker = ApiToken.objects.get(user=world.users["bank_a"], name="test")
    r = api_client.post(f"{V1}/tokens/{maker.pk}/revoke", headers=_bearer(other["token"]))
    assert r.status_code == 200
    for plain in (world.tokens["bank_a"], child["token"], grandchild["token"], other["token"]):
        assert api_client.get(V1 + "/me", headers=_bearer(plain)).status_code == 401
    assert ApiToken.objects.filter(user=world.users["bank_a"], revoked_at=None).count() == 0


def test_session_auth_works_for_the_browser_and_writes_need_csrf(world):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["admin"])
    assert c.get(V1 + "/me").json()["username"] == "admin"
    r = _post(c, "/banks", {"code": "BANKC", "name": "银行c"}, {})
    assert r.status_code in (401, 403)


def test_a_bank_reads_the_credit_lines_of_its_districts(api_client, world):
    r = api_client.get(V1 + "/credit-lines", headers=world.auth("bank_a"))
    body = r.json()
    assert r.status_code == 200 and body["count"] == 1
    line = body["items"][0]
    assert line["uscc"] == world.enterprise["a"].uscc
    assert line["limit"] == line["available"] and line["limit"].endswith(".00")
    one = api_client.get(f"{V1}/credit-lines/{line['id']}", headers=world.auth("bank_a"))
    assert one.json() == line


def test_an_enterprise_submits_data_and_gets_its_evaluation(api_client, world):
    ent = world.enterprise["a"]
    r = _post(
        api_client,
        f"/enterprises/{ent.pk}/submissions",
        {"year": 2025, "data": strong_values()},
        world.auth("enterprise_a"),
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["version"] == 1 and body["evaluation"]["grade"]
    assert body["data"]["revenue"] == "50000000.00"
    assert body["evaluation"]["policy_id"] == "chongqing-kvc"


def test_what_raises_the_grade_is_read_by_the_enterprise_and_never_by_a_bank(api_client, world):
    """Suggestions (computed on reading) and indicator values come from the enterprise's data:
    its own users see them; a bank sees grade, points and bands only."""
    ent = world.enterprise["a"]
    weaker = strong_values(rd_expense="900000", ip_invention=1, high_tech_certified=False)
    r = _post(
        api_client,
        f"/enterprises/{ent.pk}/submissions",
        {"year": 2025, "data": weaker},
        world.auth("enterprise_a"),
    )
    assert r.status_code == 201, r.content
    ev = r.json()["evaluation"]
    assert ev["grade"] != "A" and "suggestions" not in ev["explanation"]
    own = api_client.get(f"{V1}/evaluations/{ev['id']}", headers=world.auth("enterprise_a"))
    explained = own.json()["explanation"]
    assert explained["suggestions"], "a grade below A has something that raises it"
    assert {"field", "current", "increase", "new_grade"} <= set(explained["suggestions"][0])
    assert any(i.get("value") is not None for i in explained["indicators"])
    for path in (f"/evaluations/{ev['id']}", f"/evaluations?enterprise_id={ent.pk}"):
        r = api_client.get(V1 + path, headers=world.auth("bank_a"))
        assert r.status_code == 200, r.content
        body = r.json()
        for seen in body.get("items", [body]):
            assert "suggestions" not in seen["explanation"]
            assert all("value" not in i for i in seen["explanation"]["indicators"])
            assert all("points" in i for i in seen["explanation"]["indicators"])
        assert "900000" not in r.content.decode()


def test_invalid_data_is_a_problem_naming_each_field(api_client, world):
    ent = world.enterprise["a"]
    r = _post(
        api_client,
        f"/enterprises/{ent.pk}/submissions",
        {"year": 2025, "data": strong_values(tech_staff=101)},
        world.auth("enterprise_a"),
    )
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    assert r.json()["field"] == "tech_staff"
    r = _post(
        api_client,
        f"/enterprises/{ent.pk}/submissions",
        {"year": 2025, "data": strong_values(revenue="12.345")},
        world.auth("enterprise_a"),
    )
    assert r.status_code == 422 and r.json()["field"] == "data.revenue"


def test_the_same_idempotency_key_never_creates_a_second_record(api_client, world):
    ent = world.enterprise["a"]
    headers = world.auth("enterprise_a") | {"Idempotency-Key": "sub-2025-0001"}
    body = {"year": 2025, "data": strong_values()}
    first = _post(api_client, f"/enterprises/{ent.pk}/submissions", body, headers)
    again = _post(api_client, f"/enterprises/{ent.pk}/submissions", body, headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert DataSubmission.objects.filter(enterprise=ent, year=2025).count() == 1
    other = _post(
        api_client,
        f"/enterprises/{ent.pk}/submissions",
        {"year": 2026, "data": strong_values()},
        headers,
    )
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def test_lists_paginate_and_filter(api_client, world):
    h = world.auth("admin")
    r = api_client.get(V1 + "/districts?limit=1&offset=1", headers=h).json()
    assert r["count"] == 2 and len(r["items"]) == 1 and r["items"][0]["code"] == "500102"
    r = api_client.get(f"{V1}/enterprises?district_id={world.district['b'].pk}", headers=h).json()
    assert [e["uscc"] for e in r["items"]] == [world.enterprise["b"].uscc]
    r = api_client.get(V1 + "/rates?rate_type=LPR_1Y&in_force_on=2024-09-01", headers=h).json()
    assert [x["annual_rate_percent"] for x in r["items"]] == ["3.35"]
    assert api_client.get(V1 + "/enterprises?limit=0", headers=h).status_code == 422


def test_filtered_applies_the_given_fields_through_their_lookups(world):
    from kvcredit.api.common import filtered
    from kvcredit.enterprises.api import EnterpriseFilter
    from kvcredit.enterprises.models import Enterprise

    a, b = world.enterprise["a"], world.enterprise["b"]
    every = Enterprise.objects.order_by("pk")
    assert list(filtered(every, EnterpriseFilter())) == list(every)
    f = EnterpriseFilter(district_id=b.district_id)
    assert list(filtered(every, f)) == [b]
    f = EnterpriseFilter(name_contains=a.name[1:4], uscc=b.uscc)
    # uscc is left to the caller (None); name_contains goes through its lookup
    assert list(filtered(every, f, uscc=None, name_contains="name__contains")) == [a]
    with pytest.raises(TypeError, match="EnterpriseFilter has no field usc"):
        filtered(every, f, usc=None)


def test_the_administrator_sets_up_the_programme(api_client, world):
    h = world.auth("admin")
    d = _post(
        api_client,
        "/districts",
        {"code": "500103", "name": "渝中区", "participating_since": "2018-01-01"},
        h,
    )
    assert d.status_code == 201, d.content
    b = _post(api_client, "/banks", {"code": "BANKC", "name": "银行c"}, h).json()
    r = _post(api_client, f"/banks/{b['id']}/districts", {"district_id": d.json()["id"]}, h)
    assert r.status_code == 201 and r.json()["district_ids"] == [d.json()["id"]]
    uscc = "91500000MA5U0E0E0" + uscc_check_char("91500000MA5U0E0E0")
    e = _post(
        api_client,
        "/enterprises",
        {"uscc": uscc, "name": "新企业", "district_id": d.json()["id"]},
        h,
    )
    assert e.status_code == 201
    dup = _post(
        api_client,
        "/enterprises",
        {"uscc": uscc, "name": "新企业", "district_id": d.json()["id"]},
        h,
    )
    assert dup.status_code == 409 and dup.json()["field"] == "uscc"
    rate = _post(
        api_client,
        "/rates",
        {"rate_type": "LPR_1Y", "effective_date": "2025-10-20", "annual_rate_percent": "2.95"},
        h,
    )
    assert rate.status_code == 201 and rate.json()["annual_rate_percent"] == "2.95"


def test_a_policy_is_published_over_the_api(api_client, world):
    from importlib import resources

    text = resources.files("kvcredit.scoring.policies").joinpath("most-tech-sme.toml").read_text()
    r = _post(api_client, "/policies", {"source_toml": text}, world.auth("admin"))
    assert r.status_code == 201 and r.json()["current"] is True
    listed = api_client.get(V1 + "/policies", headers=world.auth("bank_a")).json()
    assert [p["current"] for p in listed["items"]] == [False, True]


def test_publishing_answers_a_reevaluation_job_a_client_polls(api_client, world):
    from importlib import resources

    text = resources.files("kvcredit.scoring.policies").joinpath("most-tech-sme.toml").read_text()
    r = _post(api_client, "/policies", {"source_toml": text}, world.auth("admin"))
    job = r.json()["reevaluation"]
    assert job["policy_pk"] == r.json()["id"] and job["total"] == 2
    polled = api_client.get(f"{V1}/reevaluations/{job['id']}", headers=world.auth("admin")).json()
    # the test settings run the job inside the request; a server runs it in the background
    assert (polled["status"], polled["done"], polled["total"]) == ("DONE", 2, 2)
    listed = api_client.get(V1 + "/reevaluations", headers=world.auth("bank_a")).json()
    assert listed["items"][-1]["id"] == job["id"]  # one job per published policy
    assert listed["count"] == 2


def test_the_admin_site_is_open_to_the_administrator_only(world):
    from django.test import Client

    for who, expected in (("admin", 200), ("trustee", 302), ("bank_a", 302)):
        c = Client()
        c.force_login(world.users[who])
        assert c.get("/admin/").status_code == expected, who
    c = Client()
    c.force_login(world.users["admin"])
    assert c.get("/admin/enterprises/enterprise/").status_code == 200


def test_repeated_login_failures_are_locked_out(world):
    from django.test import Client

    c = Client()
    for _ in range(5):
        c.post("/accounts/login/", {"username": "bank_a", "password": "wrong"})
    r = c.post("/accounts/login/", {"username": "bank_a", "password": PASSWORD})
    assert r.status_code == 429
    ok = Client().post("/accounts/login/", {"username": "bank_b", "password": PASSWORD})
    assert ok.status_code == 302
