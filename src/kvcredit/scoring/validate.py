"""Vectorised validation of whole columns: the rules of ``kvcredit.scoring.records``, per column.

Every cell gets exactly the decision ``records.parse_value`` gives it (tests keep them equal):
plain ASCII cells, the overwhelming majority, are decided with Polars and NumPy on exact
integers; the rare exotic cells (non-ASCII digits or spaces, more than 18 significant digits,
huge exponents) are decided by ``parse_value`` itself, once per distinct value.

A column check returns the parsed values (a placeholder where the cell is wrong) and a list of
problem frames with the columns ``_i`` (row index), ``order``, ``field``, ``code`` and the
message parameters as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from kvcredit.scoring.fields import MAX_COUNT, MAX_MONEY_FEN, Field, Kind, is_textual
from kvcredit.scoring.problems import ORDER_USCC, Problems, order_of
from kvcredit.scoring.records import _P, FALSE_WORDS, MAX_TEXT, TRUE_WORDS, blank_value, parse_value

# Exactly the characters ``str.strip()`` removes (``str.isspace()``); a test checks the list.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# sign, integer digits, fraction digits, exponent; Python's ``$`` also matches before a final \n
NUMBER = r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\n?$"
MAX_DIGITS = 18  # significant digits decided in int64; longer numbers go to parse_value
POW10 = np.array([10**k for k in range(MAX_DIGITS + 1)], dtype=np.int64)
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


def _np(s: pl.Series, fill: Any = False) -> Any:
    return s.fill_null(fill).to_numpy()


def as_cells(s: pl.Series) -> pl.Series:
    """A typed column as the strings ``parse_value`` would read: floats keep 15 digits."""
    if s.dtype == pl.String:
        return s
    if s.dtype.is_float():
        uniq = s.drop_nulls().unique().to_list()
        mapping = {v: format(v, ".15g") for v in uniq}
        return s.replace_strict(mapping, default=None, return_dtype=pl.String)
    if s.dtype == pl.Boolean:
        return s.replace_strict({True: "True", False: "False"}, return_dtype=pl.String)
    return s.cast(pl.String)


def blank_of(cells: pl.Series) -> B:
    return np.asarray(_np(cells.str.strip_chars(WHITESPACE) == "", True), dtype=bool)


def _python_cells(f: Field, cells: pl.Series, mask: B, out: Problems) -> dict[str, int | str]:
    """Decide the cells under ``mask`` with ``parse_value``, once per distinct value."""
    idx = np.flatnonzero(mask)
    sub = cells.gather(idx)
    good: dict[str, int | str] = {}
    bad: dict[str, Any] = {}
    for value in sub.unique().to_list():
        try:
            good[value] = parse_value(f.name, value, f)
        except _P as exc:
            bad[value] = exc.problem
    rows = [(int(i), bad[v]) for i, v in zip(idx, sub.to_list(), strict=True) if v in bad]
    out.add_problems(rows, order_of(f))
    return good


def _required(f: Field, blank: B, out: Problems) -> None:
    if f.required:
        out.add(np.flatnonzero(blank), f.name, "required", order_of(f))


@dataclass(frozen=True)
class _Decision:
    value: I64  # internal units where ok
    negative: B
    fraction: B  # not whole (counts) or finer than the fen (money)
    large: B

    @property
    def ok(self) -> B:
        return ~self.negative & ~self.fraction & ~self.large


def _exact(m: I64, nd: I64, s: I64, minus: B, money: bool) -> _Decision:
    """The number ``(-1 if minus) * m * 10**-s`` (m < 10**18 with nd digits), decided exactly.

    ``s`` counts from the internal unit (the fen for money). Checks in ``parse_value``'s order.
    """
    zero = m == 0
    neg = minus & ~zero
    sp = np.clip(s, 0, MAX_DIGITS)
    whole = zero | (s <= 0) | ((s <= MAX_DIGITS) & (m % POW10[sp] == 0))
    limit, limit_digits = (MAX_MONEY_FEN, 15) if money else (MAX_COUNT, 10)
    big = ~zero & (s < 0) & (nd - s > limit_digits)
    k = np.clip(-s, 0, limit_digits)
    value = np.where(s > 0, m // POW10[sp], np.where(big, 0, m * POW10[k]))
    large = ~neg & whole & (big | (value > limit))
    return _Decision(value.astype(np.int64), neg, ~neg & ~whole, large)


def _report(
    f: Field, d: _Decision, within: B, display: Callable[[I64], pl.Series], out: Problems
) -> None:
    frac_code = "too_many_decimals" if f.kind is Kind.MONEY else "not_integer"
    out.add(np.flatnonzero(within & d.negative), f.name, "negative", order_of(f))
    for mask, code in ((d.fraction, frac_code), (d.large, "too_large")):
        idx = np.flatnonzero(within & mask)
        text = display(idx).str.slice(0, 40)
        out.add(idx, f.name, code, order_of(f), aligned=True, value=text)


def _digits(m: I64) -> I64:
    """Number of decimal digits of each non-negative m (0 has none)."""
    return np.searchsorted(POW10, m, side="right").astype(np.int64)


def _decimal_numbers(f: Field, raw: pl.Series, out: Problems) -> pl.Series:
    """A Decimal column (Parquet): unscaled integers straight from the Arrow buffers."""
    arr = raw.to_arrow()
    arr = arr.combine_chunks() if hasattr(arr, "combine_chunks") else arr
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)[2 * arr.offset :][: 2 * len(arr)]
    low, high = words[0::2], words[1::2]
    present = _np(raw.is_not_null())
    _required(f, ~present, out)
    fits = present & (high == (low >> 63)) & (low != np.iinfo(np.int64).min)
    m = np.where(fits, np.abs(np.where(fits, low, 0)), 0)
    scale = raw.dtype.scale  # type: ignore[attr-defined]
    s = np.full(len(raw), scale - (2 if f.kind is Kind.MONEY else 0), dtype=np.int64)
    d = _exact(m, _digits(m), s, low < 0, f.kind is Kind.MONEY)
    _report(f, d, fits, lambda idx: raw.gather(idx).cast(pl.String), out)
    value = np.where(fits & d.ok, d.value, 0)
    slow = present & ~fits
    if slow.any():
        value = _python_numbers(f, raw.cast(pl.String), slow, value, out)
    return pl.Series(f.name, value, dtype=pl.Int64)


def _python_numbers(f: Field, cells: pl.Series, slow: B, value: I64, out: Problems) -> I64:
    good = _python_cells(f, cells, slow, out)
    idx = np.flatnonzero(slow)
    picked = [good.get(v, 0) for v in cells.gather(idx).to_list()]
    value = value.copy()
    value[idx] = np.asarray(picked, dtype=np.int64)
    return value


def check_number(f: Field, raw: pl.Series, out: Problems) -> pl.Series:
    """A money (fen) or count column; problems go to ``out``."""
    if raw.dtype.is_integer() and raw.dtype != pl.UInt64:
        return _integer_numbers(f, raw, out)
    if isinstance(raw.dtype, pl.Decimal):
        return _decimal_numbers(f, raw, out)
    if raw.dtype == pl.Boolean:
        _required(f, _np(raw.is_null()), out)
        bad = np.flatnonzero(_np(raw.is_not_null()))
        out.add(bad, f.name, "not_number", order_of(f), value=as_cells(raw))
        return pl.Series(f.name, np.zeros(len(raw), dtype=np.int64))
    cells = as_cells(raw)
    blank = blank_of(cells)
    _required(f, blank, out)
    t = cells.str.strip_chars(WHITESPACE).str.replace_all(",", "", literal=True)
    g = t.str.extract_groups(NUMBER).struct
    frac = g.field("3").fill_null("")
    digits = g.field("2").fill_null("") + frac
    ascii_ = _np(~cells.str.contains(r"[^\x00-\x7f]"), True)
    notnum = ~blank & ascii_ & ~(_np(g.field("1").is_not_null()) & _np(digits != ""))
    out.add(np.flatnonzero(notnum), f.name, "not_number", order_of(f), value=cells.str.slice(0, 40))
    digits = digits.str.strip_chars_start("0")
    nd = _np(digits.str.len_bytes(), 0).astype(np.int64)
    exp_ok = _np(g.field("4").str.len_bytes() <= 7, True)
    decided = ~blank & ascii_ & ~notnum & exp_ok & (nd <= MAX_DIGITS)
    m = np.where(decided, _np(digits.replace("", "0").cast(pl.Int64, strict=False), 0), 0)
    e = _np(g.field("4").cast(pl.Int64, strict=False), 0).astype(np.int64)
    s = _np(frac.str.len_bytes(), 0).astype(np.int64) - e - (2 if f.kind is Kind.MONEY else 0)
    d = _exact(m.astype(np.int64), nd, s, _np(g.field("1") == "-"), f.kind is Kind.MONEY)
    _report(f, d, decided, cells.gather, out)
    value = np.where(decided & d.ok, d.value, 0)
    slow = ~blank & ~notnum & ~decided
    if slow.any():
        value = _python_numbers(f, cells, slow, value, out)
    return pl.Series(f.name, value, dtype=pl.Int64)


def _integer_numbers(f: Field, raw: pl.Series, out: Problems) -> pl.Series:
    v = raw.cast(pl.Int64)
    arr = _np(v, 0).astype(np.int64)
    blank = _np(v.is_null())
    _required(f, blank, out)
    money = f.kind is Kind.MONEY
    neg = arr < 0
    large = ~neg & (arr > (MAX_MONEY_FEN // 100 if money else MAX_COUNT))
    out.add(np.flatnonzero(neg), f.name, "negative", order_of(f))
    out.add(np.flatnonzero(large), f.name, "too_large", order_of(f), value=v.cast(pl.String))
    value = np.where(neg | large, 0, arr * (100 if money else 1))
    return pl.Series(f.name, value, dtype=pl.Int64)


def check_flag(f: Field, raw: pl.Series, out: Problems) -> pl.Series:
    """A flag column as 0/1."""
    if raw.dtype == pl.Boolean:
        _required(f, _np(raw.is_null()), out)
        return raw.cast(pl.Int64).fill_null(0).alias(f.name)
    cells = as_cells(raw) if raw.dtype != pl.String else raw
    blank = blank_of(cells)
    _required(f, blank, out)
    if raw.dtype.is_numeric():
        num = raw.cast(pl.Float64) if not raw.dtype.is_integer() else raw
        true, false = _np(num == 1), _np(num == 0)
        cells = raw.cast(pl.String)
    else:
        word = cells.str.strip_chars(WHITESPACE).str.to_lowercase()
        true = _np(word.is_in(sorted(TRUE_WORDS)))
        false = _np(word.is_in(sorted(FALSE_WORDS)))
    bad = ~blank & ~true & ~false
    out.add(np.flatnonzero(bad), f.name, "not_flag", order_of(f), value=cells.str.slice(0, 40))
    return pl.Series(f.name, np.where(true, 1, 0), dtype=pl.Int64)


def check_text(f: Field, raw: pl.Series, out: Problems) -> pl.Series:
    """A text column, stripped (the USCC upper-cased); non-ASCII USCCs go to parse_value."""
    cells = as_cells(raw)
    blank = blank_of(cells)
    _required(f, blank, out)
    text = cells.str.strip_chars(WHITESPACE)
    slow = np.zeros(len(cells), dtype=bool)
    if f.name == "uscc":
        slow = ~blank & _np(cells.str.contains(r"[^\x00-\x7f]"))
        text = text.str.to_uppercase()
    long_ = ~blank & ~slow & _np(text.str.len_chars() > MAX_TEXT)
    ctrl = ~blank & ~slow & ~long_ & _np(text.str.contains(r"[\x00-\x1f]"))
    out.add(np.flatnonzero(long_), f.name, "text_too_long", order_of(f), max=MAX_TEXT)
    out.add(np.flatnonzero(ctrl), f.name, "bad_text", order_of(f))
    text = text.fill_null("")
    if slow.any():
        good = _python_cells(f, cells, slow, out)
        idx = pl.Series(np.flatnonzero(slow))
        text = text.scatter(idx, [str(good.get(v, "")) for v in cells.gather(idx).to_list()])
    return text.alias(f.name)


def check_declared(f: Field, raw: pl.Series, out: Problems) -> pl.Series:
    """A column of a policy's declared field: every distinct cell decided by ``parse_value``
    (bounds, defaults, categories and dates included), blanks by the required rule."""
    cells = as_cells(raw)
    blank = blank_of(cells)
    _required(f, blank, out)
    good = _python_cells(f, cells, ~blank, out)
    fill = blank_value(f)
    textual = is_textual(f)
    values = [
        fill if b else good.get(v, "" if textual else 0)
        for v, b in zip(cells.to_list(), blank.tolist(), strict=True)
    ]
    return pl.Series(f.name, values, dtype=pl.String if textual else pl.Int64)


def check_column(f: Field, raw: pl.Series | None, n: int, out: Problems) -> pl.Series:
    """Dispatch on the field's kind; an absent (optional) column reads as its default (0,
    false, empty or no date)."""
    if raw is None:
        fill = blank_value(f)
        return pl.Series(f.name, [fill] * n, dtype=pl.String if is_textual(f) else pl.Int64)
    if f.declared:
        return check_declared(f, raw, out)
    if f.kind is Kind.TEXT:
        return check_text(f, raw, out)
    if f.kind is Kind.FLAG:
        return check_flag(f, raw, out)
    return check_number(f, raw, out)


__all__ = ["ORDER_USCC", "WHITESPACE", "as_cells", "check_column"]
