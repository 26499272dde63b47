"""One enterprise record: parsing values people write into internal units, with clear errors.

Internal units: money as integer fen, counts as int, flags as 0/1, text as str. The same rules
are applied, vectorised, by ``kvcredit.scoring.io`` to whole files; a test keeps them equal.
Every problem is a ``Problem`` with a code, the field, and a message in Chinese and English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    USCC_VALUE,
    Kind,
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
}
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


def parse_value(name: str, raw: Any) -> int | str:
    """Parse one value of field ``name`` (blank allowed only for optional fields)."""
    f = BY_NAME[name]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if f.required:
            raise _P(name, "required")
        return "" if f.kind is Kind.TEXT else 0
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


def normalize_record(data: Mapping[str, Any]) -> dict[str, int | str]:
    """Map English names or Chinese headers to fields, parse every value, check the record."""
    by_field: dict[str, Any] = {}
    for key, raw in data.items():
        f = BY_HEADER.get(str(key).strip().lstrip("\ufeff"))
        if f is not None:
            by_field[f.name] = raw
    out: dict[str, int | str] = {}
    problems: list[Problem] = []
    for f in FIELDS:
        try:
            out[f.name] = parse_value(f.name, by_field.get(f.name))
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
