"""Language features on small inline policies, each case evaluated on both paths.

Weighted groups with caps and fractional weights that land exactly on a grade edge (where floats
would not: 0.29 * 100 is 28.999999999999996 in binary floating point), requirements on a group
score, route floors, ``in`` / ``not in`` on the district, negative coefficients and negative band
edges in derived expressions, a zero denominator's defined result, and comparisons too wide for
int64 that the compiler moves to Python integers.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_support import enterprise, evaluate_both

from kvcredit.scoring.compiled import Compare
from kvcredit.scoring.policy import parse_policy

HEADER = """
[policy]
id = "{id}"
version = "1"
title = "Inline test policy"
effective_date = 2026-01-01
authority = "tests"
"""

GRADED = parse_policy(
    HEADER.format(id="graded")
    + """
[[basic]]
id = "local"
label = "Not from the excluded district"
[[basic.when]]
input = "district"
op = "not in"
value = ["外地区", "另一区"]

[[indicators]]
id = "products"
input = "new_products"
weight = 0.29
bands = [{ from = 10, points = 100 }, { from = 5, points = 50 }]

[[indicators]]
id = "doctors"
input = "doctorate_staff"
weight = 0.57
bands = [{ from = 3, points = 100 }, { from = 1, points = 50 }]

[[indicators]]
id = "special"
ladder = [{ when = "specialized_sme == true", points = 7.5 }]

[[indicators]]
id = "award"
ladder = [{ when = "national_sci_award_5y == true", points = 4 }]

[[groups]]
id = "core"
indicators = ["products", "doctors"]

[[groups]]
id = "bonus"
indicators = ["special", "award"]
cap = 10
weight = 0.5

[[requirements]]
id = "core_floor"
when = "group.core >= 14.5"

[[routes]]
id = "certified"
when = "high_tech_certified == true"
min_grade = "B"

[[routes]]
id = "standard"
when = "led_standard_5y == true"
min_grade = "D"

[[routes]]
id = "zone"
min_grade = "C"
[[routes.when]]
input = "district"
op = "in"
value = ["两江新区", "重庆高新区"]
[[routes.when]]
input = "total_staff"
op = ">="
value = 10

