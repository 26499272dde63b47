"""The policy language: loading, validation errors by key path, the content hash, the header,
and the shipped national policy matching the published table in shared/domain/programme.md.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import resources

import pytest
from engine_support import CHONGQING, NATIONAL, enterprise, frame_of

from kvcredit.errors import PolicyError
from kvcredit.scoring import builtin_policy_ids, evaluate_frame, evaluate_one, load_policy
from kvcredit.scoring.policy import parse_policy

HEADER = """
[policy]
id = "tiny"
version = "1"
title = "Tiny test policy"
effective_date = 2026-01-01
authority = "tests"
"""
INDICATOR = """
[[indicators]]
id = "products"
input = "new_products"
bands = [{ from = 3, points = 10 }, { from = 1, points = 5 }]
"""
QUALIFY = """
[outcome]
kind = "qualify"
min_score = 5
"""
GRADES = """
[outcome]
kind = "grades"
grades = [
  { grade = "A", min_score = 10, credit_limit = 100 },
  { grade = "B", min_score = 5, credit_limit = 50 },
]
"""
ROUTE = """
[[routes]]
id = "certified"
when = "high_tech_certified == true"
"""

VALID = HEADER + INDICATOR + QUALIFY


def problems_of(text: str) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return caught.value.problems


def test_a_minimal_policy_loads():
    policy = parse_policy(VALID)
    assert (policy.id, policy.version, policy.is_graded) == ("tiny", "1", False)


ERRORS = [
    # what is wrong, policy text, key path, words in the message
    (
        "unknown field in derived",
        HEADER + '[derived]\nratio = "tech_staff / staf"\n' + INDICATOR + QUALIFY,
        "derived.ratio",
        "unknown field 'staf'",
    ),
    (
        "derived mixes money and counts",
        HEADER + '[derived]\nx = "revenue + total_staff"\n' + INDICATOR + QUALIFY,
        "derived.x",
        "cannot mix money",
    ),
    (
        "derived multiplies two fields",
        HEADER + '[derived]\nx = "revenue * tax_paid"\n' + INDICATOR + QUALIFY,
        "derived.x",
        "integer * field",
    ),
    (
        "derived does not parse",
        HEADER + '[derived]\nx = "revenue +"\n' + INDICATOR + QUALIFY,
        "derived.x",
        "cannot parse",
    ),
    (
        "derived redefines a field",
        HEADER + '[derived]\nrevenue = "tax_paid + revenue_prev"\n' + INDICATOR + QUALIFY,
        "derived.revenue",
        "already a field",
    ),
    (
        "bands not descending",
        HEADER + INDICATOR.replace("from = 3", "from = 0") + QUALIFY,
        "indicators.0.bands",
        "highest 'from' down",
    ),
    (
        "bands repeat an edge",
        HEADER + INDICATOR.replace("from = 3", "from = 1") + QUALIFY,
        "indicators.0.bands",
        "no repeats",
    ),
    (
        "indicator with two kinds",
        HEADER + INDICATOR + 'ladder = [{ when = "new_products >= 1", points = 1 }]\n' + QUALIFY,
        "indicators.0",
        "exactly one of 'bands', 'best_of', 'ladder' or 'points'",
    ),
    (
        "indicator with an unknown input",
        HEADER + INDICATOR.replace("new_products", "novelties") + QUALIFY,
        "indicators.0.input",
        "unknown input 'novelties'",
    ),
    (
        "indicator with an unknown key",
        HEADER + INDICATOR + 'colour = "red"\n' + QUALIFY,
        "indicators.0.colour",
        "Extra inputs",
    ),
    (
        "two indicators with one id",
        HEADER + INDICATOR + INDICATOR + QUALIFY,
        "indicators",
        "unique",
    ),
    (
        "unknown indicator in a group",
        HEADER + INDICATOR + '[[groups]]\nid = "g"\nindicators = ["products", "nope"]\n' + QUALIFY,
        "groups.0.indicators",
        "unknown indicator 'nope'",
    ),
    (
        "indicator in no group",
        HEADER
        + INDICATOR
        + INDICATOR.replace('id = "products"', 'id = "other"')
        + '[[groups]]\nid = "g"\nindicators = ["products"]\n'
        + QUALIFY,
        "groups",
        "'other' belongs to no group",
    ),
    (
        "route without min_grade in a graded policy",
        HEADER + INDICATOR + ROUTE + GRADES,
        "routes.0.min_grade",
        "needs min_grade",
    ),
    (
        "route with an unknown min_grade",
        HEADER + INDICATOR + ROUTE + 'min_grade = "Z"\n' + GRADES,
        "routes.0.min_grade",
        "unknown grade 'Z'",
    ),
    (
        "uplift in a qualify policy",
        HEADER + INDICATOR + '[[uplifts]]\nid = "u"\nwhen = "high_growth == true"\n' + QUALIFY,
        "uplifts",
        "grade policies only",
    ),
    ("bad TOML", HEADER + "x = = 1\n" + INDICATOR + QUALIFY, "", "not valid TOML"),
    (
        "condition string without a value",
        HEADER + '[[basic]]\nid = "b"\nwhen = "total_staff <= "\n' + INDICATOR + QUALIFY,
        "basic.0.when",
        "'input op value'",
    ),
    (
        "condition string with a bad number",
        HEADER + '[[basic]]\nid = "b"\nwhen = "total_staff <= many"\n' + INDICATOR + QUALIFY,
        "basic.0.when",
        "'many' is not a number",
    ),
    (
        "condition string with a bad operator",
        HEADER + '[[basic]]\nid = "b"\nwhen = "total_staff =< 500"\n' + INDICATOR + QUALIFY,
        "basic.0.when.0.op",
        "Input should be",
    ),
    (
        "condition on an unknown field",
        HEADER + '[[basic]]\nid = "b"\nwhen = "staff <= 500"\n' + INDICATOR + QUALIFY,
        "basic.0.when.0",
        "unknown input 'staff'",
    ),
    (
        "'in' on a number",
        HEADER
        + '[[basic]]\nid = "b"\n[[basic.when]]\ninput = "total_staff"\nop = "in"\nvalue = ["1"]\n'
        + INDICATOR
        + QUALIFY,
        "basic.0.when.0",
        "text fields only",
    ),
    (
        "a text field compared with a number",
        HEADER + '[[basic]]\nid = "b"\nwhen = "district == 3"\n' + INDICATOR + QUALIFY,
        "basic.0.when.0",
        "'in' or 'not in'",
    ),
    (
        "a score tested in a basic condition",
        HEADER + '[[basic]]\nid = "b"\nwhen = "score >= 3"\n' + INDICATOR + QUALIFY,
        "basic.0.when",
        "requirements, routes and uplifts only",
    ),
    (
        "a requirement on unknown points",
        HEADER + '[[requirements]]\nid = "r"\nwhen = "points.nope >= 3"\n' + INDICATOR + QUALIFY,
        "requirements.0.when.0",
        "unknown points 'nope'",
    ),
    (
        "grade min_score not falling",
        HEADER + INDICATOR + GRADES.replace("min_score = 10", "min_score = 5"),
        "outcome",
        "strictly falling",
    ),
    (
        "grade with a lower-case name",
        HEADER + INDICATOR + GRADES.replace('grade = "A"', 'grade = "a"'),
        "outcome.grades.0.grade",
        "pattern",
    ),
    (
        "negative credit limit",
        HEADER + INDICATOR + GRADES.replace("credit_limit = 100", "credit_limit = -1"),
        "outcome.grades.0.credit_limit",
        "greater than or equal to 0",
    ),
    (
        "qualify outcome with grades",
        HEADER + INDICATOR + GRADES.replace('kind = "grades"', 'kind = "qualify"'),
        "outcome",
        "min_score and no grades",
    ),
    (
        "header without id",
        HEADER.replace('id = "tiny"\n', "") + INDICATOR + QUALIFY,
        "policy.id",
        "Field required",
    ),
    (
        "header with a bad date",
        HEADER.replace("2026-01-01", '"soon"') + INDICATOR + QUALIFY,
        "policy.effective_date",
        "date",
    ),
]


@pytest.mark.parametrize(
    ("text", "path", "words"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_a_policy_error_names_the_key_path(text, path, words):
    problems = problems_of(text)
    assert (path, words) in [(p, words) for p, m in problems if words in m], problems


def test_a_route_with_an_unknown_grade_reports_only_that():
    problems = problems_of(HEADER + INDICATOR + ROUTE + 'min_grade = "Z"\n' + GRADES)
    assert problems == [("routes.0.min_grade", "unknown grade 'Z'")]


def test_every_problem_is_reported_at_once():
    text = (
        HEADER
        + '[derived]\nx = "nope / total_staff"\n'
        + INDICATOR
        + INDICATOR.replace('id = "products"', 'id = "other"')
        + '[[groups]]\nid = "g"\nindicators = ["products", "ghost"]\n'
        + QUALIFY
    )
    paths = {path for path, _ in problems_of(text)}
    assert {"derived.x", "groups.0.indicators", "groups"} <= paths


def test_the_error_message_names_the_source_and_the_path(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(HEADER + INDICATOR.replace("from = 3", "from = 0") + QUALIFY, "utf-8")
    with pytest.raises(PolicyError, match=r"bad\.toml.*indicators\.0\.bands"):
        load_policy(bad)


def test_an_unknown_shipped_policy_names_the_shipped_ones():
    with pytest.raises(PolicyError, match="chongqing-kvc"):
        load_policy("shanghai-kvc")


def test_a_missing_policy_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.toml")


# -- the content hash ------------------------------------------------------------------------
def shipped_text(policy_id: str) -> str:
    files = resources.files("kvcredit.scoring.policies")
    return files.joinpath(f"{policy_id}.toml").read_text("utf-8")


@pytest.mark.parametrize("policy_id", ["most-tech-sme", "chongqing-kvc"])
def test_the_content_hash_ignores_comments_and_whitespace(policy_id):
    text = shipped_text(policy_id)
    reformatted = "# a new comment at the top\n\n" + text.replace(" = ", "   =   ").replace(
        "\n[", "\n\n# section\n["
    )
    assert reformatted != text
    assert parse_policy(reformatted).content_hash == load_policy(policy_id).content_hash


@pytest.mark.parametrize(
    ("policy_id", "old", "new"),
    [
        ("most-tech-sme", "from = 0.30, points = 20", "from = 0.31, points = 20"),
        ("most-tech-sme", "min_score = 60", "min_score = 61"),
        ("most-tech-sme", "total_staff <= 500", "total_staff <= 501"),
        ("chongqing-kvc", "credit_limit = 800000", "credit_limit = 800001"),
        ("chongqing-kvc", "weight = 0.30", "weight = 0.31"),
        ("chongqing-kvc", 'version = "2026.1"', 'version = "2026.2"'),
    ],
)
def test_the_content_hash_changes_when_a_number_changes(policy_id, old, new):
    text = shipped_text(policy_id)
    assert old in text
    changed = parse_policy(text.replace(old, new, 1))
    assert changed.content_hash != load_policy(policy_id).content_hash


def test_the_content_hash_is_a_sha256_hex_digest():
    assert len(NATIONAL.content_hash) == 64
    assert int(NATIONAL.content_hash, 16) >= 0
    assert NATIONAL.content_hash != CHONGQING.content_hash


@pytest.mark.parametrize("policy", [NATIONAL, CHONGQING], ids=lambda p: p.id)
def test_every_evaluation_records_policy_id_version_and_hash(policy):
    ev = evaluate_one(policy, enterprise())
    assert (ev.policy_id, ev.policy_version, ev.policy_hash) == (
        policy.id,
        policy.version,
        policy.content_hash,
    )


@pytest.mark.parametrize("policy", [NATIONAL, CHONGQING], ids=lambda p: p.id)
def test_every_frame_row_records_policy_id_version_and_hash(policy):
    from kvcredit.scoring.records import normalize_record

    rec = normalize_record(enterprise())
    out = evaluate_frame(policy, frame_of([rec, rec, rec]))
    for column, value in [
        ("policy_id", policy.id),
        ("policy_version", policy.version),
        ("policy_hash", policy.content_hash),
    ]:
        assert column in out.columns, f"evaluate_frame output lacks {column}"
        assert out.get_column(column).to_list() == [value] * 3


# -- shipped policies ------------------------------------------------------------------------
def test_both_policies_are_shipped_and_load_by_id_and_by_path(tmp_path):
    assert {"most-tech-sme", "chongqing-kvc"} <= set(builtin_policy_ids())
    copy = tmp_path / "copy.toml"
    copy.write_text(shipped_text("chongqing-kvc"), "utf-8")
    assert load_policy(copy).content_hash == CHONGQING.content_hash
    assert load_policy(str(copy)).content_hash == CHONGQING.content_hash


def test_the_headers_have_id_version_title_date_authority_and_notes():
    for policy in (NATIONAL, CHONGQING):
        header = policy.doc.policy
        assert header.id == policy.id
        assert header.version and header.title and header.authority and header.notes
        assert isinstance(header.effective_date, dt.date)
    assert "Ministry of Science and Technology" in NATIONAL.doc.policy.authority


def _bands(indicator) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(b.from_), Decimal(b.points)) for b in indicator.bands]


def test_the_national_policy_is_the_published_table():
    """shared/domain/programme.md, "A fully published national standard", transcribed."""
    doc = NATIONAL.doc
    by_id = {i.id: i for i in doc.indicators}
    assert list(by_id) == ["tech_staff", "rd_input", "ip"]
    assert by_id["tech_staff"].input == "tech_staff_ratio"
    assert _bands(by_id["tech_staff"]) == [
        (Decimal("0.30"), 20),
        (Decimal("0.25"), 16),
        (Decimal("0.20"), 12),
        (Decimal("0.15"), 8),
        (Decimal("0.10"), 4),
    ]
    revenue, costs = by_id["rd_input"].best_of
    assert (revenue.input, costs.input) == ("rd_revenue_ratio", "rd_cost_ratio")
    assert _bands(revenue) == [
        (Decimal("0.06"), 50),
        (Decimal("0.05"), 40),
        (Decimal("0.04"), 30),
        (Decimal("0.03"), 20),
        (Decimal("0.02"), 10),
    ]
    assert _bands(costs) == [
        (Decimal("0.30"), 50),
        (Decimal("0.25"), 40),
        (Decimal("0.20"), 30),
        (Decimal("0.15"), 20),
        (Decimal("0.10"), 10),
    ]
    assert all(alt.if_undefined == 0 for alt in (revenue, costs))
    assert by_id["tech_staff"].if_undefined == 0
    ladder = [
        (tuple(f"{c.input} {c.op} {c.value}" for c in r.when), r.points) for r in by_id["ip"].ladder
    ]
    assert ladder == [
        (("ip_class1 >= 1",), 30),
        (("ip_class2 >= 4",), 24),
        (("ip_class2 >= 3",), 18),
        (("ip_class2 >= 2",), 12),
        (("ip_class2 >= 1",), 6),
    ]
    assert doc.derived == {
        "tech_staff_ratio": "tech_staff / total_staff",
        "rd_revenue_ratio": "rd_expense / revenue",
        "rd_cost_ratio": "rd_expense / total_costs",
        "ip_class1": "ip_invention + ip_ic_layout + ip_other_class1",
        "ip_class2": "ip_utility_model + ip_design + ip_software_copyright",
    }
    basic = {r.id: [f"{c.input} {c.op} {c.value}" for c in r.when] for r in doc.basic}
    assert basic == {
        "staff_at_most_500": ["total_staff <= 500"],
        "revenue_at_most_200m": ["revenue <= 200000000"],
        "assets_at_most_200m": ["total_assets <= 200000000"],
        "no_major_incident": ["major_incident == False"],
        "not_abnormal_operation": ["abnormal_operation == False"],
        "not_seriously_dishonest": ["serious_dishonesty == False"],
    }
    routes = {r.id: [f"{c.input} {c.op} {c.value}" for c in r.when] for r in doc.routes}
    assert routes == {
        "high_tech_enterprise": ["high_tech_certified == True"],
        "national_sci_award": ["national_sci_award_5y == True"],
        "provincial_rd_institution": ["provincial_rd_center == True"],
        "led_standard": ["led_standard_5y == True"],
    }
    requirements = {r.id: [f"{c.input} {c.op} {c.value}" for c in r.when] for r in doc.requirements}
    assert requirements == {"tech_staff_score_nonzero": ["points.tech_staff > 0"]}
    assert (doc.outcome.kind, doc.outcome.min_score) == ("qualify", 60)
    assert doc.groups == [] and doc.uplifts == []
