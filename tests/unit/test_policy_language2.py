"""The second version of the policy language: declared fields, any/all/not, date windows,
categories, else rungs, constant points, 'below' bands, the outputs, bilingual policy errors.

Every rule is checked on both evaluation paths (``evaluate_both``), on edges, by hypothesis
and on 100,000 generated rows with declared fields.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_support import enterprise, evaluate_both, evaluate_records_both
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_vector_equivalence import assert_paths_agree

from kvcredit.errors import EvaluationError, PolicyError
from kvcredit.scoring import evaluate_frame, load_policy
from kvcredit.scoring.fields import NO_DATE
from kvcredit.scoring.policy import parse_policy
from kvcredit.scoring.records import RecordError, normalize_record
from kvcredit.scoring.synth import generate

POLICY_FILE = Path(__file__).parent / "policies" / "provincial-sme.toml"
SME = load_policy(POLICY_FILE)
ON = dt.date(2026, 6, 1)

# Passes both knock-outs, meets every requirement, scores 55 and qualifies by score.
GOOD = {
    "main_business_revenue": "9000000",
    "revenue": "10000000",
    "debt_ratio": "0.5",
    "provincial_award_date": "2020-03-01",
    "ip_invention": 1,
    "growth_ratio": "0.1",
}


def sme(**changes: object) -> dict[str, object]:
    return enterprise(**{**GOOD, **changes})


def points(ev, indicator: str) -> Decimal:
    return next(i.points for i in ev.indicators if i.id == indicator)


def explained(ev, indicator: str):
    return next(i for i in ev.indicators if i.id == indicator)


# -- declared fields -----------------------------------------------------------------------
def test_a_policy_declares_its_fields_with_kind_header_bounds_and_default():
    by_name = {f.name: f for f in SME.declared}
    assert list(by_name) == [
        "main_business_revenue",
        "debt_ratio",
        "equity_raised",
        "ownership",
        "provincial_award_date",
        "listed",
        "growth_ratio",
    ]
    debt = by_name["debt_ratio"]
    assert (debt.kind, debt.zh, debt.required, debt.lo, debt.hi) == (
        "ratio",
        "资产负债率",
        True,
        0,
        10_000_000,
    )
    assert by_name["ownership"].values == ("private", "state", "foreign")
    assert by_name["ownership"].default == "private"
    assert by_name["equity_raised"].default == 0


def test_declared_fields_are_read_by_english_name_or_chinese_header():
    english = normalize_record(sme(), SME.declared)
    chinese = dict(sme())
    for name, zh in (("main_business_revenue", "主营业务收入"), ("debt_ratio", "资产负债率")):
        chinese[zh] = chinese.pop(name)
    assert normalize_record(chinese, SME.declared) == english
    assert english["main_business_revenue"] == 900_000_000  # fen
    assert english["debt_ratio"] == 500_000  # millionths
    assert english["provincial_award_date"] == (dt.date(2020, 3, 1) - dt.date(1970, 1, 1)).days


def test_optional_declared_fields_read_as_their_default_or_as_no_date():
    rec = normalize_record(sme(provincial_award_date=None, growth_ratio=None), SME.declared)
    assert (rec["ownership"], rec["equity_raised"], rec["listed"]) == ("private", 0, 0)
    assert rec["provincial_award_date"] == NO_DATE
    assert rec["growth_ratio"] == 0


@pytest.mark.parametrize(
    ("field", "value", "code", "zh"),
    [
        ("debt_ratio", None, "required", "必填项为空"),
        ("debt_ratio", "10.000001", "above_max", "不能大于10：10.000001"),
        ("growth_ratio", "-1.5", "below_min", "不能小于-1：-1.5"),
        ("debt_ratio", "0.1234567", "ratio_decimals", "比例最多六位小数：0.1234567"),
        ("ownership", "collective", "not_allowed", "应为以下之一：private/state/foreign"),
        ("provincial_award_date", "2024-02-30", "not_date", "不是日期"),
        ("main_business_revenue", "-1", "negative", "不能为负数"),
        ("listed", "maybe", "not_flag", "应为"),
    ],
)
def test_a_bad_declared_value_is_reported_with_its_field_in_both_languages(field, value, code, zh):
    with pytest.raises(RecordError) as caught:
        normalize_record(sme(**{field: value}), SME.declared)
    [problem] = caught.value.problems
    assert (problem.field, problem.code) == (field, code)
    assert zh in problem.message_zh and problem.message_en


# -- conditions ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("staff", "revenue", "knocked"),
    [
        (999, "500000000", False),
        (1000, "399999999.99", False),
        (1000, "400000000", True),
        (1200, "900000000", True),
    ],
)
def test_a_knock_out_written_with_any_is_reported_by_its_id(staff, revenue, knocked):
    ev = evaluate_both(SME, sme(total_staff=staff, revenue=revenue), on=ON)
    assert ev.knocked_out_by == (("small_or_medium",) if knocked else ())
    assert ev.eligible is not knocked


@pytest.mark.parametrize("change", [{"listed": True}, {"serious_dishonesty": True}])
def test_not_any_knocks_out_a_listed_or_dishonest_firm(change):
    ev = evaluate_both(SME, sme(**change), on=ON)
    assert ev.knocked_out_by == ("clean_record",)
    assert not ev.eligible


@pytest.mark.parametrize(
    ("award", "on", "pts"),
    [
        ("2023-06-01", ON, 10),  # exactly three years before: inside the window
        ("2023-05-31", ON, 4),  # one day older: outside, scores the fixed-date rung
        ("2026-06-01", ON, 10),  # on the evaluation date
        ("2026-06-02", ON, 4),  # after the evaluation date: not within
        ("2014-12-31", ON, 0),
        ("2025-02-28", dt.date(2028, 2, 29), 10),  # 29 February minus three years
        ("2025-02-27", dt.date(2028, 2, 29), 4),
        (None, ON, 0),  # no date: every date condition is false
    ],
)
def test_a_date_window_ends_on_the_evaluation_date(award, on, pts):
    ev = evaluate_both(SME, sme(provincial_award_date=award), on=on)
    assert points(ev, "award") == pts
    shown = explained(ev, "award").inputs["provincial_award_date"]
    assert shown == (dt.date.fromisoformat(award).isoformat() if award else None)


def test_a_policy_with_a_date_window_needs_the_evaluation_date():
    with pytest.raises(EvaluationError, match="evaluation date"):
        evaluate_both(SME, sme())
    with pytest.raises(EvaluationError, match="evaluation date"):
        evaluate_frame(SME, pl.DataFrame())


@pytest.mark.parametrize(
    ("ownership", "pts"), [("private", 3), ("foreign", 1), ("state", 0), (None, 3)]
)
def test_category_membership_with_equals_and_in(ownership, pts):
    ev = evaluate_both(SME, sme(ownership=ownership), on=ON)
    assert points(ev, "private_bonus") == pts
    assert explained(ev, "private_bonus").inputs == {"ownership": ownership or "private"}


@pytest.mark.parametrize(
    ("ip", "utility", "pts", "rung"),
    [(5, 0, 20, 0), (1, 5, 15, 1), (1, 4, 10, 2), (0, 9, 2, 3)],
)
def test_nested_all_and_any_in_a_ladder_rung_and_the_else_rung(ip, utility, pts, rung):
    ev = evaluate_both(SME, sme(ip_invention=ip, ip_utility_model=utility), on=ON)
    result = explained(ev, "ip")
    assert (result.points, result.rung) == (pts, rung)
    assert result.inputs["ip_class1"] == str(ip)


def test_a_constant_points_indicator_always_scores_its_points():
    for change in ({}, {"revenue": "0"}, {"total_staff": 5000}):
        assert points(evaluate_both(SME, sme(**change), on=ON), "base") == 5


# -- 'below' bands: exclusive upper edges, lower is better ----------------------------------
@pytest.mark.parametrize(
    ("ratio", "pts", "below"),
    [
        ("0", 10, "0.55"),
        ("0.549999", 10, "0.55"),
        ("0.55", 5, "0.75"),
        ("0.749999", 5, "0.75"),
        ("0.75", 0, None),
        ("9.5", 0, None),
    ],
)
def test_below_bands_have_exclusive_upper_edges(ratio, pts, below):
    ev = evaluate_both(SME, sme(debt_ratio=ratio), on=ON)
    result = explained(ev, "debt")
    assert result.points == pts
    assert result.band_below == (Decimal(below) if below else None)
    assert result.value == Decimal(ratio)
    assert result.band_from is None


def test_a_ratio_of_a_declared_money_field_is_exact_on_its_edge():
    # 7,000,000 / 10,000,000 is exactly 0.7: the top band (inclusive)
    ev = evaluate_both(SME, sme(main_business_revenue="7000000"), on=ON)
    assert (points(ev, "main_business"), explained(ev, "main_business").band_from) == (
        10,
        Decimal("0.7"),
    )
    ev = evaluate_both(SME, sme(main_business_revenue="6999999.99"), on=ON)
    assert points(ev, "main_business") == 6


# -- outputs -------------------------------------------------------------------------------
def test_sub_scores_failed_requirements_and_routes_are_reported():
    ev = evaluate_both(SME, sme(debt_ratio="0.9", main_business_revenue="0"), on=ON)
    assert ev.groups == {"innovation": Decimal(19), "finance": Decimal(0), "growth_group": 15}
    assert ev.failed_requirements == ("finance_min",)
    assert not ev.eligible
    routed = evaluate_both(
        SME,
        sme(debt_ratio="0.9", main_business_revenue="0", provincial_award_date="2025-01-01"),
        on=ON,
    )
    assert routed.routes == ("award_and_ip",)
    assert (routed.eligible, routed.qualified_by) == (True, "award_and_ip")


def test_the_vectorised_path_has_a_column_for_each_sub_score_and_the_rule_lists():
    recs = [normalize_record(sme(debt_ratio="0.9", high_tech_certified=True), SME.declared)]
    [ev] = evaluate_records_both(SME, recs, on=ON)
    frame = evaluate_frame(
        SME,
        pl.DataFrame([recs[0]]).cast({"ownership": pl.String}),
        explain=False,
        on=ON,
        details=True,
    )
    plain = evaluate_frame(SME, pl.DataFrame([recs[0]]), on=ON)
    assert "routes" not in plain.columns  # the details cost time: asked for, or with explain
    row = frame.row(0, named=True)
    assert row["failed_requirements"] == ",".join(ev.failed_requirements)
    assert row["routes"] == "high_tech"
    assert {"group.innovation", "group.finance", "group.growth_group"} <= set(frame.columns)


def test_every_indicator_kind_explains_its_input_and_band_or_rung():
    ev = evaluate_both(SME, sme(), on=ON)
    shown = {i.id: (i.inputs, i.band_from, i.band_below, i.rung) for i in ev.indicators}
    assert shown["debt"] == ({"debt_ratio": "0.5"}, None, Decimal("0.55"), None)
    assert shown["main_business"] == ({"main_share": "0.9"}, Decimal("0.7"), None, None)
    assert shown["award"] == ({"provincial_award_date": "2020-03-01"}, None, None, 1)
    assert shown["base"] == ({}, None, None, None)
    assert ev.to_dict()["indicators"][0]["inputs"] == {
        "ip_class1": "1",
        "ip_utility_model": "0",
        "ip_software_copyright": "0",
    }


# -- the policy text ----------------------------------------------------------------------
HEADER = """
[policy]
id = "tiny"
version = "1"
title = "Tiny"
effective_date = 2026-01-01
authority = "tests"
"""
TAIL = """
[outcome]
kind = "qualify"
min_score = 1
"""
FIELD = """
[[fields]]
name = "sector"
kind = "category"
zh = "行业类别"
values = ["a", "b"]
"""


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(HEADER + text + TAIL)
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "path", "en", "zh"),
    [
        (
            FIELD
            + '[[indicators]]\nid = "x"\nladder = [{ when = "sector == \'c\'", points = 1 }]\n',
            "indicators.0.ladder.0.when.0",
            "'c' is not one of the values of 'sector': a, b",
            "'c' 不是字段 'sector' 的可选值",
        ),
        (
            '[[indicators]]\nid = "x"\n'
            'ladder = [{ when = "revenue within 3 years", points = 1 }]\n',
            "indicators.0.ladder.0.when.0",
            "'within' applies to date fields only",
            "只适用于日期字段",
        ),
        (
            '[[indicators]]\nid = "x"\nladder = [{ else = true, points = 1 }, '
            '{ when = "revenue > 0", points = 2 }]\n',
            "indicators.0",
            "the 'else' rung comes last",
            "else 级必须在最后",
        ),
        (
            '[[indicators]]\nid = "x"\ninput = "revenue"\n'
            "bands = [{ from = 1, points = 1 }, { below = 0, points = 2 }]\n",
            "indicators.0.bands",
            "all use 'from' or all use 'below'",
            "全部使用 from 或全部使用 below",
        ),
        (
            '[[indicators]]\nid = "x"\ninput = "revenue"\n'
            "bands = [{ below = 5, points = 1 }, { below = 2, points = 2 }]\n",
            "indicators.0.bands",
            "from the lowest 'below' up",
            "按 below 从低到高排列",
        ),
        (
            '[[fields]]\nname = "revenue"\nkind = "money"\nzh = "收入"\n'
            '[[indicators]]\nid = "x"\npoints = 1\n',
            "fields.0.name",
            "'revenue' is already a field of the data dictionary",
            "已是数据字典中的字段",
        ),
        (
            '[[fields]]\nname = "sales"\nkind = "money"\nzh = "销售收入"\n'
            '[[indicators]]\nid = "x"\npoints = 1\n',
            "fields.0.zh",
            "the Chinese header '销售收入' is already used by 'revenue'",
            "中文列名 '销售收入' 已被 'revenue' 使用",
        ),
        (
            FIELD.replace('values = ["a", "b"]', "") + '[[indicators]]\nid = "x"\npoints = 1\n',
            "fields.0",
            "a category field lists its values",
            "类别字段须列出可选值",
        ),
        (
            '[[indicators]]\nid = "x"\npoints = 1\nwieght = 2\n',
            "indicators.0.wieght",
            "Extra inputs are not permitted",
            "不允许的键",
        ),
        (
            '[[basic]]\nid = "b"\n[[basic.when]]\nany = ["revenue > 0", "staff > 1"]\n'
            '[[indicators]]\nid = "x"\npoints = 1\n',
            "basic.0.when.0.any.1",
            "unknown input 'staff'",
            "未知输入 'staff'",
        ),
    ],
    ids=[
        "category value",
        "within on money",
        "else not last",
        "mixed bands",
        "below not rising",
        "field shadows the dictionary",
        "header clash",
        "category without values",
        "misspelt key",
        "unknown input inside any",
    ],
)
def test_policy_errors_name_the_key_path_in_english_and_chinese(text, path, en, zh):
    found = problems(text)
    hits = [(p, m) for p, m in found if en in m]
    assert hits, found
    assert hits[0][0] == path
    assert zh in hits[0][1].zh


def test_policy_error_lines_speak_the_chosen_language():
    with pytest.raises(PolicyError) as caught:
        parse_policy(HEADER + '[[indicators]]\nid = "x"\npoints = 1\nwieght = 2\n' + TAIL)
    assert caught.value.lines("zh-hans") == ["indicators.0.wieght: 不允许的键（拼写有误？）"]
    assert caught.value.lines("en") == ["indicators.0.wieght: Extra inputs are not permitted"]


def test_the_new_keys_at_their_defaults_leave_a_policy_hash_unchanged():
    text = (
        HEADER + '[[indicators]]\nid = "x"\ninput = "revenue"\nbands = [{ from = 1, points = 2 }]\n'
    )
    plain = parse_policy(text + TAIL)
    assert "below" not in plain.doc.model_dump_json() or plain.content_hash
    assert plain.content_hash == parse_policy(text + "\n# a comment\n" + TAIL).content_hash
    assert load_policy("chongqing-kvc").content_hash.startswith("13047a6a")
    assert load_policy("most-tech-sme").content_hash.startswith("6d831e0f")


# -- both paths: hypothesis and 100,000 generated rows -------------------------------------
MONEY = st.sampled_from(["0", "1", "6999999.99", "7000000", "9000000", "10000000", "400000000"])
RATIO = st.sampled_from(["0", "0.1", "0.099999", "0.2", "0.549999", "0.55", "0.75", "-0.5", "9"])
DATE = st.one_of(
    st.none(), st.dates(dt.date(2014, 1, 1), dt.date(2027, 1, 1)).map(dt.date.isoformat)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(
        st.fixed_dictionaries(
            {
                "main_business_revenue": MONEY,
                "revenue": MONEY,
                "debt_ratio": RATIO.filter(lambda r: not r.startswith("-")),
                "growth_ratio": RATIO,
                "equity_raised": st.sampled_from(["0", "999999.99", "1000000", "10000000"]),
                "ownership": st.sampled_from([None, "private", "state", "foreign"]),
                "provincial_award_date": DATE,
                "listed": st.booleans(),
                "total_staff": st.sampled_from([999, 1000, 1001]),
                "ip_invention": st.integers(0, 6),
                "ip_utility_model": st.integers(0, 6),
                "high_tech_certified": st.booleans(),
            }
        ),
        min_size=1,
        max_size=8,
    ),
    on=st.dates(dt.date(2020, 1, 1), dt.date(2028, 12, 31)),
)
def test_both_paths_agree_on_random_enterprises_with_declared_fields(records, on):
    recs = [normalize_record(enterprise(**r), SME.declared) for r in records]
    evaluate_records_both(SME, recs, on=on)


def declared_frame(n: int, seed: int) -> pl.DataFrame:
    """Synthetic enterprises with the test policy's declared fields, many on their edges."""
    rng = np.random.default_rng(seed)
    base = generate(n, seed)
    revenue = base.get_column("revenue").to_numpy()
    share = rng.choice(np.array([0, 500_000, 699_999, 700_000, 700_001, 1_000_000]), n)
    main = revenue // 1_000_000 * share
    debt = rng.choice(np.array([0, 549_999, 550_000, 550_001, 749_999, 750_000, 3_000_000]), n)
    growth = rng.integers(-1_000_000, 400_000, n)
    day0 = (dt.date(2023, 6, 1) - dt.date(1970, 1, 1)).days
    award = np.where(rng.random(n) < 0.2, NO_DATE, day0 + rng.integers(-4000, 1200, n))
    return base.with_columns(
        pl.Series("total_staff", rng.choice(np.array([10, 999, 1000, 1001]), n)),
        pl.Series("main_business_revenue", main),
        pl.Series("debt_ratio", debt),
        pl.Series("equity_raised", rng.choice(np.array([0, 99_999_999, 100_000_000, 10**9]), n)),
        pl.Series("ownership", rng.choice(np.array(["private", "state", "foreign"]), n)),
        pl.Series("provincial_award_date", award),
        pl.Series("listed", (rng.random(n) < 0.05).astype(np.int64)),
        pl.Series("growth_ratio", growth),
    )


@pytest.mark.slow
def test_both_paths_agree_on_100000_generated_enterprises_with_declared_fields():
    frame = declared_frame(100_000, seed=12)
    vector = assert_paths_agree(SME, frame, on=ON)
    eligible = vector.get_column("eligible")
    assert 0 < eligible.sum() < frame.height
    assert set(vector.get_column("knocked_out_by").unique()) >= {"", "small_or_medium"}
    assert vector.get_column("qualified_by").n_unique() == 4
    assert (vector.get_column("failed_requirements") != "").sum() > 0
