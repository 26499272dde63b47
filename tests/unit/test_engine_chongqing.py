"""The default Chongqing knowledge-value credit policy (chongqing-kvc): grades, limits, uplifts,
knock-outs, the innovation requirement, the bonus cap, explanations and suggestions.

Scores are built by hand from the policy's weights (innovation: IP 0.30, R&D intensity 0.20,
R&D amount 0.10; operating: revenue 0.10, growth 0.08, tax 0.07, credit record 0.05; bonus points
capped at 10). Every case is evaluated on both paths by the ``evaluate_both`` fixture.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_support import CHONGQING, NATIONAL, enterprise, evaluate_both

from kvcredit.scoring import evaluate_one
from kvcredit.scoring.fields import BY_NAME, Kind

# Innovation blocks (points after weight) and the changes that produce them.
IP_30 = {"ip_invention": 5}  # 100 x 0.30
IP_21 = {"ip_invention": 1}  # 70 x 0.30
IP_7_5 = {"ip_design": 2}  # 25 x 0.30
IP_3 = {"ip_utility_model": 1}  # 10 x 0.30
RD_30_OF_10M = {"rd_expense": "10000000", "total_costs": "30000000"}  # 20 + 10
RD_22 = {"rd_expense": "300000", "total_costs": "1000000"}  # 30% of costs: 20, amount: 2
RD_10 = {"rd_expense": "300000", "total_costs": "3000000"}  # 10% of costs: 8, amount: 2
TAX_1_75 = {"tax_paid": "50000"}  # 25 x 0.07
TAX_3_5 = {"tax_paid": "300000"}  # 50 x 0.07
TAX_5_25 = {"tax_paid": "1000000"}  # 75 x 0.07
TAX_7 = {"tax_paid": "2000000"}  # 100 x 0.07
REVENUE_4_FLAT = {"revenue": "5000000", "revenue_prev": "5000000"}  # 40 x 0.10 + growth 0%: 2
# Bonus points (the credit record, no default in three years, always adds 5).
BONUS_10 = {
    "specialized_sme": True,  # 3
    "national_sci_award_5y": True,  # 3
    "provincial_rd_center": True,  # 2
    "doctorate_staff": 3,  # 2
}
BONUS_9 = {**BONUS_10, "doctorate_staff": 1}
BONUS_7 = {"specialized_sme": True, "national_sci_award_5y": True, "doctorate_staff": 1}
BONUS_6 = {"specialized_sme": True, "national_sci_award_5y": True}
BONUS_5 = {"specialized_sme": True, "doctorate_staff": 3}
BONUS_4 = {"specialized_sme": True, "doctorate_staff": 1}
BONUS_2 = {"doctorate_staff": 3}

GRADE_A = {**IP_30, **RD_30_OF_10M, **REVENUE_4_FLAT, **BONUS_9}  # 30+30+4+2+5+9 = 80
GRADE_B = {**IP_30, **RD_22, **TAX_7, **BONUS_4}  # 30+22+7+5+4 = 68
GRADE_C = {**IP_21, **RD_22, **BONUS_7}  # 21+22+5+7 = 55
GRADE_D = {**IP_7_5, **RD_22, **TAX_3_5, **BONUS_4}  # 7.5+22+3.5+5+4 = 42
GRADE_E = {**IP_3, **RD_10, **TAX_7, **BONUS_5}  # 3+10+7+5+5 = 30
BELOW_E = {**IP_3, **RD_10, **TAX_1_75, **BONUS_10}  # 3+10+1.75+5+10 = 29.75

GRADE_EDGES = [
    # changes, score, grade, credit limit (yuan)
    (GRADE_A, "80", "A", "5000000.00"),
    (
        {**IP_30, **RD_30_OF_10M, **REVENUE_4_FLAT, **TAX_1_75, **BONUS_7},
        "79.75",
        "B",
        "4000000.00",
    ),
    ({**IP_30, **RD_30_OF_10M, **REVENUE_4_FLAT, **BONUS_7}, "78", "B", "4000000.00"),
    (GRADE_B, "68", "B", "4000000.00"),
    ({**IP_30, **RD_22, **TAX_1_75, **BONUS_9}, "67.75", "C", "3000000.00"),
    (GRADE_C, "55", "C", "3000000.00"),
    ({**IP_21, **RD_22, **TAX_1_75, **BONUS_5}, "54.75", "D", "1600000.00"),
    (GRADE_D, "42", "D", "1600000.00"),
    ({**IP_7_5, **RD_22, **TAX_5_25, **BONUS_2}, "41.75", "E", "800000.00"),
    (GRADE_E, "30", "E", "800000.00"),
    (BELOW_E, "29.75", None, "0.00"),
    ({**IP_3, **RD_10, **TAX_5_25, **BONUS_6}, "29.25", None, "0.00"),
]


@pytest.mark.parametrize(("changes", "score", "grade", "limit"), GRADE_EDGES)
def test_a_score_exactly_on_a_grade_edge_gets_that_grade(changes, score, grade, limit):
    ev = evaluate_both(CHONGQING, enterprise(**changes))
    assert ev.score == Decimal(score)
    assert ev.grade == grade
    assert ev.credit_limit == Decimal(limit)
    assert ev.eligible is (grade is not None)
    assert ev.qualified_by == ("score" if grade else "")


def test_the_grades_and_limits_are_the_published_2023_ones():
    grades = [(g.grade, g.credit_limit) for g in CHONGQING.doc.outcome.grades]
    assert grades == [
        ("A", 5_000_000),
        ("B", 4_000_000),
        ("C", 3_000_000),
        ("D", 1_600_000),
        ("E", 800_000),
    ]


def test_the_policy_header_says_the_weights_are_ours():
    header = CHONGQING.doc.policy
    assert "not an official" in header.authority
    assert "OWN" in header.notes


# -- uplifts ---------------------------------------------------------------------------------
UPLIFTS = [
    # scored grade changes, uplift flags, grade after uplift, uplifts that applied
    (GRADE_B, {"high_tech_certified": True}, "A", ("high_tech_enterprise",)),
    (GRADE_B, {"high_growth": True}, "A", ("high_growth",)),
    (GRADE_C, {"high_tech_certified": True}, "B", ("high_tech_enterprise",)),
    (GRADE_D, {"high_growth": True}, "C", ("high_growth",)),
    (GRADE_E, {"high_tech_certified": True}, "D", ("high_tech_enterprise",)),
    # both uplifts: still one step at most
    (
        GRADE_C,
        {"high_tech_certified": True, "high_growth": True},
        "B",
        ("high_tech_enterprise", "high_growth"),
    ),
    # never above A
    (GRADE_A, {"high_tech_certified": True, "high_growth": True}, "A", None),
    # an uplift raises a grade; it does not give one
    (BELOW_E, {"high_tech_certified": True, "high_growth": True}, None, ()),
]


@pytest.mark.parametrize(("changes", "flags", "grade", "uplifts"), UPLIFTS)
def test_high_tech_certificate_or_high_growth_raises_the_grade_by_one_step_at_most(
    changes, flags, grade, uplifts
):
    ev = evaluate_both(CHONGQING, enterprise(**changes, **flags))
    assert ev.grade == grade
    if uplifts is not None:
        assert ev.uplifts == uplifts
    limits = {"A": 5_000_000, "B": 4_000_000, "C": 3_000_000, "D": 1_600_000, "E": 800_000}
    assert ev.credit_limit == limits.get(grade, 0)


# -- knock-outs ------------------------------------------------------------------------------
KNOCK_OUTS = [
    ({"abnormal_operation": True}, ("not_abnormal_operation",)),
    ({"serious_dishonesty": True}, ("not_seriously_dishonest",)),
    ({"major_incident": True}, ("no_major_incident",)),
    ({"district": "成都市武侯区"}, ("participating_district",)),
    ({"district": "500112"}, ("participating_district",)),  # a code is not a listed name
    (
        {"abnormal_operation": True, "district": "北京市海淀区"},
        ("not_abnormal_operation", "participating_district"),
    ),
]


@pytest.mark.parametrize(("changes", "knocked_out_by"), KNOCK_OUTS)
def test_a_knock_out_makes_even_a_grade_a_firm_ineligible(changes, knocked_out_by):
    firm = enterprise(**GRADE_A, high_tech_certified=True, **changes)
    ev = evaluate_both(CHONGQING, firm)
    assert ev.score == 80
    assert not ev.eligible
    assert ev.grade is None
    assert ev.credit_limit == 0
    assert ev.knocked_out_by == knocked_out_by
    assert ev.qualified_by == ""
    assert ev.suggestions == ()  # nothing short of the condition helps


@pytest.mark.parametrize(
    "district", ["渝中区", "两江新区", "重庆高新区", "万盛经开区", "酉阳土家族苗族自治县"]
)
def test_participating_districts_and_development_zones_are_eligible(district):
    ev = evaluate_both(CHONGQING, enterprise(**GRADE_C, district=district))
    assert (ev.eligible, ev.grade) == (True, "C")


# -- the innovation requirement --------------------------------------------------------------
NO_INNOVATION = {
    "revenue": "50000000",  # 10
    "revenue_prev": "10000000",  # growth 400%: 8
    "tax_paid": "2000000",  # 7
    **BONUS_10,  # 10, plus 5 for the credit record: 40 in all
}


def test_a_firm_without_innovation_points_gets_no_grade_whatever_its_score():
    ev = evaluate_both(CHONGQING, enterprise(**NO_INNOVATION, high_tech_certified=True))
    assert ev.score == 40
    assert ev.groups["innovation"] == 0
    assert ev.failed_requirements == ("innovation_score_nonzero",)
    assert (ev.eligible, ev.grade, ev.credit_limit) == (False, None, 0)


def test_one_utility_model_is_enough_innovation():
    ev = evaluate_both(CHONGQING, enterprise(**NO_INNOVATION, ip_utility_model=1))
    assert ev.score == 43
    assert ev.failed_requirements == ()
    assert ev.grade == "D"


# -- bonus cap -------------------------------------------------------------------------------
def test_bonus_points_are_capped_at_ten():
    all_bonuses = {
        **BONUS_10,  # 3 + 3 + 2 + 2
        "new_products": 3,  # 2
        "tech_staff": 50,  # 50% of staff: 4
    }
    ev = evaluate_both(CHONGQING, enterprise(**IP_30, **RD_30_OF_10M, **all_bonuses))
    points = {i.id: i.points for i in ev.indicators}
    assert points["tech_talent"] == 4
    assert points["innovative_products"] == 2
    assert ev.groups["bonus"] == 10
    assert ev.score == 30 + 30 + 5 + 10


@pytest.mark.parametrize(
    ("changes", "bonus"),
    [
        ({**BONUS_10, "new_products": 1}, 10),  # 11 capped
        (BONUS_9, 9),
        ({"led_standard_5y": True}, 2),
        ({"led_standard_5y": True, "national_sci_award_5y": True}, 3),  # the ladder's best rung
        ({"tech_staff": 30}, 2),
        ({"tech_staff": 29}, 0),
    ],
)
def test_bonus_group_adds_points_up_to_the_cap(changes, bonus):
    ev = evaluate_both(CHONGQING, enterprise(**IP_3, **changes))
    assert ev.groups["bonus"] == bonus
    assert ev.score == 3 + 5 + bonus


# -- explanations ----------------------------------------------------------------------------
def test_the_explanation_gives_each_indicators_value_band_and_points():
    firm = enterprise(**IP_30, **RD_22, **BONUS_5, tax_paid="299999.99")
    ev = evaluate_both(CHONGQING, firm)
    by_id = {i.id: i for i in ev.indicators}
    rd = by_id["rd_intensity"]
    assert (rd.input, rd.value, rd.band_from) == ("rd_cost_ratio", Decimal("0.3"), Decimal("0.3"))
    assert (rd.points, rd.weighted) == (100, 20)
    amount = by_id["rd_amount"]
    assert (amount.input, amount.value, amount.band_from) == ("rd_expense", 300000, 300000)
    assert (amount.points, amount.weighted) == (20, 2)
    tax = by_id["tax"]
    assert (tax.value, tax.band_from, tax.points) == (Decimal("299999.99"), 50000, 25)
    assert tax.weighted == Decimal("1.75")
    ip = by_id["ip"]
    assert (ip.rung, ip.points, ip.weighted) == (0, 100, 30)
    growth = by_id["revenue_growth"]
    assert (growth.value, growth.band_from, growth.points) == (None, None, 0)  # no revenue_prev
    assert ev.groups == {"innovation": 52, "bonus": 5, "operating": Decimal("6.75")}
    assert ev.score == sum(ev.groups.values())


def test_the_explanation_names_the_knock_out_and_the_route():
    ev = evaluate_both(NATIONAL, enterprise(high_tech_certified=True, total_staff=501))
    assert ev.knocked_out_by == ("staff_at_most_500",)
    ev = evaluate_both(NATIONAL, enterprise(high_tech_certified=True))
    assert ev.qualified_by == "high_tech_enterprise"


def test_an_evaluation_records_the_policy_and_is_serialisable():
    data = evaluate_one(CHONGQING, enterprise(**GRADE_C)).to_dict()
    assert data["policy_id"] == "chongqing-kvc"
    assert data["policy_version"] == CHONGQING.version
    assert data["policy_hash"] == CHONGQING.content_hash
    assert data["score"] == "55"
    assert data["credit_limit"] == "3000000.00"


# -- suggestions -----------------------------------------------------------------------------
RANK = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4, None: 5}

SUGGESTION_CASES = [
    GRADE_B,
    GRADE_C,
    GRADE_D,
    GRADE_E,
    BELOW_E,
    {**GRADE_E, "revenue": "1000"},
    {**BELOW_E, "revenue": "1000"},
    {**IP_3, "revenue": "999999.99", "revenue_prev": "869565.21"},
    {**IP_21, "rd_expense": "299999.99", "total_costs": "1000000", "tax_paid": "49999.99"},
    {**IP_21, "rd_expense": "99999.99", "revenue": "1000000", "tech_staff": 29},
    NO_INNOVATION,
]


@pytest.mark.parametrize("changes", SUGGESTION_CASES)
def test_each_suggestion_raises_the_grade_and_one_unit_less_does_not(changes):
    firm = enterprise(**changes)
    ev = evaluate_one(CHONGQING, firm)
    assert ev.suggestions, "a firm below A should be told how to rise"
    for s in ev.suggestions:
        raised = evaluate_one(CHONGQING, _raise(firm, s.field, s.increase), explain=False)
        assert RANK[raised.grade] < RANK[ev.grade], s
        assert raised.grade == s.new_grade
        unit = Decimal("0.01") if BY_NAME[s.field].kind is Kind.MONEY else Decimal(1)
        less = evaluate_one(CHONGQING, _raise(firm, s.field, s.increase - unit), explain=False)
        assert RANK[less.grade] >= RANK[ev.grade], f"{s} is not the smallest change"


def test_suggestions_list_every_single_field_change_that_lifts_d_to_c():
    # 54.75 (D): 21 (1 patent) + 20 + 2 (R&D 300,000 = 30% of costs) + 1.75 (tax) + 5 + 5
    firm = enterprise(**IP_21, **RD_22, **TAX_1_75, **BONUS_5)
    ev = evaluate_one(CHONGQING, firm)
    assert (ev.score, ev.grade) == (Decimal("54.75"), "D")
    got = {(s.field, s.current, s.increase, s.new_grade, s.reason) for s in ev.suggestions}
    assert got == {
        ("high_growth", 0, 1, "C", "high_growth"),  # uplift one grade
        ("high_tech_certified", 0, 1, "C", "high_tech_enterprise"),
        ("led_standard_5y", 0, 1, "C", "awards_standards"),  # +2 bonus
        ("national_sci_award_5y", 0, 1, "C", "awards_standards"),  # +3 bonus
        ("new_products", 0, 1, "C", "innovative_products"),  # +1 bonus
        ("provincial_rd_center", 0, 1, "C", "rd_institution"),  # +2 bonus
        ("ip_invention", 1, 2, "C", "ip"),  # 3 class I: 85 x 0.30 = 25.5, +4.5
        ("ip_ic_layout", 0, 2, "C", "ip"),
        ("ip_other_class1", 0, 2, "C", "ip"),
        ("rd_expense", 300000, 700000, "C", "rd_amount"),  # 1,000,000: 40 x 0.10, +2
        ("tax_paid", 50000, 250000, "C", "tax"),  # 300,000: 50 x 0.07, +1.75
        ("tech_staff", 0, 30, "C", "tech_talent"),  # 30% of staff: +2 bonus
        ("revenue", 0, 1000000, "C", "revenue"),  # 1,000,000: 20 x 0.10, +2
    }
    ranked = [s.increase / max(s.current, Decimal(1)) for s in ev.suggestions]
    assert ranked == sorted(ranked)  # smallest relative change first


def test_a_grade_a_firm_gets_no_suggestions():
    assert evaluate_one(CHONGQING, enterprise(**GRADE_A)).suggestions == ()


@pytest.mark.parametrize(
    "changes",
    [
        {"tech_staff": 25, "revenue": "10000000", "rd_expense": "400000", "ip_design": 2},  # 58
        {"tech_staff": 9, "revenue": "10000000", "rd_expense": "600000", "ip_invention": 1},
        {"tech_staff": 30, "revenue": "10000000", "rd_expense": "399999.99"},
    ],
)
def test_national_suggestions_make_the_firm_qualify_and_are_minimal(changes):
    firm = enterprise(**changes)
    ev = evaluate_one(NATIONAL, firm)
    assert not ev.eligible
    assert ev.suggestions
    for s in ev.suggestions:
        assert evaluate_one(NATIONAL, _raise(firm, s.field, s.increase)).eligible, s
        unit = Decimal("0.01") if BY_NAME[s.field].kind is Kind.MONEY else Decimal(1)
        assert not evaluate_one(NATIONAL, _raise(firm, s.field, s.increase - unit)).eligible, s


def _raise(firm: dict, field: str, increase: Decimal) -> dict:
    return {**firm, field: str(Decimal(str(firm.get(field, 0) or 0)) + increase)}
