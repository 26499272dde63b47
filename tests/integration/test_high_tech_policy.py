"""The shipped high-tech-enterprise policy published through the console's policy pages, then
an enterprise's submission through the API scored by it: the four group sub-scores, the pass
mark, and a knock-out by the revenue-banded R&D share."""

from __future__ import annotations

from importlib import resources

import pytest
from django.test import Client
from django.urls import reverse

from kvcredit.enterprises.models import PublishedPolicy

pytestmark = pytest.mark.django_db

SOURCE = (
    resources.files("kvcredit.scoring.policies")
    .joinpath("high-tech-enterprise.toml")
    .read_text("utf-8")
)
# R&D 1.5 + 1.5 + 6 = 9 M of sales 30 + 30 + 50 = 110 M (8.2 %), all in China; 60 % high-tech
# income; every item at its top: IP 31 capped at 30, conversion 25, management 20, growth 18.
EXTRA = {
    "registration_date": "2020-01-01",
    "core_ip_owned": True,
    "hitech_field": True,
    "revenue_y1": "30000000",
    "revenue_y2": "30000000",
    "rd_expense_y1": "1500000",
    "rd_expense_y2": "1500000",
    "rd_domestic_3y": "9000000",
    "hitech_income": "6000000",
    "total_income": "10000000",
    "net_asset_growth": "0.35",
    "sales_growth": "0.35",
    "conversions_3y": 15,
    "ip_advancement_points": 8,
    "ip_core_role_points": 8,
    "ip_acquisition_points": 6,
    "ip_standards_points": 2,
    "mgmt_rd_system_points": 6,
    "mgmt_rd_institution_points": 6,
    "mgmt_conversion_system_points": 4,
    "mgmt_talent_system_points": 4,
}


def test_published_from_the_console_and_scored_through_the_api(world, api_client) -> None:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(world.users["admin"])
    preview = c.post(reverse("console:policy_preview"), {"source": SOURCE})
    assert preview.context["preview"].ok, preview.context["preview"].problems
    published = c.post(reverse("console:policy_publish"), {"source": SOURCE})
    assert published.status_code == 302, published.content
    current = PublishedPolicy.objects.order_by("-id").first()
    assert (current.policy_id, current.version) == ("high-tech-enterprise", "2016")

    from conftest import strong_values

    auth = world.auth("enterprise_a")
    fields = api_client.get("/api/v1/policies/current/fields", headers=auth).json()
    assert {f["name"] for f in fields} >= {"registration_date", "rd_domestic_3y", "sales_growth"}
    url = f"/api/v1/enterprises/{world.enterprise['a'].pk}/submissions"

    good = {"year": 2025, "data": strong_values(extra=EXTRA)}
    made = api_client.post(url, good, content_type="application/json", headers=auth)
    assert made.status_code == 201, made.content
    explanation = made.json()["evaluation"]["explanation"]
    groups = {k: str(v) for k, v in explanation["groups"].items()}
    assert groups == {"ip": "30", "conversion": "25", "management": "20", "growth": "18"}
    assert explanation["failed_requirements"] == [] and explanation["knocked_out_by"] == []
    assert str(explanation["score"]) == "93", explanation

    # latest R&D 2,499,999.99: 5,499,999.99 of 110 M is under 5 % (latest sales 50 M)
    low = {"year": 2024, "data": strong_values(rd_expense="2499999.99", extra=EXTRA)}
    made = api_client.post(url, low, content_type="application/json", headers=auth)
    assert made.status_code == 201, made.content
    explanation = made.json()["evaluation"]["explanation"]
    assert explanation["knocked_out_by"] == ["rd_share_by_revenue"], explanation

    over = {"year": 2023, "data": strong_values(extra=EXTRA | {"ip_advancement_points": 9})}
    refused = api_client.post(url, over, content_type="application/json", headers=auth)
    assert refused.status_code == 422 and "ip_advancement_points" in refused.content.decode()
