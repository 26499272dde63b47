"""The enterprise data dictionary, Chinese header aliases and the USCC check (GB 32100-2015).

Internal representation, shared by both evaluation paths: money as integer fen, counts as
integers, flags as 0/1, text as str. See docs/data-dictionary.md for the table users read.

A policy may declare fields of its own (``[[fields]]``, see docs/policy-language.md); they are
``Field`` values with ``declared`` set, three more kinds (ratio, category, date), optional
bounds and a default, and they flow through the same readers and both evaluation paths.
Internally a ratio is an integer in millionths (``RATIO_SCALE``) and a date the number of days
since 1970-01-01, ``NO_DATE`` when it is not given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    MONEY = "money"  # yuan in files, integer fen inside
    COUNT = "count"  # non-negative integer
    FLAG = "flag"  # true/false, 1/0, 是/否
    RATIO = "ratio"  # a plain fraction (0.553), integer millionths inside (declared fields)
    CATEGORY = "category"  # one of a list of allowed values (declared fields)
    DATE = "date"  # 2024-05-31, days since 1970-01-01 inside (declared fields)


@dataclass(frozen=True)
class Field:
    name: str
    zh: str
    kind: Kind
    required: bool
    en: str
    # Declared by a policy ([[fields]]): description, bounds (internal units), default, values.
    declared: bool = False
    en_zh: str = ""
    lo: int | None = None
    hi: int | None = None
    default: int | str | None = None
    values: tuple[str, ...] = ()
    order: int = -1  # where its problems are reported (after the dictionary fields)


FIELDS: tuple[Field, ...] = (
    Field("uscc", "统一社会信用代码", Kind.TEXT, True, "unified social credit code"),
    Field("name", "企业名称", Kind.TEXT, True, "registered name"),
    Field("district", "所属区县", Kind.TEXT, True, "district name or code"),
    Field("total_staff", "职工总数", Kind.COUNT, True, "all staff"),
    Field("tech_staff", "科技人员数", Kind.COUNT, True, "technology staff"),
    Field("revenue", "销售收入", Kind.MONEY, True, "last year's sales revenue"),
    Field("total_costs", "成本费用总额", Kind.MONEY, True, "last year's total costs and expenses"),
    Field("rd_expense", "研发费用", Kind.MONEY, True, "last year's R&D expense"),
    Field("total_assets", "资产总额", Kind.MONEY, True, "total assets"),
    Field("ip_invention", "发明专利", Kind.COUNT, True, "valid invention patents"),
    Field("ip_utility_model", "实用新型专利", Kind.COUNT, True, "utility models"),
    Field("ip_design", "外观设计专利", Kind.COUNT, True, "design patents"),
    Field("ip_software_copyright", "软件著作权", Kind.COUNT, True, "software copyrights"),
    Field("ip_ic_layout", "集成电路布图设计", Kind.COUNT, True, "IC layout designs"),
    Field(
        "high_tech_certified", "高新技术企业", Kind.FLAG, True, "High-Tech Enterprise certificate"
    ),
    Field("national_sci_award_5y", "近五年国家级科技奖励", Kind.FLAG, True, "national S&T award"),
    Field(
        "provincial_rd_center", "省部级以上研发机构", Kind.FLAG, True, "provincial R&D institution"
    ),
    Field("led_standard_5y", "近五年主导制定标准", Kind.FLAG, True, "led a standard"),
    Field("abnormal_operation", "经营异常名录", Kind.FLAG, True, "abnormal-operation list"),
    Field("serious_dishonesty", "严重违法失信名单", Kind.FLAG, True, "serious-dishonesty list"),
    Field("major_incident", "重大安全质量事故", Kind.FLAG, True, "major incident or misconduct"),
    # Extended fields (optional; an absent column or a blank cell reads as 0 / false / empty).
    Field("ip_other_class1", "其他I类知识产权", Kind.COUNT, False, "other class-I IP"),
    # (end of extended IP) (optional; an absent column or a blank cell reads as 0 / false / empty).
    Field("revenue_prev", "上年销售收入", Kind.MONEY, False, "sales revenue of the year before"),
    Field("tax_paid", "纳税总额", Kind.MONEY, False, "taxes paid last year"),
    Field("doctorate_staff", "博士人数", Kind.COUNT, False, "staff holding a doctorate"),
    Field("new_products", "新产品数", Kind.COUNT, False, "innovative products launched"),
    Field("specialized_sme", "专精特新企业", Kind.FLAG, False, "专精特新 (specialised) status"),
    Field("high_growth", "高成长企业", Kind.FLAG, False, "registered high-growth firm"),
    Field("credit_default_3y", "近三年信贷违约", Kind.FLAG, False, "bank loan default in 3 years"),
    Field("industry", "所属行业", Kind.TEXT, False, "industry"),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
BY_HEADER: dict[str, Field] = {**{f.zh: f for f in FIELDS}, **BY_NAME}
NUMERIC_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind is not Kind.TEXT)
MONEY_FIELDS: frozenset[str] = frozenset(f.name for f in FIELDS if f.kind is Kind.MONEY)

# Largest amount accepted in a money field: one trillion yuan (keeps exact int64 arithmetic).
MAX_MONEY_FEN = 10**14
# Largest count accepted in a count field.
MAX_COUNT = 10**9
# A ratio field: millionths inside; at most a million in magnitude (10**12 millionths).
RATIO_SCALE = 10**6
MAX_RATIO = 10**12
# A date field: days since 1970-01-01; NO_DATE when the value is not given (never compared).
NO_DATE = -(2**40)
SCALE: dict[Kind, int] = {Kind.MONEY: 100, Kind.RATIO: RATIO_SCALE}

# GB 32100-2015: the code's character set (no I, O, S, V, Z) and the weights of positions 1-17.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a USCC."""
    total = sum(USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def scale_of(f: Field) -> int:
    """Internal units per user unit: 100 for money (fen), 10**6 for ratios, else 1."""
    return SCALE.get(f.kind, 1)


def max_of(f: Field) -> int:
    """The largest magnitude an internal value of ``f`` can have."""
    limit = {Kind.MONEY: MAX_MONEY_FEN, Kind.COUNT: MAX_COUNT, Kind.FLAG: 1, Kind.RATIO: MAX_RATIO}
    top = limit.get(f.kind, 0)
    bounds = [abs(b) for b in (f.lo, f.hi) if b is not None]
    return min(top, max(bounds)) if f.hi is not None and f.lo is not None else top


def is_textual(f: Field) -> bool:
    """Text and category fields hold strings; every other kind an integer."""
    return f.kind in (Kind.TEXT, Kind.CATEGORY)
