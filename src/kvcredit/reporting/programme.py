"""Programme figures for the acting user, read through the apps' selectors (scoped)."""

from __future__ import annotations

from typing import Any

from kvcredit.accounts.permissions import sees_everything
from kvcredit.enterprises import selectors
from kvcredit.enterprises.evaluating import compiled_policy
from kvcredit.reporting.aggregate import EnterpriseRow, ProgrammeFigures, programme_figures


def grade_order() -> list[str]:
    """The grades of the policy in force, best first (empty when none is published)."""
    current = selectors.current_policy()
    if current is None:
        return []
    c = compiled_policy(current).compiled
    return list(c.grade_names) if c.graded else []


def enterprise_rows(user: Any) -> list[EnterpriseRow]:
    lines = selectors.credit_lines(user).values_list(
        "enterprise__district__name", "evaluation__grade", "evaluation__eligible", "limit_fen"
    )
    return [
        EnterpriseRow(district=d, grade=g if ok else None, limit_fen=fen) for d, g, ok, fen in lines
    ]


def figures(user: Any) -> ProgrammeFigures:
    """Enterprises by district, grade mix and total credit, within what ``user`` may see.

    Grouped in the database (a few rows per district and grade, whatever the book's size);
    ``figures_reference`` is the same figures from every line, kept for the tests."""
    from django.db.models import Count, Sum

    from kvcredit.reporting.aggregate import NOT_RATED, sum_by

    lines = selectors.credit_lines(user).order_by()
    per_district = list(
        lines.values_list("enterprise__district__name")
        .annotate(n=Count("id"), fen=Sum("limit_fen"))
        .values_list("enterprise__district__name", "n", "fen")
    )
    per_grade = list(
        lines.values_list("evaluation__grade", "evaluation__eligible")
        .annotate(n=Count("id"))
        .values_list("evaluation__grade", "evaluation__eligible", "n")
    )
    if sees_everything(user):
        districts = list(selectors.districts(user).values_list("name", flat=True))
    else:
        districts = sorted({d for d, _, _ in per_district})
    grades = grade_order()
    rated = [(g, n) for g, ok, n in per_grade if ok and g is not None]
    return ProgrammeFigures(
        enterprises=sum(n for _, n, _ in per_district),
        rated=sum(n for _, n in rated),
        total_limit_fen=sum(int(fen or 0) for _, _, fen in per_district),
        by_district=sum_by(((d, n) for d, n, _ in per_district), districts),
        limit_by_district_fen=sum_by(((d, int(fen or 0)) for d, _, fen in per_district), districts),
        grade_mix=sum_by(
            (((g if ok and g is not None else NOT_RATED), n) for g, ok, n in per_grade),
            [*grades, NOT_RATED],
        ),
    )


def figures_reference(user: Any) -> ProgrammeFigures:
    """``figures`` computed in Python from every credit line (the tests' reference)."""
    rows = enterprise_rows(user)
    if sees_everything(user):
        districts = list(selectors.districts(user).values_list("name", flat=True))
    else:
        districts = sorted({r.district for r in rows})
    return programme_figures(rows, districts=districts, grades=grade_order())


# -- lending and fund figures ---------------------------------------------------------------
def _profiles(user: Any, enterprise_ids: set[int]) -> dict[int, tuple[str, str]]:
    """(grade, industry) of each enterprise from its credit line's evaluation."""
    from django.db.models import F

    from kvcredit.reporting.aggregate import NOT_RATED

    rows = (
        selectors.credit_lines(user)
        .filter(enterprise_id__in=enterprise_ids)
        .values_list(
            "enterprise_id",
            "evaluation__grade",
            "evaluation__eligible",
            F("evaluation__submission__data__industry"),
        )
    )
    return {
        e: ((g or NOT_RATED) if ok else NOT_RATED, str(ind or "") or "—") for e, g, ok, ind in rows
    }


