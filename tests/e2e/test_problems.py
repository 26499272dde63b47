"""Problem details in the reader's language: translated titles, and pydantic's validation errors
reworded (by their type, with their limits) into sentences that name the field."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from kvcredit.api.problems import TITLES
from kvcredit.api.validation import message
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted, ServiceError

V1 = "/api/v1"
PROBLEM = "application/problem+json"


def _post(client, path, body, headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(V1 + path, data, content_type="application/json", headers=headers)


def _errors(r):
    return {e["field"]: e["detail"] for e in r.json()["errors"]}


@pytest.mark.django_db
def test_a_bad_body_is_explained_in_chinese_by_default_and_in_english_on_request(api_client, world):
    body = {"name": "", "days": 1.5}
    zh = _post(api_client, "/tokens", body, world.auth("bank_a"))
    assert zh.status_code == 422 and zh["Content-Type"] == PROBLEM
    p = zh.json()
    assert p["type"] == "https://kvcredit.invalid/problems/422" and p["status"] == 422
    assert p["title"] == "输入无效"
    assert p["field"] == "name"  # the pointer is as before: the first field
    assert _errors(zh) == {"name": "name 不能为空", "days": "days 必须是整数，不能带小数"}
    assert p["detail"] == "name 不能为空; days 必须是整数，不能带小数"

    en = _post(api_client, "/tokens", body, world.auth("bank_a") | {"Accept-Language": "en"})
    assert en.status_code == 422 and en["Content-Language"] == "en"
    assert en.json()["title"] == "Invalid input" and en.json()["field"] == "name"
    assert _errors(en) == {
        "name": "name must not be empty",
        "days": "days must be a whole number, without decimals",
    }


@pytest.mark.django_db
def test_limits_choices_dates_and_amounts_come_from_the_error(api_client, world):
    body = {"district_id": 0, "contributor": "BANK", "amount": "1.234", "paid_date": "1999-12-31"}
    headers = world.auth("trustee")
    zh = _errors(_post(api_client, "/fund/contributions", body, headers))
    assert zh == {
        "district_id": "district_id 不得小于 1",
        "contributor": "contributor 必须是以下值之一：'CITY', 'DISTRICT'",
        "amount": "amount 必须是以元为单位的金额，如 1234.56（整数部分最多 12 位，小数最多 2 位）",
        "paid_date": "paid_date 不得早于 2000-01-01",
    }
    en = _errors(
        _post(api_client, "/fund/contributions", body, headers | {"Accept-Language": "en"})
    )
    assert en["district_id"] == "district_id must be at least 1"
    assert en["contributor"] == "contributor must be one of: 'CITY', 'DISTRICT'"
    assert en["amount"].startswith("amount must be an amount in yuan")
    assert en["paid_date"] == "paid_date must not be before 2000-01-01"


@pytest.mark.django_db
def test_nested_fields_query_parameters_and_headers_keep_their_pointer(api_client, world):
    ent = world.enterprise["a"]
    r = _post(
        api_client,
        f"/enterprises/{ent.pk}/submissions",
        {"year": 2025, "data": {"tech_staff": "many"}},
        world.auth("enterprise_a"),
    )
    errors = _errors(r)
    assert errors["data.tech_staff"] == "data.tech_staff 必须是整数"
    assert errors["data.revenue"] == "data.revenue 为必填项"
    h = world.auth("admin") | {"Accept-Language": "en"}
    r = api_client.get(V1 + "/enterprises?limit=0&uscc=123", headers=h)
    assert _errors(r) == {
        "limit": "limit must be at least 1",
        "uscc": "uscc must be at least 18 characters long",
    }
    r = _post(api_client, "/fund/contributions", {}, h | {"Idempotency-Key": "k" * 101})
    errors = _errors(r)
    assert errors["Idempotency-Key"] == "Idempotency-Key must be at most 100 characters long"
    assert errors["amount"] == "amount is required"


@pytest.mark.django_db
def test_a_missing_or_unreadable_body_and_other_problems_have_translated_titles(api_client, world):
    h = world.auth("bank_a")
    r = _post(api_client, "/tokens", "", h)
    assert r.status_code == 422 and r.json()["detail"] == "缺少请求体（应为 JSON 对象）"
    r = _post(api_client, "/tokens", "{not json", h)
    assert r.status_code == 400 and r["Content-Type"] == PROBLEM
    assert (r.json()["title"], r.json()["detail"]) == ("请求有误", "请求体不是有效的 JSON")
    r = api_client.get(V1 + "/me")
    assert (r.status_code, r.json()["title"]) == (401, "未认证")
    r = api_client.get(V1 + "/me", headers={"Accept-Language": "en"})
    assert r.json()["title"] == "Unauthorized"
    assert r.json()["type"] == "https://kvcredit.invalid/problems/401"
    r = api_client.get(f"{V1}/enterprises/{world.enterprise['b'].pk}", headers=h)
    assert (r.status_code, r.json()["title"]) == (404, "未找到")


def test_every_service_error_title_is_a_translated_title():
    # ServiceError (pure, no Django) keeps English titles; the API words them per status.
    with translation.override("en"):
        for cls in (ServiceError, NotPermitted, NotFound, Conflict, InvalidInput):
            assert str(TITLES[cls.status]) == cls.title
    with translation.override("zh-hans"):
        assert all(not str(t).isascii() for t in TITLES.values())


@pytest.mark.parametrize(
    ("error", "zh", "en"),
    [
        (
            {
                "type": "too_long",
                "ctx": {"field_type": "List", "max_length": 4, "actual_length": 5},
            },
            "methods 最多 4 项",
            "methods must have at most 4 items",
        ),
        (
            {"type": "too_short", "ctx": {"field_type": "List", "min_length": 1}},
            "methods 至少需要 1 项",
            "methods must have at least 1 item",
        ),
        ({"type": "less_than_equal", "ctx": {"le": 366}}, "methods 不得大于 366", None),
        ({"type": "less_than", "ctx": {"lt": "2200-12-31"}}, "methods 必须早于 2200-12-31", None),
        ({"type": "greater_than", "ctx": {"gt": 0}}, "methods 必须大于 0", None),
        (
            {"type": "decimal_max_places", "ctx": {"decimal_places": 2}},
            "methods 最多 2 位小数",
            "methods must have at most 2 decimal places",
        ),
        ({"type": "enum", "ctx": {"expected": "'A', 'B' or 'C'"}}, None, None),
        ({"type": "json_invalid", "ctx": {"error": "EOF"}}, "methods 不是有效的 JSON", None),
        (
            {"type": "extra_forbidden"},
            "methods 不是可接受的字段",
            "methods is not an accepted field",
        ),
        ({"type": "bool_parsing"}, "methods 必须是 true 或 false", None),
        (
            {"type": "string_pattern_mismatch", "ctx": {"pattern": "^[A-Z]{1,12}$"}},
            "methods 格式不正确（应符合模式 ^[A-Z]{1,12}$）",
            None,
        ),
        (
            {"type": "url_parsing", "msg": "Input should be a valid URL"},
            "methods：Input should be a valid URL",
            "methods: Input should be a valid URL",
        ),
    ],
)
def test_each_error_type_is_worded_with_its_limits(error, zh, en):
    error = {"loc": ("body", "payload", "methods")} | error
    with translation.override("zh-hans"):
        said = message(error, "methods")
        if zh is not None:
            assert said == zh
        assert said.startswith("methods")
    with translation.override("en"):
        said = message(error, "methods")
        if en is not None:
            assert said == en
        assert said.startswith("methods")
    if error["type"] == "enum":
        with translation.override("en"):
            assert message(error, "f") == "f must be one of: 'A', 'B', 'C'"
