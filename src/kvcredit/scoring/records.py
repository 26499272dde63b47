"""One enterprise record: parsing values people write into internal units, with clear errors.

Internal units: money as integer fen, counts as int, flags as 0/1, text as str. The same rules
are applied, vectorised, by ``kvcredit.scoring.io`` to whole files; a test keeps them equal.
Every problem is a ``Problem`` with a code, the field, and a message in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation, Overflow
from typing import Any

from kvcredit.errors import KvcreditError
from kvcredit.scoring.fields import (
    BY_HEADER,
    BY_NAME,
    FIELDS,
    MAX_COUNT,
    MAX_MONEY_FEN,
    MAX_RATIO,
    NO_DATE,
    RATIO_SCALE,
    USCC_VALUE,
    Field,
    Kind,
    scale_of,
    uscc_check_char,
)

Record = Mapping[str, int | str]

TRUE_WORDS = frozenset({"true", "1", "是", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "否", "no", "n", "f"})
NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必填项为空", "required value is missing"),
    "not_number": ("不是数字：{value}", "not a number: {value}"),
    "negative": ("不能为负数", "must not be negative"),
    "not_integer": ("必须为整数：{value}", "must be a whole number: {value}"),
    "too_many_decimals": ("金额最多两位小数：{value}", "at most two decimal places: {value}"),
    "too_large": ("数值过大：{value}", "value too large: {value}"),
    "not_flag": (
        "应为 是/否、true/false 或 1/0：{value}",
        "must be true/false, 1/0 or 是/否: {value}",
    ),
    "uscc_length": (
        "统一社会信用代码应为18位，实际{length}位",
        "USCC must be 18 characters, got {length}",
    ),
    "uscc_chars": (
        "统一社会信用代码含非法字符：{chars}",
        "characters not allowed in a USCC: {chars}",
    ),
    "uscc_check": (
        "统一社会信用代码校验位错误：应为{expected}，实际为{actual}",
        "USCC check character is {actual}, expected {expected}",
    ),
    "tech_gt_total": (
        "科技人员数（{tech}）不能大于职工总数（{total}）",
        "tech_staff ({tech}) must not exceed total_staff ({total})",
    ),
    "duplicate": ("统一社会信用代码与第{first}行重复", "duplicate USCC, first seen on row {first}"),
    "text_too_long": ("文本过长（最多{max}字）", "text too long (at most {max} characters)"),
    "bad_text": ("含不可见控制字符", "contains control characters"),
    "ratio_decimals": ("比例最多六位小数：{value}", "at most six decimal places: {value}"),
    "below_min": ("不能小于{min}：{value}", "must be at least {min}: {value}"),
    "above_max": ("不能大于{max}：{value}", "must be at most {max}: {value}"),
    "not_allowed": ("应为以下之一：{values}；实际为：{value}", "must be one of {values}: {value}"),
    "not_date": (
        "不是日期（应写作 2024-05-31）：{value}",
        "not a date (write 2024-05-31): {value}",
    ),
}
DATE_TEXT_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
EPOCH = dt.date(1970, 1, 1)
MAX_TEXT = 200
# Exact arithmetic for yuan -> fen: no rounding to 28 digits, no underflow to zero.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    params: Mapping[str, Any]

    @property
    def message_zh(self) -> str:
        return MESSAGES[self.code][0].format(**self.params)

    @property
    def message_en(self) -> str:
        return MESSAGES[self.code][1].format(**self.params)


class RecordError(KvcreditError, ValueError):
    """A record is invalid; ``problems`` lists every field that is wrong."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message_en}" for p in problems))


def uscc_problem(code: str) -> Problem | None:
    if len(code) != 18:
        return Problem("uscc", "uscc_length", {"length": len(code)})
    bad = sorted({c for c in code if c not in USCC_VALUE})
    if bad:
        return Problem("uscc", "uscc_chars", {"chars": "".join(bad)})
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return Problem("uscc", "uscc_check", {"expected": expected, "actual": code[17]})
    return None


