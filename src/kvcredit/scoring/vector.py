"""Evaluate many enterprises at once (the vectorised path), with NumPy on exact integers.

Same semantics as ``kvcredit.scoring.engine.core``, one array operation per threshold instead of
one Python step per row. Input: a Polars frame of internal units (fen, counts, 0/1 flags, text),
as ``kvcredit.scoring.io`` produces. Output: a Polars frame with uscc, eligible, score, grade,
credit_limit, qualified_by, knocked_out_by and, with ``explain``, each indicator's points.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from kvcredit.errors import EvaluationError
from kvcredit.scoring.compiled import (
    AllTest,
    AnyTest,
    CBanded,
    Compare,
    CompiledPolicy,
    CRule,
    DateTest,
    NotTest,
    ScoreTest,
    Test,
    date_days,
)
from kvcredit.scoring.engine import window_start
from kvcredit.scoring.fields import NO_DATE, Field, is_textual
from kvcredit.scoring.policy import Policy
from kvcredit.scoring.records import blank_value

CHUNK_ROWS = 131_072
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
_OPS = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
    "==": np.equal,
    "!=": np.not_equal,
}


class _Columns:
    """Field arrays and cached derived quantities for one batch."""

    def __init__(
        self,
        frame: pl.DataFrame,
        fields: tuple[str, ...],
        field_of: Mapping[str, Field],
        on: int | None = None,
    ) -> None:
        self.n = frame.height
        self.frame = frame
        self.on = on
        self.arrays: dict[str, Any] = {}
        for name in fields:
            if name not in frame.columns:  # an optional field left out reads as its default
                f = field_of[name]
                if f.required:
                    raise EvaluationError(f"the enterprise data has no column {name!r}")
                blank = blank_value(f)
                self.arrays[name] = (
                    pl.Series(name, [str(blank)] * self.n, dtype=pl.String)
                    if is_textual(f)
                    else np.full(self.n, int(blank), dtype=np.int64)
                )
                continue
            s = frame.get_column(name)
            self.arrays[name] = s if s.dtype == pl.String else s.cast(pl.Int64).to_numpy()
        self.cache: dict[str, tuple[Any, Any]] = {}

    def linear(self, terms: tuple[tuple[int, str], ...], wide: bool) -> Any:
        out: Any = None
        for coef, name in terms:
            arr = self.arrays[name].astype(object) if wide else self.arrays[name]
            term = arr if coef == 1 else arr * coef
            out = term if out is None else out + term
        return out

    def ratio(self, t: Compare) -> tuple[Any, Any]:
        key = f"{t.quantity.name}:{t.wide}"
        if key not in self.cache:
            q = t.quantity
            n = self.linear(q.num.terms, t.wide)
            d = self.linear(q.den.terms, t.wide) if q.den else None
            if d is not None and q.den and any(c < 0 for c, _ in q.den.terms):
                neg = d < 0
                n, d = np.where(neg, -n, n), np.where(neg, -d, d)
            self.cache[key] = (n, d)
        return self.cache[key]


def _compare(t: Compare, cols: _Columns, *, masked: bool = True) -> B:
    """Exact ``N * a <op> D * b``; rows with D == 0 are False unless ``masked`` is off."""
    n, d = cols.ratio(t)
    lhs = n if t.a == 1 else n * t.a
    if d is None:
        return np.asarray(_OPS[t.op](lhs, t.b), dtype=bool)
    rhs = d if t.b == 1 else d * t.b
    out = np.asarray(_OPS[t.op](lhs, rhs), dtype=bool)
    return out & (d != 0) if masked else out


def _date(t: DateTest, cols: _Columns) -> B:
    day = cols.arrays[t.field]
    present = day != NO_DATE
    if t.op != "within":
        return np.asarray(present & _OPS[t.op](day, t.days), dtype=bool)
    if cols.on is None:
        raise EvaluationError("a date window needs the evaluation date (on=...)")
    start = window_start(cols.on, t)
    return np.asarray(present & (day >= start) & (day <= cols.on), dtype=bool)


def _test(t: Test, cols: _Columns, scores: dict[str, Any] | None = None) -> B:
    if isinstance(t, Compare):
        return _compare(t, cols)
    if isinstance(t, AnyTest | AllTest):
        parts = [_test(sub, cols, scores) for sub in t.tests]
        join = np.logical_or if isinstance(t, AnyTest) else np.logical_and
        return np.asarray(join.reduce(parts), dtype=bool)
    if isinstance(t, NotTest):
        return ~_test(t.test, cols, scores)
    if isinstance(t, DateTest):
        return _date(t, cols)
    if isinstance(t, ScoreTest):
        assert scores is not None, "score tests need the scores"
        key = "score" if t.target == "score" else f"{t.target}.{t.key}"
        scale = scores[f"scale.{t.target}"]
        th = t.threshold
        return np.asarray(_OPS[t.op](scores[key] * th.denominator, th.numerator * scale))
    key = f"text:{t.field}:{sorted(t.values)}"
    if key not in cols.cache:
        series: pl.Series = cols.arrays[t.field]
        cols.cache[key] = (series.is_in(sorted(t.values)).fill_null(False).to_numpy(), None)
    hit = cols.cache[key][0]
    return np.asarray(~hit if t.negate else hit, dtype=bool)


def _rule(rule: CRule, cols: _Columns, scores: dict[str, Any] | None = None) -> B:
    if len(rule.tests) == 1:
        return _test(rule.tests[0], cols, scores)
    ok = np.ones(cols.n, dtype=bool)
    for t in rule.tests:
        ok &= _test(t, cols, scores)
    return ok


def _banded(alt: CBanded, cols: _Columns) -> I64:
    """Points of one banded alternative: count the edges met, then look the band up."""
    table = np.array([0, *reversed(alt.points)], dtype=np.int64)
    _, d = cols.ratio(alt.edges[0])
    count8 = np.zeros(cols.n, dtype=np.uint8)
    for edge in alt.edges:
        count8 += _compare(edge, cols, masked=False)
    points = table[count8]
    if d is not None:
        points = np.where(d == 0, alt.if_undefined, points)
    return np.asarray(points, dtype=np.int64)


def _scores(c: CompiledPolicy, cols: _Columns) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    for ind in c.indicators:
        if ind.constant is not None:
            pts = np.full(cols.n, ind.constant, dtype=np.int64)
        elif ind.alternatives:
            pts = _banded(ind.alternatives[0], cols)
            for alt in ind.alternatives[1:]:
                pts = np.maximum(pts, _banded(alt, cols))
        else:
            pts = np.zeros(cols.n, dtype=np.int64)
            for rung in reversed(ind.rungs):  # the first rung that holds wins
                hit = _rule(CRule("", "", "", rung.tests), cols)
                pts = np.where(hit, rung.points, pts)
        scores[f"points.{ind.id}"] = pts.astype(np.int64)
    weights = {i.id: i.weight for i in c.indicators}
    total = np.zeros(cols.n, dtype=np.int64)
    for g in c.groups:
        s = np.zeros(cols.n, dtype=np.int64)
        for name in g.indicators:
            s += scores[f"points.{name}"] * weights[name]
        if g.cap is not None:
            s = np.minimum(s, g.cap)
        scores[f"group.{g.id}"] = s * g.weight
        total += s * g.weight
    scores["score"] = total
    scores["scale.points"] = c.points_scale
    scores["scale.group"] = scores["scale.score"] = c.score_scale
    return scores


def _bits(rules: tuple[CRule, ...], cols: _Columns, scores: dict[str, Any], hold: bool) -> Any:
    """Bit k set where rule k holds (``hold``) or fails; a Python-int column past 62 rules."""
    out: Any = np.zeros(cols.n, dtype=np.int64 if len(rules) < 63 else object)
    for k, r in enumerate(rules):
        ok = _rule(r, cols, scores)
        out |= (ok if hold else ~ok).astype(out.dtype) << k
    return out


@dataclass
class _Decision:
    grade: I64  # grade index; len(grades) means none
    qualified_by: I64  # 0 none, 1 score, 2 + k route k
    knocked: Any  # bit k: basic condition k failed
    failed_req: Any  # bit k: requirement k failed
    routes: Any  # bit k: route k holds
    uplifts: Any  # bit k: uplift k applied


def _decide(c: CompiledPolicy, cols: _Columns, scores: dict[str, Any]) -> _Decision:
    n_grades = len(c.grade_min)
    total = scores["score"]
    failed_req = _bits(c.requirements, cols, scores, hold=False)
    routes = _bits(c.routes, cols, scores, hold=True)
    req_ok = failed_req == 0
    met = np.zeros(cols.n, dtype=np.int64)
    for m in c.grade_min:
        met += total * m.denominator >= m.numerator * c.score_scale
    by_score = np.where(req_ok, n_grades - met, n_grades)
    graded = by_score < n_grades
    qby = np.where(graded, 1, 0)
    grade = by_score
    uplifts: Any = np.zeros(cols.n, dtype=np.int64)
    if c.graded:
        steps = np.zeros(cols.n, dtype=np.int64)
        for k, r in enumerate(c.uplifts):
            hit = _rule(r, cols, scores) & graded
            steps += hit * r.steps
            uplifts |= hit.astype(np.int64) << k
        if c.max_uplift is not None:
            steps = np.minimum(steps, c.max_uplift)
        grade = np.where(graded, np.maximum(0, by_score - steps), n_grades)
        for k, r in enumerate(c.routes):
            assert r.min_grade is not None
            better = _held(routes, k) & (r.min_grade < grade)
            grade = np.where(better, r.min_grade, grade)
            qby = np.where(better, 2 + k, qby)
    else:
        for k in reversed(range(len(c.routes))):
            use = _held(routes, k) & ~graded
            grade, qby = np.where(use, 0, grade), np.where(use, 2 + k, qby)
    failed = _bits(c.basic, cols, scores, hold=False)
    knocked = np.asarray(failed != 0, dtype=bool)
    grade = np.where(knocked, n_grades, grade)
    qby = np.where(knocked, 0, qby)
    return _Decision(
        grade.astype(np.int64), qby.astype(np.int64), failed, failed_req, routes, uplifts
    )


def _held(bits: Any, k: int) -> B:
    return np.asarray((bits >> k) & 1 == 1, dtype=bool)


def _decimal_series(name: str, scaled: I64, decimals: int) -> pl.Series:
    """Exact Decimal column from scaled int64, without going through floats."""
    scaled = np.ascontiguousarray(scaled, dtype=np.int64)
    buf = np.empty(2 * len(scaled), dtype=np.int64)
    buf[0::2], buf[1::2] = scaled, np.where(scaled < 0, -1, 0)
    arr = pa.Array.from_buffers(pa.decimal128(38, decimals), len(scaled), [None, pa.py_buffer(buf)])
    return pl.Series(name, arr)


def _labels(name: str, codes: I64, labels: Mapping[int, str | None]) -> pl.Series:
    """Each code's label: a gather from the small table of labels."""
    if len(codes) == 0:
        return pl.Series(name, [], dtype=pl.String)
    keys = sorted(labels)
    if keys[0] < 0 or keys[-1] >= _DENSE:  # pragma: no cover - codes are small bit sets
        return pl.Series(name, codes).replace_strict(labels, return_dtype=pl.String)
    lut = np.zeros(keys[-1] + 1, dtype=np.int32)
    lut[keys] = np.arange(len(keys), dtype=np.int32)
    table = pl.Series(name, [labels[k] for k in keys], dtype=pl.String)
    return table.gather(lut[codes])


