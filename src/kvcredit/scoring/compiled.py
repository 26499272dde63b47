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
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from kvcredit.errors import PolicyError
from kvcredit.scoring.fields import BY_HEADER, BY_NAME, Field, Kind, is_textual, max_of, scale_of
from kvcredit.scoring.policy import (
    WINDOW_RE,
    AllOf,
    AnyOf,
    Cond,
    Condition,
    FieldDecl,
    Indicator,
    NotOf,
    Number,
    PolicyDoc,
    Rule,
)
from kvcredit.scoring.policy_text import Said

INT64_SAFE = 2**62


@dataclass(frozen=True)
class Linear:
    """An integer linear combination of fields: sum of coef * field."""

    terms: tuple[tuple[int, str], ...]
    scale: int  # internal units per user unit: 100 for money (fen), 10**6 ratios, else 1
    limit: int = 0  # the largest magnitude the sum can reach

    def bound(self) -> int:
        return self.limit


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
    """Membership of a text or category field's value in a set (``in``, ``==``; negated)."""

    field: str
    negate: bool
    values: frozenset[str]


@dataclass(frozen=True)
class DateTest:
    """A date field against a fixed date (``days`` since 1970-01-01) or, with ``within``, a
    window ending on the evaluation date: ``on - window <= date <= on``. A missing date fails."""

    field: str
    op: str  # a comparison, or "within"
    days: int = 0  # the fixed date
    years: int = 0  # the window
    months: int = 0
    window_days: int = 0


@dataclass(frozen=True)
class AnyTest:
    tests: tuple[Test, ...]


@dataclass(frozen=True)
class AllTest:
    tests: tuple[Test, ...]


@dataclass(frozen=True)
class NotTest:
    test: Test


@dataclass(frozen=True)
class ScoreTest:
    """A test on a computed score: ``points.<id>``, ``group.<id>`` or ``score``."""

    target: str  # "points", "group" or "score"
    key: str
    op: str
    threshold: Fraction


Test = Compare | TextTest | ScoreTest | DateTest | AnyTest | AllTest | NotTest


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
    edges: tuple[Compare, ...]  # value >= edge, highest first; or value < edge, lowest first
    edge_values: tuple[Decimal, ...]
    points: tuple[int, ...]  # scaled points of each band, in the order of the edges
    if_undefined: int
    below: bool = False  # exclusive upper edges (lower is better)


@dataclass(frozen=True)
class CRung:
    tests: tuple[Test, ...]  # empty for the ``else`` rung, which always holds
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
    constant: int | None = None  # constant points (no alternatives, no rungs)


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
    declared: tuple[Field, ...] = field(default=())
    field_of: dict[str, Field] = field(default_factory=dict)
    uses_dates: bool = False

    @property
    def score_scale(self) -> int:
        return self.points_scale * self.weight_scale * self.weight_scale


def _decimals(value: Number) -> int:
    exponent = Decimal(value).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _scaled(value: Number, scale: int, path: str) -> int:
    scaled = Decimal(value) * scale
    if scaled != scaled.to_integral_value():  # pragma: no cover - guarded by the scale choice
        raise PolicyError([(path, Said("too_many_decimals", value=value))])
    return int(scaled)


EPOCH = dt.date(1970, 1, 1)


def date_days(value: dt.date) -> int:
    """A date as days since 1970-01-01 (the internal unit of date fields)."""
    return (value - EPOCH).days


