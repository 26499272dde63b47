"""Property tests (hypothesis) of the engine under both shipped policies.

* More intellectual property, or more R&D expense, never lowers the score (others held fixed),
  nor the eligibility or the grade.
* The vectorised path equals the per-row path field by field on generated enterprises, many of
  them built exactly on a band edge (or one fen / one person / one item either side).
* Every suggestion, applied alone, raises the grade, and one unit (fen, person, item) less
  does not.

Records are drawn in internal units (fen, counts, 0/1 flags), as the readers produce them.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from engine_support import (
    SHIPPED,
    assert_columns_equal,
    frame_of,
    make_uscc,
    per_row_columns,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvcredit.scoring import evaluate_frame
from kvcredit.scoring.engine import evaluate_record
from kvcredit.scoring.fields import BY_NAME, MAX_MONEY_FEN, Kind

# Band edges of both shipped policies (ratios), and the money edges (yuan) they compare with.
STAFF_EDGES = tuple(Fraction(x) for x in ("0.50", "0.30", "0.25", "0.20", "0.15", "0.10"))
RD_EDGES = tuple(
    Fraction(x)
    for x in (
        "0.30",
        "0.25",
        "0.20",
        "0.15",
        "0.10",
        "0.06",
        "0.05",
        "0.04",
        "0.03",
        "0.02",
        "0.01",
    )
)
GROWTH_EDGES = tuple(Fraction(x) for x in ("0.30", "0.15", "0.05", "0", "-0.10"))
MONEY_EDGES_YUAN = (
    0,
    50_000,
    300_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    200_000_000,
)
DISTRICTS = ("渝北区", "两江新区", "重庆高新区", "万州区", "渝中区", "江北区", "成都市武侯区", "")
IP_FIELDS = (
    "ip_invention",
    "ip_utility_model",
    "ip_design",
    "ip_software_copyright",
    "ip_ic_layout",
    "ip_other_class1",
)
FLAGS = tuple(f.name for f in BY_NAME.values() if f.kind is Kind.FLAG)

near = st.sampled_from((0, 0, 0, -1, 1))  # on the edge, or one unit either side


def money() -> st.SearchStrategy[int]:
    """Fen: on a money edge (give or take a fen), small, typical, or up to the maximum."""
    on_edge = st.builds(lambda y, d: max(0, y * 100 + d), st.sampled_from(MONEY_EDGES_YUAN), near)
    return st.one_of(
        on_edge,
        st.integers(0, 10_000),
        st.integers(0, 10**11),
        st.integers(0, MAX_MONEY_FEN),
    )


@st.composite
def enterprises(draw: st.DrawFn) -> dict[str, int | str]:
    rec: dict[str, int | str] = {f.name: 0 for f in BY_NAME.values() if f.kind is not Kind.TEXT}
    rec.update(uscc=make_uscc(), name="测试企业", district=draw(st.sampled_from(DISTRICTS)))
    rec["industry"] = ""
    # staff: a multiple of 20 puts every staff edge on a whole person
    if draw(st.booleans()):
        total = 20 * draw(st.integers(1, 26))
        tech = int(total * draw(st.sampled_from(STAFF_EDGES))) + draw(near)
    else:
        total = draw(st.one_of(st.integers(0, 600), st.sampled_from((0, 1, 500, 501))))
        tech = draw(st.integers(0, total))
    rec["total_staff"], rec["tech_staff"] = total, min(max(tech, 0), total)
    # revenue, costs and R&D: free, or R&D on an edge of revenue or of costs, or growth on an edge
    mode = draw(st.sampled_from(("free", "rd_revenue", "rd_costs", "growth")))
    rec["revenue"], rec["total_costs"], rec["rd_expense"] = draw(money()), draw(money()), 0
    rec["revenue_prev"] = draw(money())
    if mode in ("rd_revenue", "rd_costs"):
        base = 100 * draw(st.integers(0, 10**9))
        rec["revenue" if mode == "rd_revenue" else "total_costs"] = base
        rd = base * draw(st.sampled_from(RD_EDGES))
        assert rd.denominator == 1
        rec["rd_expense"] = max(0, int(rd) + draw(near))
    else:
        rec["rd_expense"] = draw(money())
    if mode == "growth":
        prev = 100 * draw(st.integers(1, 10**9))
        revenue = prev * (1 + draw(st.sampled_from(GROWTH_EDGES)))
        assert revenue.denominator == 1
        rec["revenue_prev"], rec["revenue"] = prev, max(0, int(revenue) + draw(near))
    rec["total_assets"], rec["tax_paid"] = draw(money()), draw(money())
    counts = st.one_of(st.integers(0, 5), st.sampled_from((0, 9, 10, 11)), st.integers(0, 10**4))
    for name in (*IP_FIELDS, "doctorate_staff", "new_products"):
        rec[name] = draw(counts)
    for name in FLAGS:
        rare = name in ("abnormal_operation", "serious_dishonesty", "major_incident")
        rec[name] = draw(st.sampled_from((0,) * (9 if rare else 2) + (1,)))
    return rec


PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: p.id)
@PROPERTY_SETTINGS
@given(rec=enterprises(), field=st.sampled_from(IP_FIELDS), more=st.integers(1, 50))
def test_more_intellectual_property_never_lowers_the_score(policy, rec, field, more):
    before = evaluate_record(policy, rec, explain=False)
    after = evaluate_record(policy, {**rec, field: int(rec[field]) + more}, explain=False)
    _assert_not_worse(policy, before, after)


@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: p.id)
@PROPERTY_SETTINGS
@given(
    rec=enterprises(),
    more=st.one_of(st.integers(1, 100), st.integers(1, 10**12), st.sampled_from((1, 100))),
)
def test_more_rd_expense_never_lowers_the_score(policy, rec, more):
    before = evaluate_record(policy, rec, explain=False)
    after = evaluate_record(
        policy, {**rec, "rd_expense": int(rec["rd_expense"]) + more}, explain=False
    )
    _assert_not_worse(policy, before, after)


def _assert_not_worse(policy, before, after) -> None:
    assert after.score >= before.score
    assert after.eligible or not before.eligible
    if policy.is_graded and before.grade is not None:
        names = policy.compiled.grade_names
        assert after.grade is not None
        assert names.index(after.grade) <= names.index(before.grade)


@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: p.id)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(enterprises(), min_size=1, max_size=20))
def test_the_vectorised_path_equals_the_per_row_path(policy, records):
    frame = evaluate_frame(policy, frame_of(records), explain=True)
    assert_columns_equal(per_row_columns(policy, records), frame, records)


@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: p.id)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rec=enterprises())
def test_every_suggestion_raises_the_grade_and_one_unit_less_does_not(policy, rec):
    ev = evaluate_record(policy, rec)
    names = policy.compiled.grade_names
    for s in ev.suggestions:
        scale = 100 if BY_NAME[s.field].kind is Kind.MONEY else 1
        increase = int(s.increase * scale)
        assert increase > 0
        raised = {**rec, s.field: int(rec[s.field]) + increase}
        assert raised["tech_staff"] <= raised["total_staff"], f"{s} makes an invalid record"
        after = evaluate_record(policy, raised, explain=False)
        assert after.eligible, s
        if policy.is_graded:
            assert after.grade == s.new_grade
            assert ev.grade is None or names.index(after.grade) < names.index(ev.grade), s
        less = evaluate_record(policy, {**raised, s.field: raised[s.field] - 1}, explain=False)
        assert _rank(policy, less) >= _rank(policy, ev), f"{s} is not the smallest change"


def _rank(policy, ev) -> int:
    """0 for the best outcome; larger is worse; not eligible is worst."""
    names = policy.compiled.grade_names
    if not ev.eligible:
        return len(names) + 1
    return names.index(ev.grade) if policy.is_graded else 0
