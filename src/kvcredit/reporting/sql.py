"""The statistics' headline figures aggregated in the database, scoped like the selectors.

The same figures as the pure ``aggregate.breakdown`` over ``programme.activity``'s rows (the
tests compare the two on every dimension and role), but each set of rows (loans, compensation
paid, recoveries, commercial loans) is one GROUP BY query and one total: a handful of rows
whatever the book's size. Money is integer fen; nothing is rounded here.

Grade and industry are the enterprise's, from the evaluation of its credit line as the user
may see it (a scoped subquery): an enterprise has one value, so the groups the database returns
for a label (a grade not eligible and no grade at all both read NOT_RATED) are added up
without counting an enterprise twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth

from kvcredit.reporting.aggregate import DIMENSIONS, NOT_RATED, Headline

# For each set of rows: the path to its enterprise, district name, bank name, and date.
_PATHS = {
    "loans": ("enterprise_id", "district__name", "bank__name", "disbursed_on"),
    "paid": ("loan__enterprise_id", "loan__district__name", "bank__name", "paid_on"),
    "recovered": (
        "claim__loan__enterprise_id",
        "claim__loan__district__name",
        "claim__bank__name",
        "recovered_on",
    ),
    "commercial": ("enterprise_id", "enterprise__district__name", "bank__name", "loan_date"),
}


def _sources(user: Any) -> dict[str, QuerySet[Any]]:
    from kvcredit.fund import selectors as fund_selectors
    from kvcredit.fund.models import Recovery
    from kvcredit.lending import selectors as lending_selectors

    claims = fund_selectors.claims(user)
    return {
        "loans": lending_selectors.loans(user),
        "paid": claims.filter(paid_on__isnull=False),
        "recovered": Recovery.objects.filter(
            claim__in=claims.filter(pool_recovered_fen__gt=0).order_by().values("id")
        ),
        "commercial": lending_selectors.commercial_loans(user),
    }


def _keyed(user: Any, qs: QuerySet[Any], name: str, by: str) -> tuple[QuerySet[Any], list[str]]:
    """``qs`` annotated with the columns of the group key of ``by``."""
    from kvcredit.enterprises import selectors

    ent, district, bank, on = _PATHS[name]
    if by == "district":
        return qs.annotate(k_0=F(district)), ["k_0"]
    if by == "bank":
        return qs.annotate(k_0=F(bank)), ["k_0"]
    if by == "month":
        return qs.annotate(k_0=TruncMonth(on)), ["k_0"]
    lines = selectors.credit_lines(user).order_by().filter(enterprise_id=OuterRef(ent))
    if by == "grade":
        return qs.annotate(
            k_0=Subquery(lines.values("evaluation__grade")[:1]),
            k_1=Subquery(lines.values("evaluation__eligible")[:1]),
        ), ["k_0", "k_1"]
    return qs.annotate(k_0=Subquery(lines.values("evaluation__submission__data__industry")[:1])), [
        "k_0"
    ]


def _label(by: str, key: tuple[Any, ...]) -> str:
    if by == "month":
        return str(key[0].isoformat()[:7])
    if by == "grade":
        grade, eligible = key
        return str((grade or NOT_RATED) if eligible else NOT_RATED)
    if by == "industry":
        return str(key[0] or "") or "—"
    return str(key[0])


def _measures(name: str) -> dict[str, Any]:
    ent = _PATHS[name][0]
    if name == "loans":
        return {
            "n": Count("id"),
            "fen": Sum("amount_fen"),
            "ents": Count(ent, distinct=True),
            "first": Count(ent, distinct=True, filter=Q(first_time_borrower=True)),
        }
    return {"n": Count("id"), "fen": Sum("amount_fen")}


_FIELDS = {
    "loans": {
        "n": "enterprise_times",
        "fen": "amount_lent_fen",
        "ents": "enterprises",
        "first": "first_time_borrowers",
    },
    "paid": {"fen": "compensation_paid_fen"},
    "recovered": {"fen": "recovered_fen"},
    "commercial": {"n": "commercial_loans", "fen": "commercial_amount_fen"},
}


def breakdown(
    user: Any,
    *,
    by: str,
    date_from: Any = None,
    date_to: Any = None,
    order: Sequence[str] = (),
    loans_only: bool = False,
) -> tuple[Headline, list[Headline]]:
    """The window's total and one ``Headline`` per value of ``by``, as ``aggregate.breakdown``
    gives them over ``programme.activity(user)``: groups of ``order`` first (kept when empty),
    then the others sorted. ``loans_only`` leaves compensation, recoveries and commercial
    loans out (the page's monthly chart)."""
    if by not in DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}")
    total: dict[str, int] = defaultdict(int)
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, qs in _sources(user).items():
        if loans_only and name != "loans":
            continue
        on = _PATHS[name][3]
        qs = qs.order_by().filter(**{f"{on}__isnull": False})
        if date_from:
            qs = qs.filter(**{f"{on}__gte": date_from})
        if date_to:
            qs = qs.filter(**{f"{on}__lte": date_to})
        fields = _FIELDS[name]
        measures = _measures(name)
        got = qs.aggregate(**measures)
        for m, field in fields.items():
            total[field] += int(got[m] or 0)
        keyed, cols = _keyed(user, qs, name, by)
        for row in keyed.values(*cols).annotate(**measures).values(*cols, *measures):
            label = _label(by, tuple(row[c] for c in cols))
            for m, field in fields.items():
                groups[label][field] += int(row[m] or 0)
    labels = [*order, *sorted(set(groups) - set(order))]
    return (
        Headline(label="", **total),
        [Headline(label=k, **groups.get(k, {})) for k in labels],
    )
