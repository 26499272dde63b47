"""The national technology-SME evaluation (most-tech-sme), rule by rule, at every band edge.

Each case is evaluated on both paths (``evaluate_one`` and ``evaluate_frame``) by the
``evaluate_both`` fixture, which asserts they agree field by field. Money is written in yuan with
fen, as people write it, so "just below" an edge is one fen or one person below.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from engine_support import NATIONAL, enterprise, evaluate_both

from kvcredit.scoring.fields import BY_NAME

# -- technology staff / total staff (20 points) ---------------------------------------------
TECH_STAFF_BANDS = [
    # tech_staff, total_staff, points
    (30, 100, 20),
    (29, 100, 16),
    (3, 10, 20),
    (150, 500, 20),
    (149, 500, 16),
    (100, 100, 20),
    (25, 100, 16),
    (24, 100, 12),
    (1, 4, 16),
    (125, 500, 16),
    (124, 500, 12),
    (20, 100, 12),
    (19, 100, 8),
    (1, 5, 12),
    (15, 100, 8),
    (14, 100, 4),
    (3, 20, 8),
    (75, 500, 8),
    (74, 500, 4),
    (10, 100, 4),
    (9, 100, 0),
    (1, 10, 4),
    (50, 500, 4),
    (49, 500, 0),
    (0, 100, 0),
    (0, 0, 0),
]


@pytest.mark.parametrize(("tech_staff", "total_staff", "points"), TECH_STAFF_BANDS)
def test_tech_staff_ratio_scores_by_band_with_inclusive_lower_edges(
    tech_staff, total_staff, points
):
    ev = evaluate_both(NATIONAL, enterprise(tech_staff=tech_staff, total_staff=total_staff))
    assert _points(ev, "tech_staff") == points


# -- R&D / sales revenue (the better of two ratios, 50 points) -------------------------------
# Revenue 100,000,000.00 yuan; total costs 100,000,000.00 keeps R&D / costs below 10% (0 points).
RD_REVENUE_BANDS = [
    # rd_expense (yuan), points
    ("6000000.00", 50),
    ("5999999.99", 40),
    ("5000000.00", 40),
    ("4999999.99", 30),
    ("4000000.00", 30),
    ("3999999.99", 20),
    ("3000000.00", 20),
    ("2999999.99", 10),
    ("2000000.00", 10),
    ("1999999.99", 0),
    ("0", 0),
    ("100000000.00", 50),
]


@pytest.mark.parametrize(("rd_expense", "points"), RD_REVENUE_BANDS)
def test_rd_to_revenue_scores_by_band_with_inclusive_lower_edges(rd_expense, points):
    firm = enterprise(revenue="100000000.00", total_costs="1000000000.00", rd_expense=rd_expense)
    ev = evaluate_both(NATIONAL, firm)
    assert _points(ev, "rd_input") == points


@pytest.mark.parametrize(
    ("revenue", "rd_expense", "points"),
    [
        # 3 of 50 is exactly 6%; amounts with fen
        ("50.00", "3.00", 50),
        ("50.00", "2.99", 40),
        ("0.50", "0.03", 50),
        ("0.50", "0.02", 30),
        ("33333333.33", "2000000.00", 50),  # 6.0000000006%
        ("33333333.33", "1999999.99", 40),  # 5.9999999706%
        ("12345678.91", "740740.74", 50),  # 6.0000000437%
        ("12345678.91", "740740.73", 40),  # 5.9999999627%
    ],
)
def test_rd_to_revenue_edges_hold_exactly_for_amounts_with_fen(revenue, rd_expense, points):
    ev = evaluate_both(NATIONAL, enterprise(revenue=revenue, rd_expense=rd_expense))
    assert _points(ev, "rd_input") == points


# -- R&D / total costs and expenses ----------------------------------------------------------
# Total costs 10,000,000.00 yuan; revenue 200,000,000.00 keeps R&D / revenue below 2% (0 points).
RD_COSTS_BANDS = [
    ("3000000.00", 50),
    ("2999999.99", 40),
    ("2500000.00", 40),
    ("2499999.99", 30),
    ("2000000.00", 30),
    ("1999999.99", 20),
    ("1500000.00", 20),
    ("1499999.99", 10),
    ("1000000.00", 10),
    ("999999.99", 0),
    ("0", 0),
]


@pytest.mark.parametrize(("rd_expense", "points"), RD_COSTS_BANDS)
def test_rd_to_total_costs_scores_by_band_with_inclusive_lower_edges(rd_expense, points):
    firm = enterprise(revenue="200000000.00", total_costs="10000000.00", rd_expense=rd_expense)
    ev = evaluate_both(NATIONAL, firm)
    assert _points(ev, "rd_input") == points


@pytest.mark.parametrize(
    ("revenue", "total_costs", "rd_expense", "points", "scored_by"),
    [
        # 4% of revenue (30) vs 25% of costs (40): costs win
        ("25000000", "4000000", "1000000", 40, "rd_cost_ratio"),
        # 6% of revenue (50) vs 10% of costs (10): revenue wins
        ("10000000", "6000000", "600000", 50, "rd_revenue_ratio"),
        # both 5% / 25%: 40 either way
        ("20000000", "4000000", "1000000", 40, None),
        # both below their lowest edge
        ("100000000", "100000000", "1999999.99", 0, None),
    ],
)
def test_rd_input_takes_the_better_of_the_two_ratios(
    revenue, total_costs, rd_expense, points, scored_by
):
    firm = enterprise(revenue=revenue, total_costs=total_costs, rd_expense=rd_expense)
    ev = evaluate_both(NATIONAL, firm)
    assert _points(ev, "rd_input") == points
    if scored_by is not None:
        assert _indicator(ev, "rd_input").input == scored_by


@pytest.mark.parametrize(
    ("revenue", "total_costs", "rd_expense", "points"),
    [
        ("0", "4000000", "1000000", 40),  # no revenue: R&D / revenue scores 0, costs still count
        ("0", "0", "1000000", 0),  # both denominators zero: 0
        ("0", "0", "0", 0),
        ("10000000", "0", "600000", 50),  # no costs: the revenue ratio still counts
    ],
)
def test_a_ratio_with_a_zero_denominator_scores_zero_for_that_ratio(
    revenue, total_costs, rd_expense, points
):
    firm = enterprise(revenue=revenue, total_costs=total_costs, rd_expense=rd_expense)
    ev = evaluate_both(NATIONAL, firm)
    assert _points(ev, "rd_input") == points


def test_no_staff_scores_zero_for_technology_staff_and_cannot_qualify_by_score():
    firm = enterprise(
        total_staff=0, tech_staff=0, revenue="10000000", rd_expense="600000", ip_invention=1
    )
    ev = evaluate_both(NATIONAL, firm)
    assert _points(ev, "tech_staff") == 0
    assert _indicator(ev, "tech_staff").value is None  # undefined, not 0%
    assert ev.score == 80
    assert not ev.eligible
    assert ev.failed_requirements == ("tech_staff_score_nonzero",)


# -- intellectual property ladder (30 points) ------------------------------------------------
IP_LADDER = [
    # invention, ic_layout, other_class1, utility_model, design, software_copyright, points
    (1, 0, 0, 0, 0, 0, 30),
    (0, 1, 0, 0, 0, 0, 30),  # an IC layout design is class I
    (0, 0, 1, 0, 0, 0, 30),  # plant variety, new drug, ... (ip_other_class1) is class I
    (1, 0, 0, 50, 50, 50, 30),
    (0, 0, 0, 4, 0, 0, 24),
    (0, 0, 0, 0, 4, 0, 24),
    (0, 0, 0, 0, 0, 4, 24),
    (0, 0, 0, 2, 1, 1, 24),
    (0, 0, 0, 100, 0, 0, 24),
    (0, 0, 0, 3, 0, 0, 18),
    (0, 0, 0, 1, 1, 1, 18),
    (0, 0, 0, 2, 0, 0, 12),
    (0, 0, 0, 0, 1, 1, 12),
    (0, 0, 0, 1, 0, 0, 6),
    (0, 0, 0, 0, 1, 0, 6),
    (0, 0, 0, 0, 0, 1, 6),
    (0, 0, 0, 0, 0, 0, 0),
]


@pytest.mark.parametrize(
    ("invention", "ic_layout", "other_class1", "utility", "design", "software", "points"),
    IP_LADDER,
)
def test_ip_ladder_one_class_one_item_beats_any_number_of_class_two(
    invention, ic_layout, other_class1, utility, design, software, points
):
    firm = enterprise(
        ip_invention=invention,
        ip_ic_layout=ic_layout,
        ip_other_class1=other_class1,
        ip_utility_model=utility,
        ip_design=design,
        ip_software_copyright=software,
    )
    ev = evaluate_both(NATIONAL, firm)
    assert _points(ev, "ip") == points


def test_trademarks_are_not_intellectual_property_for_the_score():
    assert not any("trademark" in name for name in BY_NAME)
    assert not any("trademark" in name for name in NATIONAL.compiled.fields_used)
    ev = evaluate_both(NATIONAL, enterprise(trademarks=25, 商标=25))
    assert _points(ev, "ip") == 0


# -- the score condition ---------------------------------------------------------------------
def test_a_score_of_exactly_sixty_qualifies():
    # technology staff 30% (20) + R&D 5% of revenue (40) + no IP (0) = 60
    firm = enterprise(tech_staff=30, revenue="10000000", rd_expense="500000")
    ev = evaluate_both(NATIONAL, firm)
    assert ev.score == 60
    assert ev.eligible
    assert ev.qualified_by == "score"


def test_a_score_of_fifty_eight_the_highest_below_sixty_does_not_qualify():
    # technology staff 25% (16) + R&D 4% of revenue (30) + 2 class-II items (12) = 58
    firm = enterprise(tech_staff=25, revenue="10000000", rd_expense="400000", ip_design=2)
    ev = evaluate_both(NATIONAL, firm)
    assert ev.score == 58
    assert not ev.eligible
    assert ev.qualified_by == ""


def test_every_national_score_is_even_so_fifty_nine_cannot_occur():
    """59 is unreachable in the national table; 59-vs-60 is tested on an inline policy."""
    tech = (0, 4, 8, 12, 16, 20)
    rd = (0, 10, 20, 30, 40, 50)
    ip = (0, 6, 12, 18, 24, 30)
    scores = {sum(p) for p in itertools.product(tech, rd, ip)}
    assert 59 not in scores
    assert max(s for s in scores if s < 60) == 58


def test_a_zero_technology_staff_score_does_not_qualify_by_score_even_at_eighty():
    # technology staff 9% (0) + R&D 6% (50) + a patent (30) = 80
    firm = enterprise(tech_staff=9, revenue="10000000", rd_expense="600000", ip_invention=1)
    ev = evaluate_both(NATIONAL, firm)
    assert ev.score == 80
    assert not ev.eligible
    assert ev.failed_requirements == ("tech_staff_score_nonzero",)


def test_a_tech_staff_score_of_four_is_enough_with_sixty_points():
    # technology staff 10% (4) + R&D 6% (50) + 1 class-II item (6) = 60
    firm = enterprise(
        tech_staff=10, revenue="10000000", rd_expense="600000", ip_software_copyright=1
    )
    ev = evaluate_both(NATIONAL, firm)
    assert (ev.score, ev.eligible, ev.qualified_by) == (60, True, "score")


# -- direct routes ---------------------------------------------------------------------------
ROUTES = [
    ("high_tech_certified", "high_tech_enterprise"),
    ("national_sci_award_5y", "national_sci_award"),
    ("provincial_rd_center", "provincial_rd_institution"),
    ("led_standard_5y", "led_standard"),
]


@pytest.mark.parametrize(("flag", "route"), ROUTES)
def test_each_direct_route_qualifies_a_firm_that_scores_nothing(flag, route):
    ev = evaluate_both(NATIONAL, enterprise(**{flag: True}))
    assert ev.score == 0
    assert ev.eligible
    assert ev.qualified_by == route
    assert ev.routes == (route,)


@pytest.mark.parametrize(("flag", "route"), ROUTES)
def test_a_direct_route_replaces_the_tech_staff_requirement_too(flag, route):
    firm = enterprise(revenue="10000000", rd_expense="600000", ip_invention=1, **{flag: True})
    ev = evaluate_both(NATIONAL, firm)
    assert ev.failed_requirements == ("tech_staff_score_nonzero",)
    assert (ev.eligible, ev.qualified_by) == (True, route)


def test_a_qualifying_score_is_reported_before_a_route():
    firm = enterprise(
        tech_staff=30, revenue="10000000", rd_expense="600000", high_tech_certified=True
    )
    ev = evaluate_both(NATIONAL, firm)
    assert (ev.eligible, ev.qualified_by) == (True, "score")


def test_with_several_routes_the_first_listed_is_reported():
    firm = enterprise(led_standard_5y=True, provincial_rd_center=True)
    ev = evaluate_both(NATIONAL, firm)
    assert ev.qualified_by == "provincial_rd_institution"
    assert ev.routes == ("provincial_rd_institution", "led_standard")


BASIC_FAILURES = [
    # changes, the basic condition it fails
    ({"total_staff": 501}, "staff_at_most_500"),
    ({"revenue": "200000000.01"}, "revenue_at_most_200m"),
    ({"total_assets": "200000000.01"}, "assets_at_most_200m"),
    ({"major_incident": True}, "no_major_incident"),
    ({"abnormal_operation": True}, "not_abnormal_operation"),
    ({"serious_dishonesty": "是"}, "not_seriously_dishonest"),
]


@pytest.mark.parametrize(("flag", "route"), ROUTES)
@pytest.mark.parametrize(("changes", "condition"), BASIC_FAILURES)
def test_a_direct_route_never_replaces_a_basic_condition(flag, route, changes, condition):
    ev = evaluate_both(NATIONAL, enterprise(**{flag: True, **changes}))
    assert not ev.eligible
    assert ev.knocked_out_by == (condition,)
    assert ev.qualified_by == ""
    assert route in ev.routes  # the route held, but a basic condition failed


@pytest.mark.parametrize(("changes", "condition"), BASIC_FAILURES)
def test_a_full_score_never_replaces_a_basic_condition(changes, condition):
    best = {
        "total_staff": 400,
        "tech_staff": 200,
        "total_costs": "2000000",
        "rd_expense": "600000",  # 30% of costs: 50 points whatever the revenue
        "ip_invention": 1,
    }
    ev = evaluate_both(NATIONAL, enterprise(**{**best, **changes}))
    assert ev.score == 100
    assert not ev.eligible
    assert ev.knocked_out_by == (condition,)


BASIC_BOUNDARIES = [
    # changes, passes every basic condition
    ({"total_staff": 500}, True),
    ({"total_staff": 501}, False),
    ({"revenue": "200000000.00"}, True),
    ({"revenue": "200000000"}, True),
    ({"revenue": "200000000.01"}, False),
    ({"revenue": "199999999.99"}, True),
    ({"total_assets": "200000000.00"}, True),
    ({"total_assets": "200000000.01"}, False),
    ({"total_assets": "0"}, True),
]


@pytest.mark.parametrize(("changes", "passes"), BASIC_BOUNDARIES)
def test_basic_condition_boundaries_are_inclusive(changes, passes):
    ev = evaluate_both(NATIONAL, enterprise(high_tech_certified=True, **changes))
    assert ev.eligible is passes
    assert (ev.knocked_out_by == ()) is passes


def test_every_failed_basic_condition_is_reported():
    firm = enterprise(total_staff=501, total_assets="300000000", abnormal_operation=True)
    ev = evaluate_both(NATIONAL, firm)
    assert ev.knocked_out_by == (
        "staff_at_most_500",
        "assets_at_most_200m",
        "not_abnormal_operation",
    )


def test_a_qualify_policy_sets_no_grade_and_no_credit_limit():
    ev = evaluate_both(NATIONAL, enterprise(high_tech_certified=True))
    assert ev.grade is None
    assert ev.credit_limit is None


def _indicator(ev, indicator_id):
    return next(i for i in ev.indicators if i.id == indicator_id)


def _points(ev, indicator_id) -> Decimal:
    return _indicator(ev, indicator_id).points