_DENSE = 1 << 16


def _codes(bits: I64) -> list[int]:
    """The distinct values of small non-negative codes (a count per value, not a sort)."""
    if len(bits) and int(bits.max()) < _DENSE:  # the bits of at most 16 rules: never negative
        found: list[int] = np.flatnonzero(np.bincount(bits)).tolist()
        return found
    distinct: list[int] = np.unique(bits).tolist()
    return distinct


def _id_labels(name: str, rules: tuple[CRule, ...], bits: Any) -> pl.Series:
    """Comma-joined ids of the rules whose bit is set in each row ('' for none)."""
    ids = [r.id for r in rules]
    if len(ids) >= 63:  # Python-int bits: label row by row
        return pl.Series(
            name, [",".join(i for k, i in enumerate(ids) if int(b) >> k & 1) for b in bits]
        )
    if not ids:
        return pl.select(pl.repeat("", len(bits), dtype=pl.String).alias(name)).to_series()
    codes = _codes(np.asarray(bits, dtype=np.int64))
    labels: dict[int, str | None] = {
        code: ",".join(i for k, i in enumerate(ids) if code >> k & 1) for code in codes
    }
    return _labels(name, np.asarray(bits, dtype=np.int64), labels)


def evaluate_frame(
    policy: Policy,
    frame: pl.DataFrame,
    *,
    explain: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    on: dt.date | None = None,
    details: bool = False,
) -> pl.DataFrame:
    """Evaluate every row of a frame in internal units; one output row per input row.

    ``details`` (implied by ``explain``) adds each group's sub-score (``group.<id>``) and the
    comma-joined ids of the failed requirements, the routes that hold and the uplifts applied.
    ``on``: the evaluation date, needed by a policy with date windows. Large frames are cut
    into chunks (cache-sized arrays) evaluated on a thread per core: NumPy releases the GIL
    inside its loops, and rows are independent.
    """
    day = date_days(on) if on is not None else None
    if day is None and policy.compiled.uses_dates:
        raise EvaluationError("this policy tests dates within a window: give the evaluation date")
    more = explain or details
    if frame.height <= chunk_rows:
        return _evaluate_chunk(policy, frame, explain, day, more)
    parts = [frame.slice(k, chunk_rows) for k in range(0, frame.height, chunk_rows)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(
            pool.map(lambda part: _evaluate_chunk(policy, part, explain, day, more), parts)
        )
    return pl.concat(results, rechunk=False)


def _evaluate_chunk(
    policy: Policy, frame: pl.DataFrame, explain: bool, on: int | None, details: bool
) -> pl.DataFrame:
    c = policy.compiled
    cols = _Columns(frame, c.fields_used, c.field_of, on)
    scores = _scores(c, cols)
    d = _decide(c, cols, scores)
    grade, qby = d.grade, d.qualified_by
    n_grades = len(c.grade_min)
    n = cols.n
    out: list[pl.Series] = [
        frame.get_column("uscc") if "uscc" in frame.columns else pl.Series("uscc", [None] * n),
        pl.Series("eligible", grade < n_grades),
        _decimal_series("score", scores["score"], c.score_decimals),
    ]
    if c.graded:
        out.append(_labels("grade", grade, {**dict(enumerate(c.grade_names)), n_grades: None}))
        limits = np.array([*c.grade_limit_fen, 0], dtype=np.int64)[grade]
        out.append(_decimal_series("credit_limit", limits, 2))
    else:
        out.append(pl.Series("grade", [None] * n, dtype=pl.String))
        out.append(pl.Series("credit_limit", [None] * n, dtype=pl.Decimal(38, 2)))
    routes = {0: "", 1: "score", **{2 + k: r.id for k, r in enumerate(c.routes)}}
    out.append(_labels("qualified_by", qby, routes))
    out.append(_id_labels("knocked_out_by", c.basic, d.knocked))
    if details:
        out.append(_id_labels("failed_requirements", c.requirements, d.failed_req))
        out.append(_id_labels("routes", c.routes, d.routes))
        out.append(_id_labels("uplifts", c.uplifts, d.uplifts))
        out += [
            _decimal_series(f"group.{g.id}", scores[f"group.{g.id}"], c.score_decimals)
            for g in c.groups
        ]
    if explain:
        digits = len(str(c.points_scale)) - 1
        out += [
            _decimal_series(f"points.{i.id}", scores[f"points.{i.id}"], digits)
            for i in c.indicators
        ]
    result = pl.DataFrame(out)
    return result.with_columns(
        pl.lit(policy.id).alias("policy_id"),
        pl.lit(policy.version).alias("policy_version"),
        pl.lit(policy.content_hash).alias("policy_hash"),
    )
