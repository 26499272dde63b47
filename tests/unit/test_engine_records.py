"""One enterprise record: the values people write become exact internal units (money in fen,
counts, 0/1 flags), and every invalid value is a bilingual problem naming its field.
"""

from __future__ import annotations

import pytest
from engine_support import enterprise, make_uscc

from kvcredit.scoring.records import RecordError, normalize_record

MONEY = [
    # written, fen
    ("200000000.00", 20_000_000_000),
    ("200000000.01", 20_000_000_001),
    (200000000.01, 20_000_000_001),  # a double from Excel keeps the fen it shows
    ("1,234.5", 123_450),
    ("1，234.50", 123_450),
    ("1e3", 100_000),
    (0.1, 10),
    ("0", 0),
    (12, 1_200),
    ("1000000000000", 10**14),  # the largest amount accepted
]


@pytest.mark.parametrize(("written", "fen"), MONEY)
def test_money_becomes_exact_fen(written, fen):
    assert normalize_record(enterprise(revenue=written))["revenue"] == fen


FLAGS = [
    (True, 1),
    (False, 0),
    ("是", 1),
    ("否", 0),
    ("true", 1),
    ("FALSE", 0),
    ("1", 1),
    (0, 0),
    ("yes", 1),
]


@pytest.mark.parametrize(("written", "flag"), FLAGS)
def test_flags_accept_true_false_one_zero_and_chinese(written, flag):
    assert normalize_record(enterprise(high_tech_certified=written))["high_tech_certified"] == flag


PROBLEMS = [
    # field, written, problem code
    ("revenue", "0.001", "too_many_decimals"),
    ("revenue", "-1", "negative"),
    ("revenue", "1000000000000.01", "too_large"),
    ("revenue", "about ten", "not_number"),
    ("revenue", "", "required"),
    ("revenue", None, "required"),
    ("ip_invention", "3.5", "not_integer"),
    ("ip_invention", True, "not_number"),
    ("ip_invention", "-2", "negative"),
    ("high_tech_certified", "maybe", "not_flag"),
    ("uscc", "91500000MA5U00000X", "uscc_check"),
    ("uscc", "91500000MA5U0000", "uscc_length"),
    ("uscc", "91500000MA5U0000I0", "uscc_chars"),
    ("tech_staff", 101, "tech_gt_total"),
]


@pytest.mark.parametrize(("field", "written", "code"), PROBLEMS)
def test_an_invalid_value_is_a_problem_naming_its_field_in_both_languages(field, written, code):
    with pytest.raises(RecordError) as caught:
        normalize_record(enterprise(**{field: written}))
    [problem] = caught.value.problems
    assert (problem.field, problem.code) == (field, code)
    assert problem.message_zh and problem.message_en


def test_every_problem_in_a_record_is_reported_at_once():
    with pytest.raises(RecordError) as caught:
        normalize_record(enterprise(revenue="-1", ip_design="x", major_incident="?"))
    fields = {p.field for p in caught.value.problems}
    assert fields == {"revenue", "ip_design", "major_incident"}


def test_optional_fields_default_to_zero_and_unknown_keys_are_ignored():
    rec = normalize_record(enterprise(trademarks=9))
    assert rec["ip_other_class1"] == 0
    assert rec["revenue_prev"] == 0
    assert rec["high_growth"] == 0
    assert rec["industry"] == ""
    assert "trademarks" not in rec


def test_chinese_headers_with_a_bom_map_to_fields():
    data = {
        "\ufeff统一社会信用代码": make_uscc(3).lower(),
        "企业名称": "重庆测试科技有限公司",
        "所属区县": " 渝北区 ",
        "职工总数": 10,
        "科技人员数": 3,
        "销售收入": "1000.00",
        "成本费用总额": "900",
        "研发费用": "60",
        "资产总额": "500",
        "发明专利": 1,
        "实用新型专利": 0,
        "外观设计专利": 0,
        "软件著作权": 2,
        "集成电路布图设计": 0,
        "高新技术企业": "否",
        "近五年国家级科技奖励": "否",
        "省部级以上研发机构": "否",
        "近五年主导制定标准": "否",
        "经营异常名录": "否",
        "严重违法失信名单": "否",
        "重大安全质量事故": "否",
    }
    rec = normalize_record(data)
    assert rec["uscc"] == make_uscc(3)
    assert rec["district"] == "渝北区"
    assert (rec["revenue"], rec["rd_expense"], rec["ip_software_copyright"]) == (100_000, 6_000, 2)
