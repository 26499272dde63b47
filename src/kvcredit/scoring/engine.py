"""Evaluate one enterprise with a full explanation (the per-row path).

``evaluate_one`` takes a record in the units people write (yuan, counts, flags) and returns an
``Evaluation``: eligibility, score, grade, credit limit, which basic condition knocked it out,
which route qualified it, each indicator's input, band and points, and the smallest single-field
changes that would raise its grade. The vectorised path (``kvcredit.scoring.vector``) computes
the same results for a whole data frame; a test proves the two agree field by field.
"""

from __future__ import annotations

import calendar
import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from kvcredit.errors import EvaluationError
from kvcredit.money import fen_to_yuan
from kvcredit.scoring.compiled import (
    AllTest,
    AnyTest,
    CBanded,
    Compare,
    CompiledPolicy,
    CRule,
    DateTest,
    NotTest,
    Quantity,
    Test,
    TextTest,
    date_days,
    flat_tests,
)
from kvcredit.scoring.fields import NO_DATE, Kind
from kvcredit.scoring.policy import Policy
from kvcredit.scoring.records import Record, date_text, normalize_record

OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class IndicatorResult:
    id: str
    label: str
    label_zh: str
    points: Decimal
    weighted: Decimal
    input: str | None = None  # the input of the alternative that scored
    value: Decimal | None = None  # its value in user units; None when undefined or a ladder
    band_from: Decimal | None = None  # lower edge of the band it fell in
    rung: int | None = None  # ladder: index of the rung that matched (the else rung included)
    band_below: Decimal | None = None  # exclusive upper edge of the band (lower is better)
    inputs: dict[str, str | None] = field(default_factory=dict)  # every input it read


@dataclass(frozen=True)
class Suggestion:
    """Raising ``field`` by ``increase`` (user units), all else equal, lifts the result."""

    field: str
    current: Decimal
    increase: Decimal
    new_grade: str | None
    reason: str  # the indicator, route or uplift whose threshold is crossed


