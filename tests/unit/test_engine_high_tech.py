"""The High-Tech Enterprise recognition (high-tech-enterprise), worked by hand: each condition of
the 认定管理办法 at its edge (the revenue-banded R&D share among them), each scoring band at its
edges, the group caps and the pass mark of 71. Every case runs on both evaluation paths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from engine_support import enterprise, evaluate_both

from kvcredit.errors import PolicyError
from kvcredit.scoring import load_policy
from kvcredit.scoring.policy import parse_policy
from kvcredit.scoring.records import RecordError, normalize_record

HTE = load_policy("high-tech-enterprise")
ON = dt.date(2026, 6, 1)

# Passes every condition exactly on its edge: R&D 1.5 + 1.5 + 2 = 5 M of sales 30 + 30 + 40 =
# 100 M is 5 % (latest sales 40 M <= 50 M); R&D in China 3 M of 5 M is 60 %; high-tech income
# 6 M of 10 M is 60 %; 10 S&T staff of 100 is 10 %. It scores the top of every item:
# IP 8 + 8 + 7 + 6 + 2 = 31, capped at 30; conversion 25; management 20; growth 9 + 9 = 18: 93.
TOP: dict[str, Any] = {
    "registration_date": "2020-01-01",
    "core_ip_owned": True,
    "hitech_field": True,
    "total_staff": 100,
    "tech_staff": 10,
    "revenue": "40000000",
    "revenue_y1": "30000000",
    "revenue_y2": "30000000",
    "rd_expense": "2000000",
    "rd_expense_y1": "1500000",
    "rd_expense_y2": "1500000",
    "rd_domestic_3y": "3000000",
    "hitech_income": "6000000",
    "total_income": "10000000",
    "ip_invention": 1,
    "ip_advancement_points": 8,
    "ip_core_role_points": 8,
    "ip_acquisition_points": 6,
    "ip_standards_points": 2,
    "conversions_3y": 15,
    "mgmt_rd_system_points": 6,
    "mgmt_rd_institution_points": 6,
    "mgmt_conversion_system_points": 4,
    "mgmt_talent_system_points": 4,
    "net_asset_growth": "0.35",
    "sales_growth": "0.35",
}


def hte(**changes: Any):
    return evaluate_both(HTE, enterprise(**{**TOP, **changes}), on=ON)


def points(ev, indicator: str) -> Decimal:
    return next(i.points for i in ev.indicators if i.id == indicator)


def test_the_top_firm_scores_93_with_its_ip_capped_at_30():
    ev = hte()
    assert ev.eligible and ev.knocked_out_by == ()
    assert ev.groups == {"ip": 30, "conversion": 25, "management": 20, "growth": 18}
    assert ev.score == 93 and ev.qualified_by == "score"


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"tech_staff": 9}, "tech_staff_10pct"),  # 9 %
        ({"rd_domestic_3y": "2999999.99"}, "rd_in_china_60pct"),
        ({"hitech_income": "5999999.99"}, "hitech_income_60pct"),
        ({"core_ip_owned": False}, "core_ip"),
        ({"hitech_field": False}, "hitech_field"),
        ({"major_incident": True}, "no_major_incident"),
        ({"registration_date": "2025-06-01"}, "registered_one_year"),  # exactly one year
        ({"registration_date": "2026-01-01"}, "registered_one_year"),
        # 4,999,999.99 of 100 M is just under 5 %
        ({"rd_expense": "1999999.99"}, "rd_share_by_revenue"),
    ],
)
def test_each_condition_knocks_out_just_past_its_edge(changes, rule):
    ev = hte(**changes)
    assert not ev.eligible and ev.knocked_out_by == (rule,)


def test_registered_one_year_and_a_day_before_is_eligible():
    assert hte(registration_date="2025-05-31").eligible


@pytest.mark.parametrize(
    ("latest", "rd_latest", "eligible"),
    [
        # sales 30 + 30 + latest; R&D 1.5 + 1.5 + rd_latest
        ("50000000", "2500000", True),  # 50 M is in the 5 % band: 5.5 M / 110 M = 5 %
        ("50000000", "2499999.99", False),
        ("50000000.01", "1400000.01", True),  # over 50 M: 4 %, 4.4 M / 110 M
        ("50000000.01", "1400000", False),  # 4,400,000 / 110,000,000.01 is just under 4 %
        ("200000000", "7600000", True),  # 200 M is in the 4 % band: 10.6 M / 260 M > 4 %
        ("200000000", "7399999.99", False),  # 10,399,999.99 / 260 M < 4 %
        ("200000000.01", "4800000.01", True),  # over 200 M: 3 %, 7.8 M / 260 M = 3 %
        ("200000000.01", "4800000", False),
    ],
)
def test_the_rd_share_needed_falls_with_the_latest_years_sales(latest, rd_latest, eligible):
    ev = hte(revenue=latest, rd_expense=rd_latest, rd_domestic_3y="100000000")
    assert ev.eligible is eligible
    if not eligible:
        assert ev.knocked_out_by == ("rd_share_by_revenue",)


def test_a_firm_registered_under_three_years_counts_the_years_it_has():
    # no first year: R&D 0 + 1.5 + 2 = 3.5 M of 0 + 30 + 40 = 70 M is exactly 5 %
    ev = hte(revenue_y1="0", rd_expense_y1="0", rd_domestic_3y="2100000")
    assert ev.eligible


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ip_class": None}, 7),
        ({"ip_invention": 0, "ip_software_copyright": 5}, 5),
        ({"ip_invention": 0, "ip_software_copyright": 4}, 3),
        ({"ip_invention": 0, "ip_utility_model": 3}, 3),
        ({"ip_invention": 0, "ip_design": 2}, 1),
        ({"ip_invention": 0, "ip_design": 1}, 1),
        ({"ip_invention": 0}, 0),
        ({"ip_invention": 0, "ip_ic_layout": 1}, 7),
    ],
)
def test_ip_quantity_bands(changes, expected):
    changes.pop("ip_class", None)
    assert points(hte(**changes), "ip_quantity") == expected


@pytest.mark.parametrize(
    ("conversions", "expected"),
    [(15, 25), (14, 19), (12, 19), (11, 13), (9, 13), (8, 7), (6, 7), (5, 1), (3, 1), (2, 0)],
)
def test_conversion_bands_by_the_yearly_average(conversions, expected):
    ev = hte(conversions_3y=conversions)
    assert points(ev, "conversion") == expected and ev.groups["conversion"] == expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("0.35", 9),
        ("0.349999", 7),
        ("0.25", 7),
        ("0.249999", 5),
        ("0.15", 5),
        ("0.149999", 3),
        ("0.05", 3),
        ("0.049999", 1),
        ("0.000001", 1),
        ("0", 0),
        ("-0.2", 0),
    ],
)
def test_growth_bands_at_their_edges(rate, expected):
    ev = hte(net_asset_growth=rate, sales_growth=rate)
    assert points(ev, "net_asset_growth") == expected and points(ev, "sales_growth") == expected
    assert ev.groups["growth"] == 2 * expected


def test_negative_net_assets_score_no_growth_at_all():
    ev = hte(net_assets_negative=True)
    assert ev.groups["growth"] == 0 and ev.score == 75 and ev.qualified_by == "score"


def test_the_pass_mark_is_71():
    # 93 less management 20 = 73; less 2 of growth (0.25 and 0.35: 7 + 9) = 71: recognised
    ev = hte(
        mgmt_rd_system_points=0,
        mgmt_rd_institution_points=0,
        mgmt_conversion_system_points=0,
        mgmt_talent_system_points=0,
        net_asset_growth="0.25",
    )
    assert ev.score == 71 and ev.eligible and ev.qualified_by == "score"
    # one point less: 70 is not enough (指引: 70分以上（不含70分）)
    ev = hte(
        mgmt_rd_system_points=0,
        mgmt_rd_institution_points=0,
        mgmt_conversion_system_points=0,
        mgmt_talent_system_points=0,
        net_asset_growth="0.25",
        ip_standards_points=0,
    )
    assert ev.groups["ip"] == 29 and ev.score == 70 and not ev.eligible


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("ip_advancement_points", 9, "above_max"),
        ("mgmt_talent_system_points", 5, "above_max"),
        ("conversions_3y", "1.5", "not_integer"),
        ("net_asset_growth", "abc", "not_number"),
    ],
)
def test_an_assessor_score_above_its_items_maximum_is_refused_by_field(field, value, code):
    with pytest.raises(RecordError) as caught:
        normalize_record(enterprise(**{**TOP, field: value}), HTE.declared)
    [problem] = caught.value.problems
    assert problem.field == field and problem.message_zh and problem.message_en
    assert problem.code == code, problem


SHIPPED_SOURCE = (
    resources.files("kvcredit.scoring.policies")
    .joinpath("high-tech-enterprise.toml")
    .read_text("utf-8")
)


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment"),
    [
        # a misspelt field
        (
            '"hitech_income_share >= 0.60"',
            '"hitech_incme_share >= 0.60"',
            "basic.6.when.0",
            "unknown input 'hitech_incme_share'",
        ),
        # a date where a number is needed
        (
            'input = "mgmt_talent_system_points"',
            'input = "registration_date"',
            "indicators.9.input",
            "unknown input 'registration_date'",
        ),
        # overlapping (repeated) band edges
        (
            "{ from = 6, points = 6 },\n  { from = 5, points = 5 },",
            "{ from = 5, points = 6 },\n  { from = 5, points = 5 },",
            "indicators.0.bands",
            "from the highest 'from' down",
        ),
        # a kind the language does not have
        (
            'kind = "count"\nzh = "技术先进程度得分"',
            'kind = "points"\nzh = "技术先进程度得分"',
            "fields.14.kind",
            "'money', 'count'",
        ),
    ],
)
def test_an_authors_likely_mistake_is_named_by_key_path(old, new, path, fragment):
    assert old in SHIPPED_SOURCE
    with pytest.raises(PolicyError) as caught:
        parse_policy(SHIPPED_SOURCE.replace(old, new, 1))
    found = dict(caught.value.problems)
    assert path in found, found
    assert fragment in found[path]