[outcome]
kind = "grades"
grades = [
  { grade = "A", min_score = 86, credit_limit = 3000000 },
  { grade = "B", min_score = 57.5, credit_limit = 2000000 },
  { grade = "C", min_score = 29, credit_limit = 1000000.50 },
  { grade = "D", min_score = 14.5, credit_limit = 500000 },
]
"""
)

WEIGHTED_EDGES = [
    # changes, score, grade, failed requirements
    ({"new_products": 10, "doctorate_staff": 3}, "86", "A", ()),  # 29 + 57: floats give 85.99..
    ({"new_products": 10, "doctorate_staff": 1}, "57.5", "B", ()),  # 29 + 28.5
    ({"new_products": 10}, "29", "C", ()),  # 0.29 x 100
    ({"new_products": 9, "doctorate_staff": 1}, "43", "C", ()),  # 14.5 + 28.5
    ({"doctorate_staff": 1}, "28.5", "D", ()),
    ({"new_products": 5}, "14.5", "D", ()),  # the requirement holds exactly at 14.5
    ({"new_products": 4}, "0", None, ("core_floor",)),
    # bonus group: capped at 10, then weighted 0.5
    ({"doctorate_staff": 1, "specialized_sme": True}, "32.25", "C", ()),  # 28.5 + 7.5 x 0.5
    ({"doctorate_staff": 1, "national_sci_award_5y": True}, "30.5", "C", ()),  # 28.5 + 2
    (
        {"doctorate_staff": 1, "specialized_sme": True, "national_sci_award_5y": True},
        "33.5",  # 28.5 + min(11.5, 10) x 0.5; uncapped it would be 34.25
        "C",
        (),
    ),
    ({"specialized_sme": True, "national_sci_award_5y": True}, "5", None, ("core_floor",)),
]


@pytest.mark.parametrize(("changes", "score", "grade", "failed"), WEIGHTED_EDGES)
def test_fractional_weights_and_capped_groups_land_exactly_on_grade_edges(
    changes, score, grade, failed
):
    ev = evaluate_both(GRADED, enterprise(**changes))
    assert ev.score == Decimal(score)
    assert ev.grade == grade
    assert ev.failed_requirements == failed


def test_group_scores_are_reported_after_cap_and_weight():
    firm = enterprise(new_products=5, specialized_sme=True, national_sci_award_5y=True)
    ev = evaluate_both(GRADED, firm)
    assert ev.groups == {"core": Decimal("14.5"), "bonus": 5}
    assert {i.id: i.weighted for i in ev.indicators} == {
        "products": Decimal("14.5"),
        "doctors": 0,
        "special": Decimal("7.5"),
        "award": 4,
    }


def test_a_credit_limit_with_fen_is_kept_exactly():
    ev = evaluate_both(GRADED, enterprise(new_products=10))
    assert ev.credit_limit == Decimal("1000000.50")


ROUTE_FLOORS = [
    # changes, grade, qualified_by
    ({"high_tech_certified": True}, "B", "certified"),  # no score at all: the route's floor
    ({"high_tech_certified": True, "new_products": 10}, "B", "certified"),  # C raised to B
    ({"high_tech_certified": True, "new_products": 10, "doctorate_staff": 3}, "A", "score"),
    ({"high_tech_certified": True, "new_products": 10, "doctorate_staff": 1}, "B", "score"),
    ({"led_standard_5y": True, "new_products": 10}, "C", "score"),  # the floor D is lower
    ({"led_standard_5y": True}, "D", "standard"),
    ({"led_standard_5y": True, "high_tech_certified": True}, "B", "certified"),
    ({"district": "两江新区"}, "C", "zone"),
    ({"district": "两江新区", "total_staff": 9}, None, ""),  # every condition of a route holds
    ({"district": "两江新区", "led_standard_5y": True}, "C", "zone"),  # the better floor wins
    ({"district": "渝北区", "led_standard_5y": True}, "D", "standard"),
]


@pytest.mark.parametrize(("changes", "grade", "qualified_by"), ROUTE_FLOORS)
def test_a_route_guarantees_its_minimum_grade_and_never_lowers_one(changes, grade, qualified_by):
    ev = evaluate_both(GRADED, enterprise(**changes))
    assert (ev.grade, ev.qualified_by) == (grade, qualified_by)


@pytest.mark.parametrize("district", ["外地区", "另一区"])
def test_not_in_knocks_out_listed_districts_even_with_a_route(district):
    firm = enterprise(district=district, high_tech_certified=True, new_products=10)
    ev = evaluate_both(GRADED, firm)
    assert (ev.eligible, ev.grade, ev.knocked_out_by) == (False, None, ("local",))
    assert ev.routes == ("certified",)


# -- negative coefficients and negative band edges -------------------------------------------
GROWTH = parse_policy(
    HEADER.format(id="growth")
    + """
[derived]
growth = "(revenue - revenue_prev) / revenue_prev"
net_tech = "tech_staff - 2 * doctorate_staff"
shrink = "-1 * revenue + revenue_prev"

[[indicators]]
id = "growth"
input = "growth"
if_undefined = 1
bands = [{ from = 0.2, points = 10 }, { from = 0, points = 5 }, { from = -0.1, points = 2 }]

[[indicators]]
id = "net_tech"
input = "net_tech"
bands = [{ from = 0, points = 1 }, { from = -3, points = 0.5 }]

[[indicators]]
id = "shrink"
input = "shrink"
bands = [{ from = 0.01, points = 0.25 }]

