"""A published policy that declares its own field: publishing reports who lacks it; the API
and the console ask for it; a submission validates, stores and scores it."""

from __future__ import annotations

from importlib import resources

import pytest
from django.test import Client
from django.urls import reverse

from kvcredit.enterprises import policies
from kvcredit.enterprises.models import DataSubmission
from kvcredit.errors import InvalidInput

pytestmark = pytest.mark.django_db

DEBT = """
[[fields]]
name = "debt_ratio"
kind = "ratio"
zh = "资产负债率"
description = "total liabilities / total assets"
description_zh = "负债总额 / 资产总额"
max = 10

[[indicators]]
id = "debt"
label = "Debt ratio (lower is better)"
label_zh = "资产负债率（越低越好）"
input = "debt_ratio"
format = "percent"
bands = [{ below = 0.55, points = 10 }, { below = 0.75, points = 5 }]
"""


def policy_with_debt() -> str:
    text = resources.files("kvcredit.scoring.policies").joinpath("chongqing-kvc.toml")
    source = text.read_text("utf-8").replace('version = "2026.1"', 'version = "2026.9"', 1)
    source = source.replace('"tax", "credit_record"]', '"tax", "credit_record", "debt"]', 1)
    head, tail = source.split("[[groups]]", 1)
    return head + DEBT + "\n[[groups]]" + tail


def publish(world):  # type: ignore[no-untyped-def]
    return policies.publish_policy(world.users["admin"], source_toml=policy_with_debt())


def test_publishing_reports_the_enterprises_that_lack_a_declared_field(world) -> None:  # type: ignore[no-untyped-def]
    published = publish(world)
    job = published.reevaluation
    job.refresh_from_db()
    assert job.status == "DONE"
    # Both registered enterprises have no debt ratio: scored with the default 0 (10 points).
    assert job.missing_fields["debt_ratio"]["missing"] == 2
    assert sum(job.missing_fields["debt_ratio"]["outcomes"].values()) == 2


def test_the_api_describes_asks_validates_stores_and_scores_a_declared_field(
    world, api_client
) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    auth = world.auth("enterprise_a")
    fields = api_client.get("/api/v1/policies/current/fields", headers=auth)
    assert fields.status_code == 200, fields.content
    [debt] = fields.json()
    assert debt | {"default": None} == {
        "name": "debt_ratio",
        "kind": "ratio",
        "label": "total liabilities / total assets",
        "label_zh": "资产负债率",
        "description_zh": "负债总额 / 资产总额",
        "required": False,
        "default": None,
        "min": None,
        "max": "10",
        "values": [],
    }
    schema = api_client.get("/api/v1/openapi.json").json()
    extra = schema["components"]["schemas"]["EnterpriseData"]["properties"]["extra"]
    assert "/policies/current/fields" in extra["description"]

    from conftest import strong_values

    ent = world.enterprise["a"].pk
    url = f"/api/v1/enterprises/{ent}/submissions"
    bad = {"year": 2025, "data": strong_values(extra={"debt_ratio": "11"})}
    refused = api_client.post(url, bad, content_type="application/json", headers=auth)
    assert refused.status_code == 422, refused.content
    assert "debt_ratio" in refused.content.decode()

    good = {"year": 2025, "data": strong_values(extra={"debt_ratio": "0.6"})}
    made = api_client.post(url, good, content_type="application/json", headers=auth)
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["extra"] == {"debt_ratio": 600_000}
    assert DataSubmission.objects.get(pk=body["id"]).extra == {"debt_ratio": 600_000}
    explanation = body["evaluation"]["explanation"]
    debt_result = next(i for i in explanation["indicators"] if i["id"] == "debt")
    assert (debt_result["points"], debt_result["value"], debt_result["band_below"]) == (
        "5",
        "0.6",
        "0.75",
    )
    assert set(explanation["groups"]) == {"innovation", "bonus", "operating"}
    assert explanation["failed_requirements"] == []


def test_the_console_data_form_asks_for_the_declared_field_in_both_languages(world) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.users["enterprise_a"])
    page = client.get(reverse("console:submit"))
    assert page.status_code == 200
    assert "资产负债率" in page.content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(world.users["enterprise_a"])
    assert (
        "total liabilities / total assets"
        in english.get(reverse("console:submit")).content.decode()
    )

    district = Client(HTTP_ACCEPT_LANGUAGE="en")
    district.force_login(world.users["district_a"])
    template = district.get(reverse("console:data_template")).content.decode("utf-8-sig")
    headers = template.strip().split(",")
    assert headers[0] == "统一社会信用代码" and headers[-1] == "资产负债率"


def test_a_service_submission_refuses_a_bad_declared_value_in_the_active_language(world) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    from conftest import strong_values
    from kvcredit.enterprises import services

    publish(world)
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as caught:
        services.submit_data(
            world.users["admin"],
            enterprise_id=world.enterprise["b"].pk,
            year=2025,
            values=strong_values(debt_ratio="abc"),
        )
    assert ("debt_ratio", "不是数字：abc") in caught.value.problems