def _number(name: str, raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise _P(name, "not_number", value=raw)
    if isinstance(raw, float):  # Excel stores numbers as doubles: keep the 15 digits it shows
        raw = format(raw, ".15g")
    text = str(raw).strip().replace(",", "").replace("，", "")
    if not NUMBER_RE.match(text):
        raise _P(name, "not_number", value=str(raw)[:40])
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise _P(name, "not_number", value=str(raw)[:40]) from None


class _P(Exception):
    def __init__(self, name: str, code: str, **params: Any) -> None:
        self.problem = Problem(name, code, params)


def user_text(f: Field, internal: int) -> str:
    """An internal number of ``f`` as the user writes it (yuan, a fraction, a count)."""
    value = Decimal(internal) / scale_of(f)
    return f"{value.normalize():f}"


def date_text(days: int) -> str:
    return (EPOCH + dt.timedelta(days=days)).isoformat()


def shown_value(f: Field, value: int | str | None) -> str | int | bool | None:
    """A stored (internal) value as people read and write it: yuan or a fraction as text, a
    flag as true/false, a date as 2024-05-31 (None when not given), a count, a text."""
    if value is None or isinstance(value, str):
        return value
    if f.kind is Kind.FLAG:
        return bool(value)
    if f.kind is Kind.DATE:
        return None if value == NO_DATE else date_text(value)
    if f.kind in (Kind.MONEY, Kind.RATIO):
        return user_text(f, value)
    return value


def blank_value(f: Field) -> int | str:
    """What an absent or blank optional value reads as: its default, else 0, false, empty or
    no date."""
    if f.default is not None:
        return f.default
    if f.kind in (Kind.TEXT, Kind.CATEGORY):
        return ""
    return NO_DATE if f.kind is Kind.DATE else 0


def _date(name: str, raw: Any) -> int:
    if isinstance(raw, dt.datetime):
        if raw.time() != dt.time(0):
            raise _P(name, "not_date", value=str(raw)[:40])
        raw = raw.date()
    if isinstance(raw, dt.date):
        return (raw - EPOCH).days
    match = DATE_TEXT_RE.match(str(raw).strip())
    try:
        if match is None:
            raise ValueError
        y, m, d = (int(g) for g in match.groups())
        return (dt.date(y, m, d) - EPOCH).days
    except ValueError:
        raise _P(name, "not_date", value=str(raw)[:40]) from None


def _declared(f: Field, raw: Any) -> int | str:
    """The kinds only declared fields have (ratio, category, date), and bounds."""
    if f.kind is Kind.CATEGORY:
        text = str(raw).strip()
        if text not in f.values:
            raise _P(f.name, "not_allowed", values="/".join(f.values), value=text[:40])
        return text
    if f.kind is Kind.DATE:
        return _date(f.name, raw)
    value = _number(f.name, raw)
    scaled = _EXACT.multiply(value, RATIO_SCALE)
    if scaled != scaled.to_integral_value():
        raise _P(f.name, "ratio_decimals", value=str(raw)[:40])
    if abs(scaled) > MAX_RATIO:
        raise _P(f.name, "too_large", value=str(raw)[:40])
    return int(scaled)


def _bounded(f: Field, value: int | str, raw: Any) -> int | str:
    if isinstance(value, int):
        if f.lo is not None and value < f.lo:
            raise _P(f.name, "below_min", min=user_text(f, f.lo), value=str(raw)[:40])
        if f.hi is not None and value > f.hi:
            raise _P(f.name, "above_max", max=user_text(f, f.hi), value=str(raw)[:40])
    return value


def internal_value(f: Field, raw: Any) -> int | str | None:
    """``raw`` in ``f``'s internal units, or None when it is not a valid value."""
    try:
        return parse_value(f.name, raw, f)
    except _P:
        return None


def parse_value(name: str, raw: Any, field: Field | None = None) -> int | str:
    """Parse one value of field ``name`` (blank allowed only for optional fields)."""
    f = field or BY_NAME[name]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if f.required:
            raise _P(name, "required")
        return blank_value(f)
    if f.kind in (Kind.RATIO, Kind.CATEGORY, Kind.DATE):
        return _bounded(f, _declared(f, raw), raw)
    if f.declared:
        return _bounded(f, _dictionary_kind(name, f, raw), raw)
    return _dictionary_kind(name, f, raw)


def _dictionary_kind(name: str, f: Field, raw: Any) -> int | str:
    if f.kind is Kind.TEXT:
        text = str(raw).strip()
        if name == "uscc":
            text = text.upper()
        if len(text) > MAX_TEXT:
            raise _P(name, "text_too_long", max=MAX_TEXT)
        if any(ord(ch) < 32 for ch in text):
            raise _P(name, "bad_text")
        return text
    if f.kind is Kind.FLAG:
        word = str(raw).strip().lower() if not isinstance(raw, bool) else str(raw).lower()
        if isinstance(raw, int | float) and not isinstance(raw, bool) and raw in (0, 1):
            return int(raw)
        if word in TRUE_WORDS:
            return 1
        if word in FALSE_WORDS:
            return 0
        raise _P(name, "not_flag", value=str(raw)[:40])
    value = _number(name, raw)
    if value < 0:
        raise _P(name, "negative")
    if f.kind is Kind.COUNT:
        if value != value.to_integral_value():
            raise _P(name, "not_integer", value=str(raw)[:40])
        if value > MAX_COUNT:
            raise _P(name, "too_large", value=str(raw)[:40])
        return int(value)
    try:
        fen = _EXACT.multiply(value, 100)
    except Overflow:  # an exponent beyond any context: far too large
        raise _P(name, "too_large", value=str(raw)[:40]) from None
    if fen != fen.to_integral_value():
        raise _P(name, "too_many_decimals", value=str(raw)[:40])
    if fen > MAX_MONEY_FEN:
        raise _P(name, "too_large", value=str(raw)[:40])
    return int(fen)


def normalize_record(
    data: Mapping[str, Any], declared: Iterable[Field] = ()
) -> dict[str, int | str]:
    """Map English names or Chinese headers to fields, parse every value, check the record.

    ``declared``: the fields a policy declares (``Policy.declared``), read and checked too.
    """
    declared = tuple(declared)
    headers = {**BY_HEADER, **{f.zh: f for f in declared}, **{f.name: f for f in declared}}
    by_field: dict[str, Any] = {}
    for key, raw in data.items():
        f = headers.get(str(key).strip().lstrip("\ufeff"))
        if f is not None:
            by_field[f.name] = raw
    out: dict[str, int | str] = {}
    problems: list[Problem] = []
    for f in (*FIELDS, *declared):
        try:
            out[f.name] = parse_value(f.name, by_field.get(f.name), f)
        except _P as exc:
            problems.append(exc.problem)
    uscc = out.get("uscc")
    if isinstance(uscc, str) and uscc:
        p = uscc_problem(uscc)
        if p:
            problems.append(p)
    tech, total = out.get("tech_staff"), out.get("total_staff")
    if isinstance(tech, int) and isinstance(total, int) and tech > total:
        problems.append(Problem("tech_staff", "tech_gt_total", {"tech": tech, "total": total}))
    if problems:
        raise RecordError(problems)
    return out