[outcome]
kind = "qualify"
min_score = 5
"""
)

GROWTH_BANDS = [
    # revenue_prev, revenue (yuan), growth points
    ("100", "120", 10),
    ("100", "119.99", 5),
    ("100", "100", 5),
    ("100", "99.99", 2),
    ("100", "90", 2),  # -10% exactly: a negative lower edge is inclusive too
    ("100", "89.99", 0),
    ("100", "0", 0),  # -100%
    ("0", "100", 1),  # no previous revenue: the policy's if_undefined
    ("0", "0", 1),
    ("0.01", "0.01", 5),
    ("999999999999.99", "999999999999.99", 5),
]


@pytest.mark.parametrize(("revenue_prev", "revenue", "points"), GROWTH_BANDS)
def test_growth_with_a_negative_coefficient_scores_by_band(revenue_prev, revenue, points):
    ev = evaluate_both(GROWTH, enterprise(revenue_prev=revenue_prev, revenue=revenue))
    growth = next(i for i in ev.indicators if i.id == "growth")
    assert growth.points == points


NET_TECH = [
    # tech_staff, doctorate_staff, net (tech - 2 x doctorates), points
    (5, 1, 3, 1),
    (2, 1, 0, 1),
    (0, 1, -2, Decimal("0.5")),
    (1, 2, -3, Decimal("0.5")),
    (0, 2, -4, 0),
]


@pytest.mark.parametrize(("tech", "doctors", "net", "points"), NET_TECH)
def test_integer_coefficients_and_negative_edges_on_a_linear_input(tech, doctors, net, points):
    ev = evaluate_both(GROWTH, enterprise(tech_staff=tech, doctorate_staff=doctors))
    indicator = next(i for i in ev.indicators if i.id == "net_tech")
    assert (indicator.value, indicator.points) == (net, points)


@pytest.mark.parametrize(
    ("revenue_prev", "revenue", "points"),
    [("100.01", "100", Decimal("0.25")), ("100", "100", 0), ("100", "100.01", 0)],
)
def test_a_leading_negative_coefficient_is_allowed(revenue_prev, revenue, points):
    ev = evaluate_both(GROWTH, enterprise(revenue_prev=revenue_prev, revenue=revenue))
    assert next(i for i in ev.indicators if i.id == "shrink").points == points


# -- the qualify outcome: 59 and 60 ----------------------------------------------------------
SIXTY = parse_policy(
    HEADER.format(id="sixty")
    + """
[[indicators]]
id = "specialised"
ladder = [{ when = "specialized_sme == true", points = 59 }]

[[indicators]]
id = "growth_firm"
ladder = [{ when = "high_growth == true", points = 1 }]

[outcome]
kind = "qualify"
min_score = 60
"""
)


@pytest.mark.parametrize(
    ("changes", "score", "eligible"),
    [
        ({"specialized_sme": True}, 59, False),
        ({"specialized_sme": True, "high_growth": True}, 60, True),
        ({"high_growth": True}, 1, False),
    ],
)
def test_a_qualify_policy_qualifies_at_its_minimum_score_and_not_one_below(
    changes, score, eligible
):
    ev = evaluate_both(SIXTY, enterprise(**changes))
    assert (ev.score, ev.eligible) == (score, eligible)
    assert ev.qualified_by == ("score" if eligible else "")


# -- comparisons too wide for int64 ----------------------------------------------------------
WIDE = parse_policy(
    HEADER.format(id="wide")
    + """
[derived]
rd_revenue = "rd_expense / revenue"

[[indicators]]
id = "tiny_ratio"
input = "rd_revenue"
bands = [{ from = 0.0000001, points = 1 }]

[[indicators]]
id = "big_amount"
input = "revenue"
bands = [{ from = 999999999999.99, points = 2 }]

[outcome]
kind = "qualify"
min_score = 1
"""
)


def test_the_compiler_marks_comparisons_that_could_overflow_int64():
    [edge] = WIDE.compiled.indicators[0].alternatives[0].edges
    assert isinstance(edge, Compare)
    assert edge.wide


@pytest.mark.parametrize(
    ("revenue", "rd_expense", "ratio_points", "amount_points"),
    [
        ("10000000", "1.00", 1, 0),  # exactly 1e-7
        ("10000000", "0.99", 0, 0),
        ("10000000.01", "1.00", 0, 0),
        ("999999999999.99", "100000.00", 1, 2),
        ("999999999999.99", "99999.99", 0, 2),
        ("999999999999.98", "0", 0, 0),
        ("1000000000000", "99999.99", 0, 2),
        ("1000000000000", "100000", 1, 2),
    ],
)
def test_wide_comparisons_are_exact_on_both_paths(revenue, rd_expense, ratio_points, amount_points):
    ev = evaluate_both(WIDE, enterprise(revenue=revenue, rd_expense=rd_expense))
    points = {i.id: i.points for i in ev.indicators}
    assert points == {"tiny_ratio": ratio_points, "big_amount": amount_points}