class _Compiler:
    def __init__(self, doc: PolicyDoc) -> None:
        self.doc = doc
        self.problems: list[tuple[str, str]] = []
        self.quantities: dict[str, Quantity] = {}
        self.linear: dict[str, Linear] = {}
        self.fields: dict[str, Field] = dict(BY_NAME)
        self.declared: list[Field] = []
        self.uses_dates = False
        points = [
            *(b.points for i in doc.indicators for alt in i.alternatives for b in alt.bands),
            *(alt.if_undefined for i in doc.indicators for alt in i.alternatives),
            *(r.points for i in doc.indicators for r in (i.ladder or [])),
            *(i.points for i in doc.indicators if i.points is not None),
            *(g.cap for g in doc.groups if g.cap is not None),
        ]
        weights = [*(i.weight for i in doc.indicators), *(g.weight for g in doc.groups)]
        self.dp = max((_decimals(p) for p in points), default=0)
        self.dw = max((_decimals(w) for w in weights), default=0)

    def fail(self, path: str, code: str, **params: Any) -> None:
        self.problems.append((path, Said(code, **params)))

    # -- declared fields ----------------------------------------------------------------
    def declare(self) -> None:
        headers = {**{f.zh: f.name for f in BY_HEADER.values()}}
        for k, decl in enumerate(self.doc.fields):
            path = f"fields.{k}"
            if decl.name in BY_NAME:
                self.fail(f"{path}.name", "field_exists", name=decl.name)
                continue
            if decl.name in self.fields:
                self.fail(f"{path}.name", "field_twice", name=decl.name)
                continue
            if decl.zh in headers or decl.zh in BY_NAME:
                self.fail(f"{path}.zh", "header_exists", header=decl.zh, name=headers.get(decl.zh))
                continue
            f = self._field(decl, path, len(BY_NAME) + k)
            if f is not None:
                headers[f.zh] = f.name
                self.fields[f.name] = f
                self.declared.append(f)

    def _field(self, decl: FieldDecl, path: str, order: int) -> Field | None:
        kind = Kind(decl.kind)
        values = tuple(decl.values or ())
        probe = Field(decl.name, decl.zh, kind, False, decl.description, True, values=values)
        from kvcredit.scoring.records import internal_value

        bounds: list[int | None] = []
        for which, value in (("min", decl.min), ("max", decl.max)):
            if value is None:
                bounds.append(None)
                continue
            internal = internal_value(probe, value)
            if not isinstance(internal, int) or kind not in (Kind.MONEY, Kind.COUNT, Kind.RATIO):
                self.fail(f"{path}.{which}", "bad_bound", which=which, value=value, kind=decl.kind)
                return None
            bounds.append(internal)
        default: int | str | None = None
        if decl.default is not None:
            given: Any = decl.default
            if isinstance(given, dt.date) and kind is Kind.DATE:
                given = given.isoformat()
            default = internal_value(probe, given)
            if default is None or (kind is Kind.CATEGORY and default not in (decl.values or [])):
                self.fail(f"{path}.default", "bad_default", value=given, kind=decl.kind)
                return None
        return Field(
            decl.name,
            decl.zh,
            kind,
            decl.required,
            decl.description,
            declared=True,
            en_zh=decl.description_zh,
            lo=bounds[0],
            hi=bounds[1],
            default=default,
            values=tuple(decl.values or ()),
            order=order,
        )

    # -- inputs -------------------------------------------------------------------------
    def linear_of(self, node: ast.expr, path: str) -> Linear | None:
        terms: list[tuple[int, str]] = []
        if not self._collect(node, 1, terms, path):
            return None
        kinds = {self.fields[f].kind for _, f in terms}
        if kinds & {Kind.TEXT, Kind.CATEGORY, Kind.DATE}:
            self.fail(path, "no_text_arithmetic")
            return None
        scales = {scale_of(self.fields[f]) for _, f in terms}
        if len(scales) > 1:
            if kinds <= {Kind.MONEY, Kind.COUNT, Kind.FLAG}:
                self.fail(path, "mixed_units")
            else:
                self.fail(path, "mixed_scales", kinds=", ".join(sorted(kinds)))
            return None
        limit = sum(abs(c) * max_of(self.fields[f]) for c, f in terms)
        return Linear(tuple(terms), scales.pop() if scales else 1, limit)

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
            if node.id in self.fields:
                out.append((sign, node.id))
                return True
            self.fail(path, "unknown_field", name=node.id)
            return False
        self.fail(path, "bad_expression")
        return False

    def derive(self) -> None:
        for name, expr in self.doc.derived.items():
            path = f"derived.{name}"
            if name in self.fields:
                self.fail(path, "is_a_field", name=name)
                continue
            try:
                tree = ast.parse(expr, mode="eval").body
            except SyntaxError:
                self.fail(path, "cannot_parse", expr=expr)
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
        f = self.fields.get(name)
        if name in self.quantities:
            q = self.quantities[name]
        elif f is not None and not is_textual(f) and f.kind is not Kind.DATE:
            q = Quantity(name, Linear(((1, name),), scale_of(f), max_of(f)), None)
        else:
            self.fail(path, "unknown_input", name=name)
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
    def test(self, cond: Cond, path: str) -> Test | None:
        if isinstance(cond, AnyOf | AllOf):
            items = cond.any if isinstance(cond, AnyOf) else cond.all
            key = "any" if isinstance(cond, AnyOf) else "all"
            tests = self.tests(items, f"{path}.{key}")
            if len(tests) != len(items):
                return None
            return AnyTest(tests) if isinstance(cond, AnyOf) else AllTest(tests)
        if isinstance(cond, NotOf):
            inner = self.test(cond.not_, f"{path}.not")
            return NotTest(inner) if inner is not None else None
        return self.leaf(cond, path)

    def leaf(self, cond: Condition, path: str) -> Test | None:
        target, _, key = cond.input.partition(".")
        if (target in ("points", "group") and key) or cond.input == "score":
            if not isinstance(cond.value, Decimal | int) or isinstance(cond.value, bool):
                self.fail(path, "score_needs_number")
                return None
            known = {i.id for i in self.doc.indicators} if target == "points" else self._groups()
            if target != "score" and key not in known:
                self.fail(path, "unknown_score", target=target, key=key)
                return None
            return ScoreTest(target, key, cond.op, Fraction(Decimal(cond.value)))
        f = self.fields.get(cond.input)
        if cond.op == "within" and (f is None or f.kind is not Kind.DATE):
            self.fail(path, "not_a_date_field")
            return None
        if f is not None and f.kind is Kind.DATE:
            return self.date_test(f, cond, path)
        if f is not None and f.kind is Kind.CATEGORY:
            return self.category_test(f, cond, path)
        if f is not None and f.kind is Kind.TEXT:
            if not isinstance(cond.value, list):
                self.fail(path, "text_needs_in", name=cond.input)
                return None
            return TextTest(cond.input, cond.op == "not in", frozenset(cond.value))
        if isinstance(cond.value, list):
            self.fail(path, "in_text_only", op=cond.op)
            return None
        if not isinstance(cond.value, Decimal | int):  # a string or a date on a number
            self.fail(path, "not_a_value", text=str(cond.value))
            return None
        q = self.quantity(cond.input, path)
        return self.compare(q, cond.op, cond.value) if q else None

    def category_test(self, f: Field, cond: Condition, path: str) -> Test | None:
        if cond.op not in ("==", "!=", "in", "not in"):
            self.fail(path, "category_op", name=f.name)
            return None
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        for v in values:
            if not isinstance(v, str) or v not in f.values:
                shown = ", ".join(f.values)
                self.fail(path, "not_a_category_value", value=str(v), name=f.name, values=shown)
                return None
        negate = cond.op in ("!=", "not in")
        return TextTest(f.name, negate, frozenset(str(v) for v in values))

    def date_test(self, f: Field, cond: Condition, path: str) -> Test | None:
        self.uses_dates = self.uses_dates or cond.op == "within"
        if cond.op == "within":
            match = WINDOW_RE.match(str(cond.value))
            assert match is not None  # checked by the model
            n, unit = int(match.group(1)), match.group(2).rstrip("s")
            years, months, days = n * (unit == "year"), n * (unit == "month"), n * (unit == "day")
            return DateTest(f.name, "within", 0, years, months, days)
        if cond.op in ("in", "not in") or not isinstance(cond.value, dt.date):
            self.fail(path, "date_op", name=f.name)
            return None
        return DateTest(f.name, cond.op, date_days(cond.value))

    def tests(self, conds: list[Cond], path: str) -> tuple[Test, ...]:
        out = [self.test(c, f"{path}.{i}") for i, c in enumerate(conds)]
        return tuple(t for t in out if t is not None)

    def rule(self, rule: Rule, path: str, grades: dict[str, int]) -> CRule:
        floor = None
        if rule.min_grade is not None:
            if rule.min_grade not in grades:
                self.fail(f"{path}.min_grade", "unknown_grade", name=rule.min_grade)
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
            below = alt.bands[0].below is not None
            edge_of = [b.below if below else b.from_ for b in alt.bands]
            op = "<" if below else ">="
            edges = tuple(self.compare(q, op, e) for e in edge_of if e is not None)
            points = tuple(_scaled(b.points, ps, f"{apath}.bands") for b in alt.bands)
            und = _scaled(alt.if_undefined, ps, f"{apath}.if_undefined")
            values = tuple(Decimal(e) for e in edge_of if e is not None)
            alts.append(
                CBanded(alt.id, alt.label, alt.label_zh, q, edges, values, points, und, below)
            )
        rungs = tuple(
            CRung(
                self.tests(r.when, f"{path}.ladder.{k}.when") if r.when else (),
                _scaled(r.points, ps, path),
            )
            for k, r in enumerate(ind.ladder or [])
        )
        weight = _scaled(ind.weight, ws, f"{path}.weight")
        constant = None if ind.points is None else _scaled(ind.points, ps, f"{path}.points")
        return CIndicator(
            ind.id, ind.label, ind.label_zh, tuple(alts), rungs, weight, group, constant
        )

    def groups(self) -> tuple[CGroup, ...]:
        ps, ws = 10**self.dp, 10**self.dw
        ids = [i.id for i in self.doc.indicators]
        if len(set(ids)) != len(ids):
            self.fail("indicators", "unique_indicators")
        if not self.doc.groups:
            return (CGroup("score", "Score", "得分", tuple(ids), ws, None),)
        seen: dict[str, str] = {}
        out = []
        for k, g in enumerate(self.doc.groups):
            for name in g.indicators:
                if name not in ids:
                    self.fail(f"groups.{k}.indicators", "unknown_indicator", name=name)
                if name in seen:
                    self.fail(
                        f"groups.{k}.indicators", "in_two_groups", name=name, group=seen[name]
                    )
                seen[name] = g.id
            cap = None if g.cap is None else _scaled(g.cap, ps * ws, f"groups.{k}.cap")
            weight = _scaled(g.weight, ws, f"groups.{k}.weight")
            out.append(CGroup(g.id, g.label, g.label_zh, tuple(g.indicators), weight, cap))
        for name in ids:
            if name not in seen:
                self.fail("groups", "no_group", name=name)
        return tuple(out)

    def no_score_tests(self, doc: PolicyDoc) -> None:
        """Basic conditions and ladder rungs are decided before any score exists."""
        places = [(f"basic.{k}.when", r.when) for k, r in enumerate(doc.basic)]
        places += [
            (f"indicators.{k}.ladder.{j}.when", rung.when or [])
            for k, ind in enumerate(doc.indicators)
            for j, rung in enumerate(ind.ladder or [])
        ]
        for path, conds in places:
            for cond in _leaves(conds):
                if cond.input == "score" or cond.input.startswith(("points.", "group.")):
                    self.fail(path, "score_place", name=cond.input)

    def run(self) -> CompiledPolicy:
        doc = self.doc
        self.declare()
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
                    self.fail(f"routes.{k}.min_grade", "route_grade")
        elif doc.uplifts:
            self.fail("uplifts", "uplifts_graded")
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
            declared=tuple(self.declared),
            field_of=self.fields,
            uses_dates=self.uses_dates,
        )
        if self.problems:
            raise PolicyError(self.problems)
        compiled.fields_used = _fields_used(compiled)
        return compiled


