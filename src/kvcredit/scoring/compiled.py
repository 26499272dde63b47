"""Compile a validated policy into exact integer comparisons shared by both evaluation paths.

Every number a policy compares is an exact rational. Inputs are integers (money in fen, counts,
flags 0/1); a derived input is ``N / D`` where N and D are integer linear combinations of fields.
A comparison ``value >= p/q`` therefore becomes ``N * a >= D * b`` with integer a and b, which
is exact in Python integers (the per-row path) and in int64 (the vectorised path, where the
compiler proves no overflow, or else asks for Python integers). Points, weights and scores are
integers at a fixed decimal scale, so a weighted score lands exactly on a grade edge.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from kvcredit.errors import PolicyError
from kvcredit.scoring.fields import BY_NAME, MAX_COUNT, MAX_MONEY_FEN, Kind
from kvcredit.scoring.policy import Condition, Indicator, Number, PolicyDoc, Rule

INT64_SAFE = 2**62


@dataclass(frozen=True)
class Linear:
    """An integer linear combination of fields: sum of coef * field."""

    terms: tuple[tuple[int, str], ...]
    scale: int  # internal units per user unit: 100 for money (fen), 1 for counts and flags

    def bound(self) -> int:
        return sum(abs(c) * _field_max(f) for c, f in self.terms)


@dataclass(frozen=True)
class Quantity:
    """An input value N / D (D is 1 for a plain field or sum)."""

    name: str
    num: Linear
    den: Linear | None
    fmt: str = "number"

    @property
    def fields(self) -> tuple[str, ...]:
        den = self.den.terms if self.den else ()
        return tuple(dict.fromkeys(f for _, f in (*self.num.terms, *den)))


@dataclass(frozen=True)
class Compare:
    """``N * a <op> D * b`` — the exact form of ``quantity <op> p/q``."""

    quantity: Quantity
    op: str
    a: int
    b: int
    wide: bool  # True when int64 could overflow: use Python integers

    @property
    def threshold(self) -> Fraction:
        num_scale = self.quantity.num.scale
        den_scale = self.quantity.den.scale if self.quantity.den else 1
        return Fraction(self.b * den_scale, self.a * num_scale)


@dataclass(frozen=True)
class TextTest:
    field: str
    negate: bool
    values: frozenset[str]


@dataclass(frozen=True)
class ScoreTest:
    """A test on a computed score: ``points.<id>``, ``group.<id>`` or ``score``."""

    target: str  # "points", "group" or "score"
    key: str
    op: str
    threshold: Fraction


Test = Compare | TextTest | ScoreTest


@dataclass(frozen=True)
class CRule:
    id: str
    label: str
    label_zh: str
    tests: tuple[Test, ...]
    min_grade: int | None = None
    steps: int = 1


@dataclass(frozen=True)
class CBanded:
    id: str
    label: str
    label_zh: str
    quantity: Quantity
    edges: tuple[Compare, ...]  # value >= edge, highest edge first
    edge_values: tuple[Decimal, ...]
    points: tuple[int, ...]  # scaled points of each band, highest edge first
    if_undefined: int


@dataclass(frozen=True)
class CRung:
    tests: tuple[Test, ...]
    points: int


@dataclass(frozen=True)
class CIndicator:
    id: str
    label: str
    label_zh: str
    alternatives: tuple[CBanded, ...]  # one for banded, several for best_of, none for a ladder
    rungs: tuple[CRung, ...]
    weight: int  # scaled by WEIGHT_SCALE
    group: str


@dataclass(frozen=True)
class CGroup:
    id: str
    label: str
    label_zh: str
    indicators: tuple[str, ...]
    weight: int  # scaled by weight scale
    cap: int | None  # at points scale * weight scale


@dataclass
class CompiledPolicy:
    points_scale: int  # 10**Dp: scaled points = points * points_scale
    weight_scale: int  # 10**Dw
    score_decimals: int
    quantities: dict[str, Quantity]
    basic: tuple[CRule, ...]
    indicators: tuple[CIndicator, ...]
    groups: tuple[CGroup, ...]
    requirements: tuple[CRule, ...]
    routes: tuple[CRule, ...]
    uplifts: tuple[CRule, ...]
    graded: bool
    grade_names: tuple[str, ...]
    grade_min: tuple[Fraction, ...]  # best first; for qualify policies the single min_score
    grade_limit_fen: tuple[int, ...]
    max_uplift: int | None
    fields_used: tuple[str, ...] = field(default=())

    @property
    def score_scale(self) -> int:
        return self.points_scale * self.weight_scale * self.weight_scale


def _field_max(name: str) -> int:
    kind = BY_NAME[name].kind
    return {Kind.MONEY: MAX_MONEY_FEN, Kind.COUNT: MAX_COUNT, Kind.FLAG: 1}.get(kind, 0)


def _decimals(value: Number) -> int:
    exponent = Decimal(value).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _scaled(value: Number, scale: int, path: str) -> int:
    scaled = Decimal(value) * scale
    if scaled != scaled.to_integral_value():  # pragma: no cover - guarded by the scale choice
        raise PolicyError([(path, f"{value} has too many decimal places")])
    return int(scaled)


class _Compiler:
    def __init__(self, doc: PolicyDoc) -> None:
        self.doc = doc
        self.problems: list[tuple[str, str]] = []
        self.quantities: dict[str, Quantity] = {}
        self.linear: dict[str, Linear] = {}
        points = [
            *(b.points for i in doc.indicators for alt in i.alternatives for b in alt.bands),
            *(alt.if_undefined for i in doc.indicators for alt in i.alternatives),
            *(r.points for i in doc.indicators for r in (i.ladder or [])),
            *(g.cap for g in doc.groups if g.cap is not None),
        ]
        weights = [*(i.weight for i in doc.indicators), *(g.weight for g in doc.groups)]
        self.dp = max((_decimals(p) for p in points), default=0)
        self.dw = max((_decimals(w) for w in weights), default=0)

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    # -- inputs -------------------------------------------------------------------------
    def linear_of(self, node: ast.expr, path: str) -> Linear | None:
        terms: list[tuple[int, str]] = []
        if not self._collect(node, 1, terms, path):
            return None
        kinds = {BY_NAME[f].kind for _, f in terms}
        if Kind.TEXT in kinds:
            self.fail(path, "text fields cannot be used in arithmetic")
            return None
        if Kind.MONEY in kinds and len(kinds) > 1:
            self.fail(path, "a sum cannot mix money (yuan) with counts")
            return None
        return Linear(tuple(terms), 100 if Kind.MONEY in kinds else 1)

    def _collect(self, node: ast.expr, sign: int, out: list[tuple[int, str]], path: str) -> bool:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            right = sign if isinstance(node.op, ast.Add) else -sign
            return self._collect(node.left, sign, out, path) and self._collect(
                node.right, right, out, path
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for const, name in ((node.left, node.right), (node.right, node.left)):
                value = _int_constant(const)
                if value is not None:
                    return self._collect(name, sign * value, out, path)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self._collect(node.operand, -sign, out, path)
        if isinstance(node, ast.Name):
            if node.id in self.linear:
                out.extend((sign * c, f) for c, f in self.linear[node.id].terms)
                return True
            if node.id in BY_NAME:
                out.append((sign, node.id))
                return True
            self.fail(path, f"unknown field {node.id!r}")
            return False
        self.fail(path, "use fields, + and -, integer * field, and at most one '/'")
        return False

    def derive(self) -> None:
        for name, expr in self.doc.derived.items():
            path = f"derived.{name}"
            if name in BY_NAME:
                self.fail(path, f"{name!r} is already a field of the data dictionary")
                continue
            try:
                tree = ast.parse(expr, mode="eval").body
            except SyntaxError:
                self.fail(path, f"cannot parse {expr!r}")
                continue
            if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div):
                num, den = self.linear_of(tree.left, path), self.linear_of(tree.right, path)
                if num and den:
                    self.quantities[name] = Quantity(name, num, den)
            else:
                lin = self.linear_of(tree, path)
                if lin:
                    self.linear[name] = lin
                    self.quantities[name] = Quantity(name, lin, None)

    def quantity(self, name: str, path: str, fmt: str = "number") -> Quantity | None:
        if name in self.quantities:
            q = self.quantities[name]
        elif name in BY_NAME and BY_NAME[name].kind is not Kind.TEXT:
            q = Quantity(name, Linear(((1, name),), 100 if name in _money() else 1), None)
        else:
            self.fail(path, f"unknown input {name!r} (not a numeric field nor a derived name)")
            return None
        return Quantity(q.name, q.num, q.den, fmt)

    def compare(self, q: Quantity, op: str, value: Number | bool) -> Compare:
        edge = Fraction(int(value)) if isinstance(value, bool) else Fraction(Decimal(value))
        den_scale = q.den.scale if q.den else 1
        a, b = edge.denominator * den_scale, edge.numerator * q.num.scale
        g = math.gcd(a, b) or 1
        a, b = a // g, b // g
        den_bound = q.den.bound() if q.den else 1
        wide = q.num.bound() * a >= INT64_SAFE or den_bound * abs(b) >= INT64_SAFE
        return Compare(q, op, a, b, wide)

    # -- conditions ---------------------------------------------------------------------
    def test(self, cond: Condition, path: str) -> Test | None:
        target, _, key = cond.input.partition(".")
        if (target in ("points", "group") and key) or cond.input == "score":
            if not isinstance(cond.value, Decimal | int) or isinstance(cond.value, bool):
                self.fail(path, "compare a score with a number")
                return None
            known = {i.id for i in self.doc.indicators} if target == "points" else self._groups()
            if target != "score" and key not in known:
                self.fail(path, f"unknown {target} {key!r}")
                return None
            return ScoreTest(target, key, cond.op, Fraction(Decimal(cond.value)))
        if cond.input in BY_NAME and BY_NAME[cond.input].kind is Kind.TEXT:
            if not isinstance(cond.value, list):
                self.fail(path, f"compare the text field {cond.input!r} with 'in' or 'not in'")
                return None
            return TextTest(cond.input, cond.op == "not in", frozenset(cond.value))
        if isinstance(cond.value, list):
            self.fail(path, f"'{cond.op}' applies to text fields only")
            return None
        q = self.quantity(cond.input, path)
        return self.compare(q, cond.op, cond.value) if q else None

    def tests(self, conds: list[Condition], path: str) -> tuple[Test, ...]:
        out = [self.test(c, f"{path}.{i}") for i, c in enumerate(conds)]
        return tuple(t for t in out if t is not None)

    def rule(self, rule: Rule, path: str, grades: dict[str, int]) -> CRule:
        floor = None
        if rule.min_grade is not None:
            if rule.min_grade not in grades:
                self.fail(f"{path}.min_grade", f"unknown grade {rule.min_grade!r}")
            floor = grades.get(rule.min_grade)
        tests = self.tests(rule.when, f"{path}.when")
        return CRule(rule.id, rule.label, rule.label_zh, tests, floor, rule.steps)

    def _groups(self) -> set[str]:
        return {g.id for g in self.doc.groups} or {"score"}

    # -- indicators ---------------------------------------------------------------------
    def indicator(self, ind: Indicator, path: str, group: str) -> CIndicator:
        ps, ws = 10**self.dp, 10**self.dw
        alts: list[CBanded] = []
        for j, alt in enumerate(ind.alternatives):
            apath = f"{path}.best_of.{j}" if ind.best_of else path
            q = self.quantity(alt.input, f"{apath}.input", alt.format)
            if q is None:
                continue
            edges = tuple(self.compare(q, ">=", b.from_) for b in alt.bands)
            points = tuple(_scaled(b.points, ps, f"{apath}.bands") for b in alt.bands)
            und = _scaled(alt.if_undefined, ps, f"{apath}.if_undefined")
            values = tuple(Decimal(b.from_) for b in alt.bands)
            alts.append(CBanded(alt.id, alt.label, alt.label_zh, q, edges, values, points, und))
        rungs = tuple(
            CRung(self.tests(r.when, f"{path}.ladder.{k}.when"), _scaled(r.points, ps, path))
            for k, r in enumerate(ind.ladder or [])
        )
        weight = _scaled(ind.weight, ws, f"{path}.weight")
        return CIndicator(ind.id, ind.label, ind.label_zh, tuple(alts), rungs, weight, group)

    def groups(self) -> tuple[CGroup, ...]:
        ps, ws = 10**self.dp, 10**self.dw
        ids = [i.id for i in self.doc.indicators]
        if len(set(ids)) != len(ids):
            self.fail("indicators", "indicator ids must be unique")
        if not self.doc.groups:
            return (CGroup("score", "Score", "得分", tuple(ids), ws, None),)
        seen: dict[str, str] = {}
        out = []
        for k, g in enumerate(self.doc.groups):
            for name in g.indicators:
                if name not in ids:
                    self.fail(f"groups.{k}.indicators", f"unknown indicator {name!r}")
                if name in seen:
                    self.fail(f"groups.{k}.indicators", f"{name!r} is already in {seen[name]!r}")
                seen[name] = g.id
            cap = None if g.cap is None else _scaled(g.cap, ps * ws, f"groups.{k}.cap")
            weight = _scaled(g.weight, ws, f"groups.{k}.weight")
            out.append(CGroup(g.id, g.label, g.label_zh, tuple(g.indicators), weight, cap))
        for name in ids:
            if name not in seen:
                self.fail("groups", f"indicator {name!r} belongs to no group")
        return tuple(out)

    def no_score_tests(self, doc: PolicyDoc) -> None:
        """Basic conditions and ladder rungs are decided before any score exists."""
        places = [(f"basic.{k}.when", r.when) for k, r in enumerate(doc.basic)]
        places += [
            (f"indicators.{k}.ladder.{j}.when", rung.when)
            for k, ind in enumerate(doc.indicators)
            for j, rung in enumerate(ind.ladder or [])
        ]
        for path, conds in places:
            for cond in conds:
                if cond.input == "score" or cond.input.startswith(("points.", "group.")):
                    self.fail(
                        path,
                        f"{cond.input!r}: scores can be tested in requirements, "
                        "routes and uplifts only",
                    )

    def run(self) -> CompiledPolicy:
        doc = self.doc
        self.derive()
        groups = self.groups()
        group_of = {name: g.id for g in groups for name in g.indicators}
        indicators = tuple(
            self.indicator(ind, f"indicators.{k}", group_of.get(ind.id, ""))
            for k, ind in enumerate(doc.indicators)
        )
        out = doc.outcome
        grades = {g.grade: k for k, g in enumerate(out.grades or [])}
        if out.grades:
            names = tuple(g.grade for g in out.grades)
            mins = tuple(Fraction(Decimal(g.min_score)) for g in out.grades)
            limits = tuple(_scaled(g.credit_limit, 100, "outcome.grades") for g in out.grades)
        else:
            names, mins, limits = (), (Fraction(Decimal(out.min_score or 0)),), ()

        def rules(items: list[Rule], path: str) -> tuple[CRule, ...]:
            return tuple(self.rule(r, f"{path}.{k}", grades) for k, r in enumerate(items))

        routes = rules(doc.routes, "routes")
        self.no_score_tests(doc)
        if out.kind == "grades":
            for k, route in enumerate(doc.routes):
                if route.min_grade is None:
                    self.fail(f"routes.{k}.min_grade", "a route in a grade policy needs min_grade")
        elif doc.uplifts:
            self.fail("uplifts", "uplifts apply to grade policies only")
        compiled = CompiledPolicy(
            points_scale=10**self.dp,
            weight_scale=10**self.dw,
            score_decimals=self.dp + 2 * self.dw,
            quantities=self.quantities,
            basic=rules(doc.basic, "basic"),
            indicators=indicators,
            groups=groups,
            requirements=rules(doc.requirements, "requirements"),
            routes=routes,
            uplifts=rules(doc.uplifts, "uplifts"),
            graded=out.kind == "grades",
            grade_names=names,
            grade_min=mins,
            grade_limit_fen=limits,
            max_uplift=out.max_uplift_steps,
        )
        if self.problems:
            raise PolicyError(self.problems)
        compiled.fields_used = _fields_used(compiled)
        return compiled


def _int_constant(node: ast.expr) -> int | None:
    """The value of an integer literal such as ``2`` or ``-2``; None for anything else."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _int_constant(node.operand)
        return None if value is None else -value
    return None


def _money() -> frozenset[str]:
    return frozenset(n for n, f in BY_NAME.items() if f.kind is Kind.MONEY)


def _fields_used(c: CompiledPolicy) -> tuple[str, ...]:
    names: list[str] = []
    rules = (*c.basic, *c.requirements, *c.routes, *c.uplifts)
    tests = [t for r in rules for t in r.tests]
    tests += [t for i in c.indicators for rung in i.rungs for t in rung.tests]
    for t in tests:
        if isinstance(t, Compare):
            names.extend(t.quantity.fields)
        elif isinstance(t, TextTest):
            names.append(t.field)
    for i in c.indicators:
        for alt in i.alternatives:
            names.extend(alt.quantity.fields)
    return tuple(dict.fromkeys(names))


def compile_policy(doc: PolicyDoc) -> CompiledPolicy:
    return _Compiler(doc).run()