@dataclass(frozen=True)
class Evaluation:
    policy_id: str
    policy_version: str
    policy_hash: str
    eligible: bool
    score: Decimal
    grade: str | None
    credit_limit: Decimal | None
    qualified_by: str
    knocked_out_by: tuple[str, ...]
    failed_requirements: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    uplifts: tuple[str, ...] = ()
    indicators: tuple[IndicatorResult, ...] = ()
    groups: dict[str, Decimal] = field(default_factory=dict)
    suggestions: tuple[Suggestion, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(self)
        return out


def _jsonable(value: Any) -> Any:
    """JSON-ready copy: Decimals as text, dataclasses as dicts (no deep copy of the rest)."""
    if isinstance(value, Decimal):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# -- exact scalar arithmetic -------------------------------------------------------------
def ratio(q: Quantity, rec: Record) -> tuple[int, int]:
    """(N, D) with D >= 0; D == 0 means undefined."""
    n = sum(c * int(rec[f]) for c, f in q.num.terms)
    d = sum(c * int(rec[f]) for c, f in q.den.terms) if q.den else 1
    return (-n, -d) if d < 0 else (n, d)


def user_value(q: Quantity, rec: Record) -> Decimal | None:
    n, d = ratio(q, rec)
    if d == 0:
        return None
    den_scale = q.den.scale if q.den else 1
    exact = Fraction(n * den_scale, d * q.num.scale)
    return Decimal(exact.numerator) / Decimal(exact.denominator)


def window_start(on: int, t: DateTest) -> int:
    """The first day of a ``within`` window ending on the day ``on`` (days since 1970)."""
    day = dt.date(1970, 1, 1) + dt.timedelta(days=on)
    months = day.year * 12 + day.month - 1 - (t.years * 12 + t.months)
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    start = dt.date(year, month + 1, min(day.day, last)) - dt.timedelta(days=t.window_days)
    return date_days(start)


def holds(
    test: Test, rec: Record, scores: Mapping[str, int] | None = None, on: int | None = None
) -> bool:
    if isinstance(test, Compare):
        n, d = ratio(test.quantity, rec)
        return d != 0 and OPS[test.op](n * test.a, d * test.b)
    if isinstance(test, TextTest):
        return (str(rec[test.field]) in test.values) != test.negate
    if isinstance(test, AnyTest):
        return any(holds(t, rec, scores, on) for t in test.tests)
    if isinstance(test, AllTest):
        return all(holds(t, rec, scores, on) for t in test.tests)
    if isinstance(test, NotTest):
        return not holds(test.test, rec, scores, on)
    if isinstance(test, DateTest):
        day = int(rec[test.field])
        if day == NO_DATE:
            return False
        if test.op != "within":
            return OPS[test.op](day, test.days)
        if on is None:
            raise EvaluationError("a date window needs the evaluation date (on=...)")
        return window_start(on, test) <= day <= on
    assert scores is not None, "score tests need the scores"
    key = "score" if test.target == "score" else f"{test.target}.{test.key}"
    scale = scores[f"scale.{test.target}"]
    return OPS[test.op](scores[key] * test.threshold.denominator, test.threshold.numerator * scale)


def all_hold(
    rule: CRule, rec: Record, scores: Mapping[str, int] | None = None, on: int | None = None
) -> bool:
    return all(holds(t, rec, scores, on) for t in rule.tests)


def banded_points(alt: CBanded, rec: Record) -> tuple[int, int | None]:
    """(scaled points, band index or None)."""
    n, d = ratio(alt.quantity, rec)
    if d == 0:
        return alt.if_undefined, None
    for k, edge in enumerate(alt.edges):
        if OPS[edge.op](n * edge.a, d * edge.b):
            return alt.points[k], k
    return 0, None


# -- the evaluation ----------------------------------------------------------------------
@dataclass
class _Core:
    raw: dict[str, int]
    scores: dict[str, int]
    knocked: tuple[str, ...]
    failed_req: tuple[str, ...]
    routes: tuple[str, ...]
    uplifts: tuple[str, ...]
    grade: int | None  # index into grade names; for qualify policies 0 when qualified
    qualified_by: str
    detail: dict[str, tuple[int, str | None, int | None]]


def core(c: CompiledPolicy, rec: Record, on: dt.date | int | None = None) -> _Core:
    """The whole decision on one internal record; the per-row reference semantics.

    ``on``: the evaluation date, needed by a policy with date windows (``within``).
    """
    day = date_days(on) if isinstance(on, dt.date) else on
    if day is None and c.uses_dates:
        raise EvaluationError("this policy tests dates within a window: give the evaluation date")
    knocked = tuple(r.id for r in c.basic if not all_hold(r, rec, None, day))
    raw: dict[str, int] = {}
    detail: dict[str, tuple[int, str | None, int | None]] = {}
    for ind in c.indicators:
        if ind.constant is not None:
            raw[ind.id], detail[ind.id] = ind.constant, (ind.constant, None, None)
        elif ind.alternatives:
            best = max(
                ((*banded_points(a, rec), a.id) for a in ind.alternatives), key=lambda t: t[0]
            )
            raw[ind.id], detail[ind.id] = best[0], (best[0], best[2], best[1])
        else:
            hit = next(
                (
                    k
                    for k, r in enumerate(ind.rungs)
                    if all(holds(t, rec, None, day) for t in r.tests)
                ),
                None,
            )
            raw[ind.id] = ind.rungs[hit].points if hit is not None else 0
            detail[ind.id] = (raw[ind.id], None, hit)
    scores: dict[str, int] = {f"points.{k}": v for k, v in raw.items()}
    weights = {i.id: i.weight for i in c.indicators}
    total = 0
    for g in c.groups:
        s = sum(raw[i] * weights[i] for i in g.indicators)
        s = min(s, g.cap) if g.cap is not None else s
        scores[f"group.{g.id}"] = s * g.weight
        total += s * g.weight
    scores["score"] = total
    scores["scale.points"] = c.points_scale
    scores["scale.group"] = scores["scale.score"] = c.score_scale
    failed_req = tuple(r.id for r in c.requirements if not all_hold(r, rec, scores, day))
    routes = tuple(r.id for r in c.routes if all_hold(r, rec, scores, day))
    by_score = None
    if not failed_req:
        by_score = next(
            (
                k
                for k, m in enumerate(c.grade_min)
                if total * m.denominator >= m.numerator * c.score_scale
            ),
            None,
        )
    uplifts: tuple[str, ...] = ()
    grade, qualified_by = by_score, "score" if by_score is not None else ""
    if c.graded:
        if by_score is not None:
            uplifts = tuple(r.id for r in c.uplifts if all_hold(r, rec, scores, day))
            steps = sum(r.steps for r in c.uplifts if r.id in uplifts)
            steps = min(steps, c.max_uplift) if c.max_uplift is not None else steps
            grade = max(0, by_score - steps)
        for r in c.routes:
            if (
                r.id in routes
                and r.min_grade is not None
                and (grade is None or r.min_grade < grade)
            ):
                grade, qualified_by = r.min_grade, r.id
    elif grade is None and routes:
        grade, qualified_by = 0, routes[0]
    if knocked:
        grade, qualified_by = None, ""
    return _Core(raw, scores, knocked, failed_req, routes, uplifts, grade, qualified_by, detail)


def _dec(scaled: int, scale: int) -> Decimal:
    return (Decimal(scaled) / Decimal(scale)).normalize() + 0


def evaluate_record(
    policy: Policy,
    rec: Record,
    *,
    explain: bool = True,
    suggest: bool | None = None,
    on: dt.date | None = None,
) -> Evaluation:
    """Evaluate one record already in internal units (fen, counts, 0/1 flags).

    ``explain`` adds each indicator's inputs, band and points; ``suggest`` (default: as
    ``explain``) adds the smallest single-field increases that raise the grade, which costs
    more than the evaluation itself (the service computes them when they are read).
    """
    c = policy.compiled
    r = core(c, rec, on)
    grade_name = credit = None
    if c.graded:
        grade_name = c.grade_names[r.grade] if r.grade is not None else None
        credit = fen_to_yuan(c.grade_limit_fen[r.grade] if r.grade is not None else 0)
    indicators: list[IndicatorResult] = []
    if explain:
        indicators = [_indicator_result(c, i, r, rec) for i in range(len(c.indicators))]
    ev = Evaluation(
        policy_id=policy.id,
        policy_version=policy.version,
        policy_hash=policy.content_hash,
        eligible=r.grade is not None,
        score=_dec(r.scores["score"], c.score_scale),
        grade=grade_name,
        credit_limit=credit,
        qualified_by=r.qualified_by,
        knocked_out_by=r.knocked,
        failed_requirements=r.failed_req,
        routes=r.routes,
        uplifts=r.uplifts,
        indicators=tuple(indicators),
        groups={g.id: _dec(r.scores[f"group.{g.id}"], c.score_scale) for g in c.groups},
    )
    if (explain if suggest is None else suggest) and not r.knocked:
        from kvcredit.scoring.suggest import suggestions

        found = suggestions(policy, rec, r.grade, on)
        ev = Evaluation(**{**ev.__dict__, "suggestions": found})
    return ev


def _indicator_result(c: CompiledPolicy, k: int, r: _Core, rec: Record) -> IndicatorResult:
    ind = c.indicators[k]
    pts, alt_id, pos = r.detail[ind.id]
    points = _dec(pts, c.points_scale)
    weighted = _dec(pts * ind.weight, c.points_scale * c.weight_scale)
    if not ind.alternatives:
        inputs = _inputs(c, flat_tests(tuple(t for rung in ind.rungs for t in rung.tests)), rec)
        return IndicatorResult(
            ind.id, ind.label, ind.label_zh, points, weighted, rung=pos, inputs=inputs
        )
    alt = next(a for a in ind.alternatives if a.id == alt_id)
    value = user_value(alt.quantity, rec)
    band = alt.edge_values[pos] if pos is not None else None
    inputs = {a.quantity.name: _shown(user_value(a.quantity, rec)) for a in ind.alternatives}
    return IndicatorResult(
        ind.id,
        ind.label,
        ind.label_zh,
        points,
        weighted,
        alt.quantity.name,
        value,
        None if alt.below else band,
        band_below=band if alt.below else None,
        inputs=inputs,
    )


def _shown(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize() + 0, "f")


def _inputs(c: CompiledPolicy, tests: list[Test], rec: Record) -> dict[str, str | None]:
    """The value of every input a ladder's conditions read, in user units."""
    out: dict[str, str | None] = {}
    for t in tests:
        if isinstance(t, Compare):
            f = c.field_of.get(t.quantity.name)
            value = _shown(user_value(t.quantity, rec))
            flag = f is not None and f.kind is Kind.FLAG
            out[t.quantity.name] = ("true" if value == "1" else "false") if flag else value
        elif isinstance(t, TextTest):
            out[t.field] = str(rec[t.field])
        elif isinstance(t, DateTest):
            day = int(rec[t.field])
            out[t.field] = None if day == NO_DATE else date_text(day)
    return out


def evaluate_one(
    policy: Policy,
    enterprise: Mapping[str, Any],
    *,
    explain: bool = True,
    on: dt.date | None = None,
) -> Evaluation:
    """Evaluate one enterprise given in user units (yuan, counts, true/false).

    The policy's declared fields are read too. Raises ``RecordError`` (with the field and a
    bilingual message) on invalid data.
    """
    rec = normalize_record(enterprise, policy.declared)
    return evaluate_record(policy, rec, explain=explain, on=on)