def activity(user: Any) -> dict[str, list[Any]]:
    """Every loan, compensation payment, recovery and commercial loan the user may see, as
    the pure rows of ``reporting.aggregate`` (scoped by the lending and fund selectors)."""
    from kvcredit.fund import selectors as fund_selectors
    from kvcredit.lending import selectors as lending_selectors
    from kvcredit.reporting.aggregate import LoanRow, MoneyRow

    loans = list(
        lending_selectors.loans(user).values_list(
            "enterprise_id",
            "disbursed_on",
            "district__name",
            "bank__name",
            "amount_fen",
            "first_time_borrower",
        )
    )
    claims = fund_selectors.claims(user)
    paid = list(
        claims.filter(paid_on__isnull=False).values_list(
            "loan__enterprise_id", "paid_on", "loan__district__name", "bank__name", "amount_fen"
        )
    )
    recovered = list(
        claims.filter(pool_recovered_fen__gt=0).values_list(
            "loan__enterprise_id",
            "recoveries__recovered_on",
            "loan__district__name",
            "bank__name",
            "recoveries__amount_fen",
        )
    )
    commercial = list(
        lending_selectors.commercial_loans(user).values_list(
            "enterprise_id", "loan_date", "enterprise__district__name", "bank__name", "amount_fen"
        )
    )
    ids = {r[0] for r in [*loans, *paid, *recovered, *commercial]}
    prof = _profiles(user, ids)

    def money(rows: list[Any]) -> list[MoneyRow]:
        out = []
        for e, on, d, b, fen in rows:
            if on is None:
                continue
            g, ind = prof.get(e, ("NOT_RATED", "—"))
            out.append(MoneyRow(on.isoformat(), d, b, g, ind, int(fen), e))
        return out

    loan_rows = []
    for e, on, d, b, fen, first in loans:
        g, ind = prof.get(e, ("NOT_RATED", "—"))
        loan_rows.append(LoanRow(e, on.isoformat(), d, b, g, ind, int(fen), bool(first)))
    return {
        "loans": loan_rows,
        "paid": money(paid),
        "recovered": money(recovered),
        "commercial": money(commercial),
    }


def pool_balances(user: Any, *, as_of: Any = None) -> list[tuple[str, int]]:
    """Cash in each pool the user may see (fen), by district."""
    from kvcredit.fund import selectors as fund_selectors
    from kvcredit.fund.domain.ledger import PoolAccount

    pools = list(fund_selectors.pools(user).select_related("district").order_by("district__code"))
    return [
        (s.pool.district.name, s.balance(PoolAccount.BANK))
        for s in fund_selectors.pool_summaries(pools, as_of=as_of)
    ]


def statistics(
    user: Any, *, by: str = "district", date_from: Any = None, date_to: Any = None
) -> dict[str, Any]:
    """The headline figures for a window, broken down by ``by``, with the pool balances.

    Aggregated in the database (``reporting.sql``): a few queries whose rows are the groups,
    whatever the book's size."""
    from kvcredit.fund import subsidies
    from kvcredit.reporting import sql

    order = grade_order() if by == "grade" else []
    total, groups = sql.breakdown(user, by=by, date_from=date_from, date_to=date_to, order=order)
    by_month = sql.breakdown(
        user, by="month", date_from=date_from, date_to=date_to, loans_only=True
    )[1]
    return {
        "by": by,
        "total": total,
        "groups": groups,
        "by_month": by_month,
        "pools": pool_balances(user, as_of=date_to),
        # interest subsidies paid in the window, and the loans granted a deferral (forbearance)
        "subsidies": subsidies.totals(user, start=date_from, end=date_to),
        "deferred": deferred_loans(user, date_from=date_from, date_to=date_to),
    }


def breakdown_reference(
    user: Any, *, by: str = "district", date_from: Any = None, date_to: Any = None
) -> tuple[Any, list[Any], list[Any]]:
    """(total, groups, by_month) computed in Python from every row (the tests' reference)."""
    from kvcredit.reporting.aggregate import breakdown

    rows = activity(user)
    order = grade_order() if by == "grade" else []
    start = date_from.isoformat() if date_from else None
    end = date_to.isoformat() if date_to else None
    total, groups = breakdown(
        rows["loans"],
        by=by,
        paid=rows["paid"],
        recovered=rows["recovered"],
        commercial=rows["commercial"],
        order=order,
        date_from=start,
        date_to=end,
    )
    by_month = breakdown(rows["loans"], by="month", date_from=start, date_to=end)[1]
    return total, groups, by_month


def deferred_loans(user: Any, *, date_from: Any = None, date_to: Any = None) -> int:
    """Loans the user may see that were granted a deferral in the window."""
    from kvcredit.lending.models import Deferral, DeferralStatus
    from kvcredit.lending.selectors import loans

    qs = Deferral.objects.filter(status=DeferralStatus.GRANTED, loan__in=loans(user))
    if date_from:
        qs = qs.filter(decided_on__gte=date_from)
    if date_to:
        qs = qs.filter(decided_on__lte=date_to)
    return qs.values("loan_id").distinct().count()