def _leaves(conds: list[Cond]) -> list[Condition]:
    out: list[Condition] = []
    for c in conds:
        if isinstance(c, AnyOf):
            out += _leaves(c.any)
        elif isinstance(c, AllOf):
            out += _leaves(c.all)
        elif isinstance(c, NotOf):
            out += _leaves([c.not_])
        else:
            out.append(c)
    return out


def flat_tests(tests: tuple[Test, ...]) -> list[Test]:
    """Every leaf test under ``tests`` (through any, all and not)."""
    out: list[Test] = []
    for t in tests:
        if isinstance(t, AnyTest | AllTest):
            out += flat_tests(t.tests)
        elif isinstance(t, NotTest):
            out += flat_tests((t.test,))
        else:
            out.append(t)
    return out


def _int_constant(node: ast.expr) -> int | None:
    """The value of an integer literal such as ``2`` or ``-2``; None for anything else."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _int_constant(node.operand)
        return None if value is None else -value
    return None


def _fields_used(c: CompiledPolicy) -> tuple[str, ...]:
    names: list[str] = []
    rules = (*c.basic, *c.requirements, *c.routes, *c.uplifts)
    tests = flat_tests(tuple(t for r in rules for t in r.tests))
    tests += flat_tests(tuple(t for i in c.indicators for rung in i.rungs for t in rung.tests))
    for t in tests:
        if isinstance(t, Compare):
            names.extend(t.quantity.fields)
        elif isinstance(t, TextTest | DateTest):
            names.append(t.field)
    for i in c.indicators:
        for alt in i.alternatives:
            names.extend(alt.quantity.fields)
    return tuple(dict.fromkeys(names))


def compile_policy(doc: PolicyDoc) -> CompiledPolicy:
    return _Compiler(doc).run()
