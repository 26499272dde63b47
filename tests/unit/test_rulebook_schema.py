"""The rulebook's schema: each shipped file loads, errors name the key path in English and
Chinese, the content hash ignores formatting and follows content."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from kvcredit.errors import RulebookError
from kvcredit.rulebook.domain import (
    DEFAULT_RULEBOOK,
    builtin_rulebook_ids,
    builtin_text,
    diff,
    load_rulebook,
    parse_rulebook,
)

CQ22 = builtin_text("chongqing-2022")


def test_every_shipped_rulebook_loads():
    assert builtin_rulebook_ids() == ["chongqing-2017", "chongqing-2022", "hubei-2025"]
    for ref in builtin_rulebook_ids():
        rb = load_rulebook(ref)
        assert rb.id == ref
        assert len(rb.content_hash) == 64
        assert rb.header.sources and rb.header.notes and rb.header.ours
    assert DEFAULT_RULEBOOK == "chongqing-2022"


def test_the_shipped_rules_as_published():
    cq17, cq22, hb = (load_rulebook(r) for r in builtin_rulebook_ids())
    # Chongqing 2017: benchmark rate, the fee waived, city 40 : district 60, 10 % paid in,
    # 80 % compensated, the bank bearing 20 % (and all the interest: not compensated)
    assert cq17.loan.rate_basis == "pboc_benchmark"
    assert cq17.fund.fees.cut_on(dt.date(2018, 6, 1)) == 1
    assert [(p.id, p.share) for p in cq17.fund.parties] == [
        ("city", Decimal("0.40")),
        ("district", Decimal("0.60")),
    ]
    assert cq17.fund.min_initial_paid_in == Decimal("0.10")
    assert cq17.fund.losses().party("bank").compensation == Decimal("0.20")
    assert cq17.is_ours("fund.breaker.non_performing.stop")
    # Chongqing 2022: 1y LPR, term <= 1 year, fee cut 20 % to the end of 2022, subsidy, deferral
    assert (cq22.loan.rate_basis, cq22.loan.max_term_months) == ("lpr_1y", 12)
    assert cq22.fund.fees.cut_on(dt.date(2022, 12, 31)) == Decimal("0.20")
    assert cq22.fund.fees.cut_on(dt.date(2023, 1, 1)) == 0
    (sub,) = cq22.subsidies
    assert (sub.basis, sub.share, sub.rate) == ("share_of_rate", Decimal("0.50"), "pboc_benchmark")
    (defer,) = cq22.deferrals
    assert defer.until == dt.date(2023, 6, 30) and defer.penalty_waived and defer.interest_accrues
    q4 = (dt.date(2022, 10, 1), dt.date(2022, 12, 31))
    assert (defer.loans.due_from, defer.loans.due_to) == q4
    # Hubei 2025: province : city 1 : 1, <= 10 M, <= 3 years, <= LPR + 150 bp, 5 % / 8 % claims
    assert [p.share for p in hb.fund.parties] == [Decimal("0.50"), Decimal("0.50")]
    assert hb.loan.max_amount_fen == 10_000_000_00
    assert hb.loan.max_term_months == 36
    assert hb.loan.ceiling is not None and hb.loan.ceiling.spread_bp == 150
    b = hb.fund.breaker
    assert b.non_performing is not None and (b.non_performing.warn, b.non_performing.stop) == (
        Decimal("0.05"),
        Decimal("0.08"),
    )
    assert b.stops_claims and not b.stops_new_loans
    assert b.window_months == 12


def test_the_hash_ignores_formatting_and_follows_content():
    rb = parse_rulebook(CQ22)
    reformatted = "# a comment\n" + CQ22.replace(
        "compensation_share = 0.80", "compensation_share = 0.8"
    )
    assert parse_rulebook(reformatted).content_hash == rb.content_hash
    as_text = CQ22.replace("compensation_share = 0.80", 'compensation_share = "0.800"')
    assert parse_rulebook(as_text).content_hash == rb.content_hash
    changed = CQ22.replace("compensation_share = 0.80", "compensation_share = 0.70")
    assert parse_rulebook(changed).content_hash != rb.content_hash
    assert parse_rulebook(CQ22).content_hash == rb.content_hash  # stable across parses


def _problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(RulebookError) as caught:
        parse_rulebook(text)
    return caught.value.problems


@pytest.mark.parametrize(
    ("old", "new", "path", "en", "zh"),
    [
        (
            "compensation_share = 0.80",
            "compensation_share = 1.2",
            "fund.compensation_share",
            "between 0 and 1",
            "比例须在 0 到 1 之间",
        ),
        (
            'name_zh = "区县", share = 0.60',
            'name_zh = "区县", share = 0.50',
            "fund.parties",
            "must add up to exactly 1",
            "之和须恰好为 1",
        ),
        (
            'name_zh = "区县", share = 0.60 },',
            'name_zh = "区县", share = 0.50 },\n    { id = "street", name = "street", '
            'name_zh = "街道", share = 0.10 },',
            "fund.parties",
            "at most two contributing parties",
            "出资方最多两方",
        ),
        (
            "stages = [{ share = 1, after_days = 0 }]",
            "stages = [{ share = 0.75, after_days = 0 }, { share = 0.5, after_days = 30 }]",
            "fund.stages",
            "must add up to exactly 1",
            "之和须恰好为 1",
        ),
        (
            "stages = [{ share = 1, after_days = 0 }]",
            "stages = [{ share = 0.75, after_days = 0 }, { share = 0.25, after_days = -3 }]",
            "fund.stages.1.after_days",
            "greater than or equal to 0",
            "应大于或等于 0",
        ),
        (
            'window = "12 months"',
            'window = "a year"',
            "fund.breaker.window",
            "all_time",
            "统计窗口",
        ),
        (
            "non_performing = { warn = 0.05, stop = 0.08 }",
            "non_performing = { warn = 0.09, stop = 0.08 }",
            "fund.breaker.non_performing",
            "warn <= stop",
            "预警",
        ),
        ('stops = "new_loans"', 'stops = "all"', "fund.breaker.stops", "new_loans", "取值应为"),
        (
            "max_amount_yuan = 5000000",
            "max_amount_yuan = 5000000.001",
            "loan.max_amount_yuan",
            "two decimals",
            "两位小数",
        ),
        ('rate_basis = "lpr_1y"', 'rate_basis = "libor"', "loan.rate_basis", "lpr_1y", "取值应为"),
        (
            "substandard_after = 90",
            "substandard_after = 200",
            "loan.classification",
            "rise",
            "递增",
        ),
        ("until = 2023-06-30", "until = 2022-11-30", "deferral.0", "must be after", "须晚于"),
        (
            'defer = ["principal", "interest"]',
            'defer = ["principal", "fees"]',
            "deferral.0.defer.1",
            "principal",
            "取值应为",
        ),
        ('rate = "pboc_benchmark"\n', "", "subsidy.0", "share_of_rate", "贴息"),
        (
            'denials = ["above_evaluated_limit"',
            'denials = ["too_big"',
            "fund.denials.0",
            "above_evaluated_limit",
            "取值应为",
        ),
        (
            '    "loan.renewal",\n',
            '    "loan.renewals",\n',
            "rulebook.ours.11",
            "not a key",
            "不是本规则手册中的键",
        ),
        ("effective = 2022-01-01", 'effective = "soon"', "rulebook.effective", "date", "日期"),
        ("grace_days = 30", "grace_dayz = 30", "loan.grace_dayz", "not permitted", "不允许的键"),
    ],
)
def test_errors_name_the_key_path_in_english_and_chinese(old, new, path, en, zh):
    assert old in CQ22
    problems = _problems(CQ22.replace(old, new, 1))
    hits = [(p, m) for p, m in problems if p == path]
    assert hits, problems
    assert en in hits[0][1]
    assert zh in hits[0][1].zh  # type: ignore[attr-defined]


PARTIES4 = [("fund", "0.54"), ("bank", "0.26"), ("insurer", "0.16"), ("appraiser", "0.04")]


def _party(pid: str, share: str) -> str:
    return (
        f'    {{ id = "{pid}", name = "{pid}", name_zh = "方{pid}", '
        f"compensation = {share}, recoveries = {share} }},\n"
    )


def test_loss_sharing_must_add_up_and_match_the_compensation_share():
    text = builtin_text("chongqing-2017")
    problems = _problems(
        text.replace(
            "compensation = 0.20, recoveries = 0.20", "compensation = 0.10, recoveries = 0.20"
        )
    )
    assert problems[0][0] == "fund.loss_sharing"
    assert "compensation shares must add up to exactly 1" in problems[0][1]
    two = "\n".join(line for line in text.splitlines() if "compensation = 0." in line) + "\n"
    assert two.count("\n") == 2
    four = text.replace(two, "".join(_party(*p) for p in PARTIES4))
    problems = _problems(four)
    assert problems[0][0] == "fund"
    assert "differs from fund.compensation_share" in problems[0][1]
    rb = parse_rulebook(four.replace("compensation_share = 0.80", "compensation_share = 0.54"))
    assert sum(p.compensation for p in rb.fund.losses().parties) == 1
    assert len(rb.fund.losses().parties) == 4


def test_the_messages_read_in_either_language():
    with pytest.raises(RulebookError) as caught:
        parse_rulebook(CQ22.replace("grace_days = 30", "grace_dayz = 30"))
    assert caught.value.lines("zh-hans") == ["loan.grace_dayz: 不允许的键（拼写有误？）"]
    assert caught.value.lines("en") == ["loan.grace_dayz: Extra inputs are not permitted"]
    with pytest.raises(RulebookError) as caught:
        parse_rulebook("not = [toml")
    assert caught.value.problems[0][0] == ""
    assert caught.value.lines("zh")[0].startswith("<rulebook>: 不是有效的 TOML")


def test_no_such_shipped_rulebook_names_the_shipped_ones(tmp_path):
    with pytest.raises(RulebookError) as caught:
        load_rulebook("atlantis-2030")
    assert "chongqing-2022" in str(caught.value)
    path = tmp_path / "mine.toml"
    path.write_text(CQ22.replace('id = "chongqing-2022"', 'id = "mine"'), encoding="utf-8")
    assert load_rulebook(path).id == "mine"


def test_diff_names_the_rules_that_differ():
    a, b = load_rulebook("chongqing-2017"), load_rulebook("chongqing-2022")
    changes = {path: (x, y) for path, x, y in diff(a, b)}
    assert changes["loan.rate_basis"] == ("pboc_benchmark", "lpr_1y")
    assert "rulebook.notes" not in changes
    assert diff(a, a) == []
    assert all(re.match(r"^[a-z_]+(\.[a-z_0-9]+)*$", p) for p in changes)


def test_money_is_yuan_written_fen_read():
    rb = load_rulebook("chongqing-2022")
    assert rb.loan.max_amount_fen == 5_000_000_00
    assert rb.fund.cap_per_loan_fen is None
