"""What would raise an enterprise's grade: the smallest single-field changes.

For every threshold the policy compares a field against (band edges, ladder rungs, routes,
uplifts), compute the smallest increase of one numerator field that crosses it, apply it with
everything else unchanged, and re-evaluate exactly. Keep the changes that improve the result
(a better grade, or qualifying), the smallest per field, ordered by relative size.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kvcredit.scoring.compiled import Compare, flat_tests
from kvcredit.scoring.engine import Suggestion, core
from kvcredit.scoring.fields import Kind, scale_of
from kvcredit.scoring.policy import Policy
from kvcredit.scoring.records import Record


def _thresholds(policy: Policy) -> list[tuple[Compare, str]]:
    c = policy.compiled
    out: list[tuple[Compare, str]] = []
    for ind in c.indicators:
        out += [(e, ind.id) for alt in ind.alternatives for e in alt.edges]
        rung_tests = flat_tests(tuple(t for r in ind.rungs for t in r.tests))
        out += [(t, ind.id) for t in rung_tests if isinstance(t, Compare)]
    for rule in (*c.routes, *c.uplifts):
        out += [(t, rule.id) for t in flat_tests(rule.tests) if isinstance(t, Compare)]
    return [(t, why) for t, why in out if t.op in (">=", ">") or _is_flag_true(policy, t)]


def _is_flag_true(policy: Policy, t: Compare) -> bool:
    """``flag == true``: obtaining the status (a certificate, say) is a change to suggest."""
    terms = t.quantity.num.terms
    return (
        t.op == "=="
        and t.quantity.den is None
        and len(terms) == 1
        and policy.compiled.field_of[terms[0][1]].kind is Kind.FLAG
        and t.b == t.a
    )


def _increase(t: Compare, rec: Record, field: str, coef: int) -> int | None:
    """Smallest increase of ``field`` (internal units) making ``t`` hold, or None."""
    q = t.quantity
    n = sum(c * int(rec[f]) for c, f in q.num.terms)
    d = sum(c * int(rec[f]) for c, f in q.den.terms) if q.den else 1
    if d <= 0:
        return None
    # need (n + coef*x) * a  >=  d * b   (or >; a flag's == true is >= 1 for a 0/1 value)
    need = d * t.b - n * t.a + (1 if t.op == ">" else 0)
    if need <= 0:
        return None
    step = coef * t.a
    return -(-need // step)


def _candidates(policy: Policy, rec: Record) -> list[tuple[str, int, str]]:
    """(field, increase, reason) for every threshold a single increase could cross.

    The result can only change where an increase crosses a threshold of a numerator, or turns
    a zero denominator into a defined ratio (one unit); the smallest improving increase of a
    field is therefore one of these.
    """
    out: list[tuple[str, int, str]] = []
    for t, why in _thresholds(policy):
        den_fields = {f for _, f in t.quantity.den.terms} if t.quantity.den else set()
        for coef, fname in t.quantity.num.terms:
            if coef > 0 and fname not in den_fields:
                x = _increase(t, rec, fname, coef)
                if x is not None:
                    out.append((fname, x, why))
    for q in policy.compiled.quantities.values():
        if q.den and sum(c * int(rec[f]) for c, f in q.den.terms) == 0:
            out += [(f, 1, q.name) for c, f in q.den.terms if c > 0]
    return out


def suggestions(
    policy: Policy, rec: Record, grade: int | None, on: dt.date | None = None
) -> tuple[Suggestion, ...]:
    c = policy.compiled
    best: dict[str, tuple[int, int | None, str]] = {}
    for fname, x, why in sorted(_candidates(policy, rec), key=lambda t: t[1]):
        if fname in best:
            continue  # a smaller increase of this field already improves the result
        if c.field_of[fname].kind is Kind.FLAG and int(rec[fname]) + x > 1:
            continue
        trial = dict(rec)
        trial[fname] = int(rec[fname]) + x
        new = core(c, trial, on).grade
        if new is not None and (grade is None or new < grade):
            best[fname] = (x, new, why)
    out = []
    for fname, (x, new, why) in best.items():
        scale = scale_of(c.field_of[fname])
        current = Decimal(int(rec[fname])) / scale
        name = c.grade_names[new] if c.graded and new is not None else None
        out.append(Suggestion(fname, current, Decimal(x) / scale, name, why))
    out.sort(key=lambda s: (s.increase / max(s.current, Decimal(1)), s.field))
    return tuple(out)
